/**
 * A function with [dependencies] against one without (issue 16's goal: a
 * second function using already-built crates compiles in under 1.5× the
 * time of a dependency-free one). The allowed crates (regex; serde with
 * its derive and serde_json, from Debian's directory registry) are built
 * once, timed once: regex by `plrust deps build`, serde with serde_json (one
 * unit) by the first `plrust build` that uses them. Then `plrust build` of
 * each fixture, cold (artifact cache emptied before every run), interleaved.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BIN, FIXTURES, FUNCTION_FIXTURE, homeWithSharedToolchain, plrustEnv, sharedInfo } from './common.js';
import { fmtCpu, fmtMs, goal, interleave, measure, runCount, sharedMachineNote, table } from './stats.js';
import { removeScratch, scratchDir, step } from './scratch.js';

const RUNS = runCount(10);
const DEPS_FIXTURE = path.join(FIXTURES, 'regex-words.sql');
const SERDE_FIXTURE = path.join(FIXTURES, 'serde-point.sql');

export async function benchDeps(): Promise<string> {
  const tc = await step('deps: the shared toolchain', sharedInfo);
  const dir = scratchDir('deps');
  try {
    const home = homeWithSharedToolchain(dir, tc);
    const allowed = path.join(dir, 'allowed.toml');
    fs.writeFileSync(
      allowed,
      'regex = ">=1.7, <2"\nserde = { version = "=1.0.152", features = ["derive"] }\nserde_json = "*"\n',
    );
    const out = path.join(dir, 'out');
    const prebuild = await step('deps: plrust deps build (regex, x86_64)', () =>
      measure(process.execPath, [BIN, 'deps', 'build', '--allowed', allowed, '--target', 'x86_64'], {
        env: plrustEnv(home),
      }),
    );
    const firstSerde = await step('deps: first use of serde with serde_json (x86_64)', () =>
      measure(
        process.execPath,
        [BIN, 'build', SERDE_FIXTURE, '--target', 'x86_64', '--allowed', allowed, '--out-dir', path.join(dir, 'o1')],
        { env: plrustEnv(home) },
      ),
    );
    const variant = (name: string, fixture: string) => ({
      name,
      cmd: process.execPath,
      args: [BIN, 'build', fixture, '--target', 'x86_64', '--allowed', allowed, '--out-dir', out],
      opts: { env: plrustEnv(home) },
      before: () => fs.rmSync(path.join(home, 'cache'), { recursive: true, force: true }),
    });
    const r = await step('deps: timing', () =>
      interleave(
        [variant('plain', FUNCTION_FIXTURE), variant('regex', DEPS_FIXTURE), variant('serde', SERDE_FIXTURE)],
        RUNS,
        1,
      ),
    );
    const plain = r.get('plain')!;
    const withDeps = r.get('regex')!;
    const serde = r.get('serde')!;
    const ratio = withDeps.wallMs / plain.wallMs;
    const serdeRatio = serde.wallMs / plain.wallMs;
    const row = (what: string, s: typeof plain, g = ''): string[] => [
      what,
      fmtMs(s.wallMs),
      `${fmtMs(s.minMs)}–${fmtMs(s.maxMs)}`,
      fmtCpu(s.cpuMs),
      g,
    ];
    return [
      `${sharedMachineNote({ cpu: true })} Median of ${RUNS} runs per row (after 1 warm-up round), rows interleaved; the artifact cache is emptied before every run, the dependency store is not.`,
      '',
      `\`plrust deps build --allowed <regex = ">=1.7, <2"> --target x86_64\` (cargo, offline, from /usr/share/cargo/registry: regex 1.7.1 with aho-corasick, memchr and regex-syntax, in the compiler's sandbox) took ${fmtMs(prebuild.wallMs)} once (it builds all three entries, each alone; the serde entry builds serde_derive with syn, quote and proc-macro2); the first \`plrust build\` of serde-point.sql built serde with serde_json, one unit, in ${fmtMs(firstSerde.wallMs)} once. Then \`plrust build <fixture> --target x86_64 --allowed <file>\`:`,
      '',
      table(
        ['`plrust build`, cold, x86_64', 'median wall', 'min–max', 'median CPU', 'goal'],
        [
          row('slugify.sql, no dependencies', plain),
          row(
            'regex-words.sql, `regex = "1"` (links the stored rlibs)',
            withDeps,
            `under 1.5× the first: ${ratio.toFixed(2)}× ${goal(ratio < 1.5)}`,
          ),
          row(
            "serde-point.sql, serde's derive and serde_json (expanded, checked, linked)",
            serde,
            `under 1.5× the first: ${serdeRatio.toFixed(2)}× ${goal(serdeRatio < 1.5)}`,
          ),
        ],
      ),
      '',
      "Linking the stored crates costs little (the regex row). A derive is different: serde's derive writes its visitors into the function, and serde_json's generic code is instantiated for the function's types there, so both are compiled, expanded and checked with the function each time; no store can hold code that depends on the function's own types.",
    ].join('\n');
  } finally {
    removeScratch(dir);
  }
}
