/**
 * `plrust toolchain install` against the bare `cargo build` of the same std:
 * the same prepared source (the same source-prep and restriction rules), the
 * same generated target specs, the same cargo arguments and environment.
 * Only the cargo builds are timed for the baseline; everything else plrust
 * does (copying and restricting the source, specs, the runtime crate, the
 * probe link, the manifest's checksums, the atomic publish) is its overhead.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BIN, CARGO, RUSTC, plrustEnv } from './common.js';
import {
  fmtBytes,
  fmtCpu,
  fmtMs,
  fmtPct,
  goal,
  loadAverage,
  measure,
  measureRuns,
  runCount,
  sharedMachineNote,
  summarise,
  table,
  type Measurement,
} from './stats.js';
import { removeScratch, scratchDir, step } from './scratch.js';
import { cleanEnv } from '../test/helpers/cli.js';
import { readManifest, type ToolchainManifest } from '../src/toolchain/manifest.js';
import { prepareSource } from '../src/toolchain/prepare.js';
import { applyRestriction } from '../src/toolchain/restrict.js';
import { cargoBuildArgs, cargoEnv } from '../src/toolchain/build-std.js';
import { generateSpec } from '../src/targets/spec.js';
import { hostArch, loadTargetDefinition, tripleOf } from '../src/targets/definitions.js';
import type { Arch } from '../src/config/schema.js';

const INSTALL_TIMEOUT_MS = 90 * 60_000;
const REINSTALL_RUNS = runCount(5);

interface InstallJson {
  id: string;
  status: string;
  path: string;
  built: Arch[];
}

function parseInstall(m: Measurement): InstallJson {
  try {
    return JSON.parse(m.stdout) as InstallJson;
  } catch {
    throw new Error(`plrust toolchain install --json printed no JSON document:\n${m.stdout}\n${m.stderr}`);
  }
}

/** The targets in the order the install built them. */
function buildOrder(manifest: ToolchainManifest): ToolchainManifest['targets'] {
  return [...manifest.targets].sort((a, b) => a.builtAt.localeCompare(b.builtAt));
}

/** Bytes of the manifest's files under `prefix` (a directory relative to the toolchain). */
function bytesUnder(manifest: ToolchainManifest, prefix: string): { bytes: number; files: number } {
  const files = manifest.files.filter((f) => f.path.startsWith(`${prefix}/`));
  return { bytes: files.reduce((n, f) => n + f.size, 0), files: files.length };
}

interface BareBuild {
  arch: Arch;
  m: Measurement;
}

/** The baseline: plrust's own preparation functions (untimed), then `cargo build` per target (timed). */
async function bareCargoBuilds(
  work: string,
  manifest: ToolchainManifest,
): Promise<{ builds: BareBuild[]; prepMs: number }> {
  const logFile = path.join(work, 'prepare.log');
  const t0 = Date.now();
  const prepared = await step('bare build: preparing the std source', () =>
    prepareSource({
      originalLibrary: manifest.source.location,
      workDir: work,
      rustcVersion: manifest.rustc.version,
      cargo: CARGO,
      env: cleanEnv(),
      logFile,
    }),
  );
  await step('bare build: applying the restriction rules', () =>
    applyRestriction(prepared.libraryDir, manifest.rustc.version),
  );
  const specs = new Map<Arch, string>();
  for (const t of manifest.targets) {
    const spec = await generateSpec(RUSTC, loadTargetDefinition(t.arch), hostArch());
    const specPath = path.join(work, 'targets', `${tripleOf(t.arch)}.json`);
    fs.mkdirSync(path.dirname(specPath), { recursive: true });
    fs.writeFileSync(specPath, `${JSON.stringify(spec, null, 2)}\n`);
    specs.set(t.arch, specPath);
  }
  const prepMs = Date.now() - t0;
  const env = cargoEnv(cleanEnv(), RUSTC, path.join(work, 'cargo-home'), path.join(work, 'target'));
  const builds: BareBuild[] = [];
  for (const t of buildOrder(manifest)) {
    const m = await step(`bare cargo build for ${t.triple}`, () =>
      measure(CARGO, cargoBuildArgs(specs.get(t.arch)!), {
        cwd: prepared.libraryDir,
        env,
        timeoutMs: INSTALL_TIMEOUT_MS,
      }),
    );
    builds.push({ arch: t.arch, m });
  }
  return { builds, prepMs };
}

export async function benchToolchain(): Promise<string> {
  const dir = scratchDir('toolchain');
  try {
    const home = path.join(dir, 'home');
    const args = ['toolchain', 'install', '--rustc', RUSTC, '--target', 'all', '--json'];
    const loadBefore = loadAverage();
    const fresh = await step('fresh `plrust toolchain install`', () =>
      measure(process.execPath, [BIN, ...args], { env: plrustEnv(home), timeoutMs: INSTALL_TIMEOUT_MS }),
    );
    const installed = parseInstall(fresh);
    if (installed.status !== 'installed')
      throw new Error(`a fresh install into an empty home reported status ${installed.status}`);
    const manifest = readManifest(installed.path);
    if (!manifest) throw new Error(`the new toolchain at ${installed.path} has no readable manifest`);

    const reinstall = await step('reinstall', () =>
      measureRuns(process.execPath, [BIN, ...args], REINSTALL_RUNS, { env: plrustEnv(home), warmup: 1 }),
    );
    for (const r of reinstall) {
      const s = parseInstall(r).status;
      if (s !== 'unchanged')
        throw new Error(`a reinstall of the installed toolchain reported status ${s}, expected unchanged`);
    }
    const re = summarise(reinstall);

    const sizes = manifest.targets.map((t) => ({
      triple: t.triple,
      sysroot: bytesUnder(manifest, `${t.sysroot}/lib/rustlib/${t.triple}`),
      runtime: bytesUnder(manifest, path.dirname(t.runtime)),
    }));
    const total = manifest.files.reduce((n, f) => n + f.size, 0);

    const loadMiddle = loadAverage();
    const bareWork = path.join(dir, 'bare');
    fs.mkdirSync(bareWork);
    const bare = await bareCargoBuilds(bareWork, manifest);
    const bareWall = bare.builds.reduce((n, b) => n + b.m.wallMs, 0);
    const bareCpu = bare.builds.every((b) => b.m.cpuMs !== undefined)
      ? bare.builds.reduce((n, b) => n + b.m.cpuMs!, 0)
      : undefined;
    const overWall = fresh.wallMs / bareWall - 1;
    const overCpu = bareCpu !== undefined && fresh.cpuMs !== undefined ? fresh.cpuMs / bareCpu - 1 : undefined;

    const perTarget = buildOrder(manifest).map((t) => {
      const b = bare.builds.find((x) => x.arch === t.arch)!;
      return [`\`${t.triple}\``, `${t.buildSeconds.toFixed(1)} s`, fmtMs(b.m.wallMs), fmtCpu(b.m.cpuMs)];
    });

    return [
      `${sharedMachineNote({ cpu: true })} One fresh install and one bare build (each takes minutes), not a median: read the overhead with the machine's load in mind (1-minute load average ${loadBefore} before the install, ${loadMiddle} before the bare build). The reinstall is the median of ${REINSTALL_RUNS} runs after 1 warm-up run.`,
      '',
      `Fresh \`plrust toolchain install --rustc ${RUSTC} --target all\` into an empty PLRUST_HOME (std source: ${manifest.source.location}, ${manifest.rules.sourcePrep.length} source-prep and ${manifest.rules.std.length} restriction rules) against the bare baseline: a copy of the same source prepared by the same functions (\`prepareSource\`, \`applyRestriction\`, \`generateSpec\`; untimed, ${fmtMs(bare.prepMs)}), then only \`cargo ${cargoBuildArgs('<spec>.json').join(' ')}\` per target with the same environment (\`cargoEnv\`: RUSTC=${RUSTC}, RUSTC_BOOTSTRAP=1, RUSTFLAGS=-Zforce-unstable-if-unmarked, a fresh CARGO_HOME and one shared target directory, as the install uses).`,
      '',
      table(
        ['', 'wall', 'CPU', 'goal'],
        [
          ['`plrust toolchain install` (fresh, both targets)', fmtMs(fresh.wallMs), fmtCpu(fresh.cpuMs), ''],
          ['bare `cargo build`, both targets', fmtMs(bareWall), fmtCpu(bareCpu), ''],
          [
            'plrust overhead',
            fmtPct(overWall),
            overCpu === undefined ? 'n/a' : fmtPct(overCpu),
            `at most +10 %: ${goal(overWall <= 0.1)} (wall)${overCpu === undefined ? '' : `, ${goal(overCpu <= 0.1)} (CPU)`}`,
          ],
          [
            `reinstall of the installed toolchain (no-op), median of ${re.runs}`,
            fmtMs(re.wallMs),
            fmtCpu(re.cpuMs),
            `under 2 s: ${goal(re.wallMs < 2000)}`,
          ],
        ],
      ),
      '',
      'Per target (the install builds the targets one after the other; its time per target, from the manifest, includes the runtime crate and the probe link):',
      '',
      table(['target', 'install, per target', 'bare cargo build, wall', 'bare cargo build, CPU'], perTarget),
      '',
      'Size on disk of the installed toolchain (from its manifest):',
      '',
      table(
        ['target', 'sysroot (`lib/rustlib/<triple>`)', 'runtime crate'],
        sizes.map((s) => [
          `\`${s.triple}\``,
          `${fmtBytes(s.sysroot.bytes)} (${s.sysroot.files} files)`,
          fmtBytes(s.runtime.bytes),
        ]),
      ),
      '',
      `Whole toolchain: ${fmtBytes(total)} in ${manifest.files.length} files.`,
    ].join('\n');
  } finally {
    removeScratch(dir);
  }
}
