/**
 * `plrust build` of a 20-line function (bench/fixtures/slugify.sql), cold
 * (empty artifact cache) and warm (cache hit), and for reference the same
 * generated crate built by cargo, and by the bare rustc command plrust runs.
 *
 * The cargo project is made fair by giving it exactly what plrust compiles:
 * the generated lib.rs and user.rs (instrumented, as plrust generates them),
 * the same sysroot, target spec and runtime rlib, and the same code
 * generation settings (opt-level 2, overflow checks, one codegen unit,
 * stripped, panic=unwind) as a release profile, with the flags cargo has no
 * profile key for (--sysroot, --extern of the runtime, -Zallow-features=)
 * through RUSTFLAGS. No -Zbuild-std: std comes from the sysroot.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  BIN,
  CARGO,
  FUNCTION_FIXTURE,
  RUSTC,
  homeWithSharedToolchain,
  plrustEnv,
  resolvedToolchain,
  sharedInfo,
  type SharedInfo,
} from './common.js';
import {
  fmtCpu,
  fmtMs,
  goal,
  interleave,
  measure,
  runCount,
  sharedMachineNote,
  table,
  type Measurement,
  type Summary,
  type Variant,
} from './stats.js';
import { removeScratch, scratchDir, step } from './scratch.js';
import { cleanEnv } from '../test/helpers/cli.js';
import { readDefinitions } from '../src/functions/inputs.js';
import { instrument } from '../src/analysis/instrument.js';
import {
  generateCrate,
  rustcArgs,
  USER_MODULE_FILE,
  WRAPPER_FILE,
  type GeneratedCrate,
} from '../src/compile/generate.js';
import { targetOf } from '../src/toolchain/store.js';
import { expansionArgs } from '../src/compile/expand.js';
import type { Arch } from '../src/config/schema.js';

const RUNS = runCount(10);
const ARCHES: Arch[] = ['x86_64', 'aarch64'];

/** The fixture's body lines, for the section text. */
function bodyLines(file: string): number {
  const m = fs.readFileSync(file, 'utf8').match(/AS \$\$\n([\s\S]*?)\n\$\$/);
  if (!m) throw new Error(`${file}: no $$-quoted body`);
  return m[1]!.split('\n').length;
}

function fromCache(expected: 'none' | 'all', targets: number) {
  return (m: Measurement): void => {
    const n = Number(m.stdout.match(/\((\d+) from cache\)/)?.[1] ?? NaN);
    const want = expected === 'none' ? 0 : targets;
    if (n !== want)
      throw new Error(`expected ${want} of ${targets} artifacts from the cache, plrust build said:\n${m.stdout}`);
  };
}

function generated(): GeneratedCrate {
  const [def] = readDefinitions([FUNCTION_FIXTURE]);
  if (!def) throw new Error(`${FUNCTION_FIXTURE} defines no function`);
  return generateCrate(def, instrument(def.source, 'fn-body'));
}

function writeCrate(dir: string, crate: GeneratedCrate): string {
  const src = path.join(dir, 'src');
  fs.mkdirSync(src, { recursive: true });
  fs.writeFileSync(path.join(src, WRAPPER_FILE), crate.source);
  fs.writeFileSync(path.join(src, USER_MODULE_FILE), crate.userModule);
  return src;
}

const CARGO_TOML = `[package]
name = "plrust_fn"
version = "0.0.0"
edition = "2021"

[lib]
path = "src/lib.rs"
crate-type = ["cdylib"]

# The code generation settings plrust passes to rustc.
[profile.release]
opt-level = 2
overflow-checks = true
debug = 0
strip = "symbols"
codegen-units = 1
panic = "unwind"
`;

interface CargoProject {
  dir: string;
  env: NodeJS.ProcessEnv;
  args: string[];
}

function cargoProject(
  dir: string,
  crate: GeneratedCrate,
  tc: SharedInfo,
  arch: Arch,
  cargoHome: string,
  extraEnv: NodeJS.ProcessEnv = {},
): CargoProject {
  const t = targetOf(resolvedToolchain(tc), arch);
  writeCrate(dir, crate);
  fs.writeFileSync(path.join(dir, 'Cargo.toml'), CARGO_TOML);
  const rustflags = [
    '-Zunstable-options',
    '--sysroot',
    t.sysrootPath,
    '-Zallow-features=',
    '--extern',
    `plrust_rt=${t.runtimePath}`,
    '-L',
    `dependency=${path.dirname(t.runtimePath)}`,
  ];
  const env: NodeJS.ProcessEnv = {
    ...cleanEnv(),
    RUSTC,
    RUSTC_BOOTSTRAP: '1',
    CARGO_HOME: cargoHome,
    CARGO_TARGET_DIR: path.join(dir, 'target'),
    CARGO_ENCODED_RUSTFLAGS: rustflags.join('\x1f'),
    CARGO_TERM_COLOR: 'never',
    ...extraEnv,
  };
  for (const k of ['RUSTFLAGS', 'RUSTC_WRAPPER', 'RUSTC_WORKSPACE_WRAPPER', 'CARGO_BUILD_TARGET']) delete env[k];
  return { dir, env, args: ['build', '--release', '--offline', '-Zjson-target-spec', '--target', t.specPath] };
}

function cargoVariant(name: string, p: CargoProject, before?: () => void): Variant {
  return {
    name,
    cmd: CARGO,
    args: p.args,
    opts: { cwd: p.dir, env: p.env },
    ...(before ? { before } : {}),
  };
}

export async function benchBuild(): Promise<string> {
  const tc = await step('build: the shared toolchain', sharedInfo);
  const dir = scratchDir('build');
  try {
    const coldHome = homeWithSharedToolchain(path.join(dir, 'cold'), tc);
    const warmHome = homeWithSharedToolchain(path.join(dir, 'warm'), tc);
    const out = path.join(dir, 'out');
    const targetSets: Arch[][] = [['x86_64'], ['aarch64'], ['x86_64', 'aarch64']];
    const label = (ts: Arch[]) => ts.join(' + ');
    const plrust: Variant[] = targetSets.flatMap((ts) => {
      const args = [BIN, 'build', FUNCTION_FIXTURE, '--target', ts.join(','), '--out-dir', out];
      return [
        {
          name: `plrust cold ${label(ts)}`,
          cmd: process.execPath,
          args,
          opts: { env: plrustEnv(coldHome) },
          before: () => fs.rmSync(path.join(coldHome, 'cache'), { recursive: true, force: true }),
          check: fromCache('none', ts.length),
        },
        {
          name: `plrust warm ${label(ts)}`,
          cmd: process.execPath,
          args,
          opts: { env: plrustEnv(warmHome) },
          check: fromCache('all', ts.length),
        },
      ];
    });
    const crate = generated();
    const cargoHome = path.join(dir, 'cargo-home');
    const reference: Variant[] = ARCHES.flatMap((arch) => {
      const t = targetOf(resolvedToolchain(tc), arch);
      const rustcSrc = writeCrate(path.join(dir, `rustc-${arch}`), crate);
      const lib = path.join(dir, `rustc-${arch}`, 'lib.so');
      const cold = cargoProject(path.join(dir, `cargo-cold-${arch}`), crate, tc, arch, cargoHome);
      const warm = cargoProject(path.join(dir, `cargo-warm-${arch}`), crate, tc, arch, cargoHome);
      const incr = cargoProject(path.join(dir, `cargo-incr-${arch}`), crate, tc, arch, cargoHome, {
        CARGO_PROFILE_RELEASE_INCREMENTAL: 'true',
      });
      const userRs = path.join(incr.dir, 'src', USER_MODULE_FILE);
      if (!crate.userModule.includes('max_len must be positive'))
        throw new Error(`${FUNCTION_FIXTURE}: the text the incremental runs edit is gone`);
      let edits = 0;
      // A one-character change of a string in the body, alternating, so every run recompiles something.
      const edit = () =>
        fs.writeFileSync(
          userRs,
          crate.userModule.replace(
            'max_len must be positive',
            ++edits % 2 ? 'max_len must be positive!' : 'max_len must be positive',
          ),
        );
      const compileArgs = rustcArgs({
        sysroot: t.sysrootPath,
        targetSpec: t.specPath,
        runtimeRlib: t.runtimePath,
        src: path.join(rustcSrc, WRAPPER_FILE),
        out: lib,
      });
      return [
        {
          name: `expand ${arch}`,
          cmd: RUSTC,
          args: expansionArgs(compileArgs, path.join(dir, `rustc-${arch}`, 'expanded.rs')),
          opts: { env: { ...cleanEnv(), RUSTC_BOOTSTRAP: '1' }, cwd: rustcSrc },
        },
        {
          name: `rustc ${arch}`,
          cmd: RUSTC,
          args: compileArgs,
          opts: { env: { ...cleanEnv(), RUSTC_BOOTSTRAP: '1' }, cwd: rustcSrc },
          before: () => fs.rmSync(lib, { force: true }),
        },
        cargoVariant(`cargo cold ${arch}`, cold, () =>
          fs.rmSync(path.join(cold.dir, 'target'), { recursive: true, force: true }),
        ),
        cargoVariant(`cargo warm ${arch}`, warm),
        cargoVariant(`cargo incremental ${arch}`, incr, edit),
      ];
    });
    await step('build: filling the warm cache', () =>
      measure(process.execPath, [BIN, 'build', FUNCTION_FIXTURE, '--out-dir', out], { env: plrustEnv(warmHome) }),
    );
    const r = await step('build: timing', () => interleave([...plrust, ...reference], RUNS, 1));
    const get = (name: string): Summary => r.get(name)!;
    const row = (what: string, s: Summary, goalText = ''): string[] => [
      what,
      fmtMs(s.wallMs),
      `${fmtMs(s.minMs)}–${fmtMs(s.maxMs)}`,
      fmtCpu(s.cpuMs),
      goalText,
    ];
    const plrustRows = targetSets.flatMap((ts) => {
      const cold = get(`plrust cold ${label(ts)}`);
      const warm = get(`plrust warm ${label(ts)}`);
      return [
        row(`cold, ${label(ts)}`, cold, `under 1.0 s: ${goal(cold.wallMs < 1000)}`),
        row(`warm (cache hit), ${label(ts)}`, warm, `under 0.3 s: ${goal(warm.wallMs < 300)}`),
      ];
    });
    const refRows = ARCHES.flatMap((arch) => [
      row(`bare rustc (the command plrust runs), ${arch}`, get(`rustc ${arch}`)),
      row(
        `rustc expansion for the trust check's second pass (included in plrust cold), ${arch}`,
        get(`expand ${arch}`),
      ),
      row(`cargo, cold (empty target dir), ${arch}`, get(`cargo cold ${arch}`)),
      row(`cargo, nothing changed (fingerprint hit), ${arch}`, get(`cargo warm ${arch}`)),
      row(`cargo, one-string edit with incremental = true, ${arch}`, get(`cargo incremental ${arch}`)),
    ]);
    const both = get('plrust cold x86_64 + aarch64');
    return [
      `${sharedMachineNote({ cpu: true })} Median of ${RUNS} runs per row (after 1 warm-up round), all rows interleaved round-robin in the same run; min–max shows the spread.`,
      '',
      `The function: \`slugify(title text, max_len int4) RETURNS text\` from \`bench/fixtures/slugify.sql\`, a ${bodyLines(FUNCTION_FIXTURE)}-line body (a loop over an iterator chain, an early \`Err\`, a \`String\` result). \`plrust build <file> --target <t> --out-dir <dir>\` as a user runs it (node start-up, parse, trust check, instrumentation, rustc, symbol allowlist, outputs), with the suite's shared toolchain linked into a PLRUST_HOME of the benchmark's own: cold runs delete its artifact cache before every run; warm runs find both artifacts there. With both targets plrust runs the two rustc processes in parallel (2 cores).`,
      '',
      table(['`plrust build`', 'median wall', 'min–max', 'median CPU', 'goal'], plrustRows),
      '',
      `Reference: the same generated crate (lib.rs + user.rs, identical to plrust's) built without plrust. Bare rustc is \`rustcArgs()\`, the exact command plrust runs, so the difference between it and \`plrust build\` cold for one target is plrust's own cost. Part of that cost is the expansion row: the other rustc run of a cold build, \`rustc … -Zunpretty=expanded,hygiene\` on the same command line, whose printed crate the trust checker checks a second time (that check itself takes a few ms of node time). The cargo project is a \`cdylib\` crate whose release profile has plrust's code generation settings (opt-level 2, overflow checks, 1 codegen unit, strip, panic=unwind); \`--sysroot\` (the same sysroot), \`--extern plrust_rt=<the toolchain's runtime rlib>\` and \`-Zallow-features=\` go through RUSTFLAGS, and cargo gets \`--release --offline -Zjson-target-spec --target <the toolchain's spec>\` with RUSTC=${RUSTC}, RUSTC_BOOTSTRAP=1 (no \`-Zbuild-std\`). "Cold" deletes the target directory before each run; "nothing changed" reruns on an up-to-date target directory (cargo's equivalent of a cache hit); "incremental" alternates a one-character change in a string of the body with \`CARGO_PROFILE_RELEASE_INCREMENTAL=true\`.`,
      '',
      table(
        ['reference build', 'median wall', 'min–max', 'median CPU', ''],
        refRows.map((x) => x.slice(0, 4).concat([''])),
      ),
      '',
      `Both targets cold with plrust take ${fmtMs(both.wallMs)}; the same two builds with cargo cold take ${fmtMs(get('cargo cold x86_64').wallMs + get('cargo cold aarch64').wallMs)} one after the other.`,
    ].join('\n');
  } finally {
    removeScratch(dir);
  }
}
