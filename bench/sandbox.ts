/**
 * What the compiler's box costs per compile: `plrust build` cold of the
 * 20-line fixture with the sandbox and with --no-sandbox, and the bare rustc
 * command against the same command run through the planner's bwrap +
 * prlimit line (src/confine/plan.ts), interleaved in one run.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  BIN,
  FUNCTION_FIXTURE,
  RUSTC,
  homeWithSharedToolchain,
  plrustEnv,
  resolvedToolchain,
  sharedInfo,
} from './common.js';
import { fmtCpu, fmtMs, goal, interleave, runCount, sharedMachineNote, table, type Variant } from './stats.js';
import { removeScratch, scratchDir, step } from './scratch.js';
import { cleanEnv } from '../test/helpers/cli.js';
import { readDefinitions } from '../src/functions/inputs.js';
import { instrument } from '../src/analysis/instrument.js';
import { generateCrate, rustcArgs, RUSTC_ENV, USER_MODULE_FILE, WRAPPER_FILE } from '../src/compile/generate.js';
import { targetOf } from '../src/toolchain/store.js';
import { DEFAULT_SETTINGS, planRun } from '../src/confine/plan.js';
import { hostFacts } from '../src/confine/run.js';
import { toolchainDirs } from '../src/compile/compile-function.js';
import type { Arch } from '../src/config/schema.js';

const RUNS = runCount(10);

export async function benchSandbox(): Promise<string> {
  const tc = await step('sandbox: the shared toolchain', sharedInfo);
  const dir = scratchDir('sandbox');
  try {
    const out = path.join(dir, 'out');
    const targetSets: Arch[][] = [['x86_64'], ['aarch64'], ['x86_64', 'aarch64']];
    const label = (ts: Arch[]) => ts.join(' + ');
    const homes = {
      boxed: homeWithSharedToolchain(path.join(dir, 'boxed'), tc),
      open: homeWithSharedToolchain(path.join(dir, 'open'), tc),
    };
    const build: Variant[] = targetSets.flatMap((ts) =>
      (['boxed', 'open'] as const).map((mode) => ({
        name: `build ${mode} ${label(ts)}`,
        cmd: process.execPath,
        args: [
          BIN,
          'build',
          FUNCTION_FIXTURE,
          '--target',
          ts.join(','),
          '--out-dir',
          out,
          ...(mode === 'open' ? ['--no-sandbox'] : []),
        ],
        opts: { env: plrustEnv(homes[mode]) },
        before: () => fs.rmSync(path.join(homes[mode], 'cache'), { recursive: true, force: true }),
      })),
    );

    const [def] = readDefinitions([FUNCTION_FIXTURE]);
    if (!def) throw new Error(`${FUNCTION_FIXTURE} defines no function`);
    const crate = generateCrate(def, instrument(def.source, 'fn-body'));
    const rustc: Variant[] = (['x86_64', 'aarch64'] as Arch[]).flatMap((arch) => {
      const t = targetOf(resolvedToolchain(tc), arch);
      const base = path.join(dir, `rustc-${arch}`);
      const src = path.join(base, 'src');
      const lib = path.join(base, 'out');
      fs.mkdirSync(src, { recursive: true });
      fs.mkdirSync(lib, { recursive: true });
      fs.writeFileSync(path.join(src, WRAPPER_FILE), crate.source);
      fs.writeFileSync(path.join(src, USER_MODULE_FILE), crate.userModule);
      const args = (at: { src: string; out: string }) =>
        rustcArgs({
          sysroot: t.sysrootPath,
          targetSpec: t.specPath,
          runtimeRlib: t.runtimePath,
          src: path.join(at.src, WRAPPER_FILE),
          out: path.join(at.out, 'lib.so'),
        });
      const plan = planRun(
        {
          program: RUSTC,
          args,
          readOnly: toolchainDirs(resolvedToolchain(tc), RUSTC),
          src,
          out: lib,
          env: { ...RUSTC_ENV },
        },
        DEFAULT_SETTINGS,
        hostFacts(),
      );
      const clear = () => fs.rmSync(path.join(lib, 'lib.so'), { force: true });
      return [
        {
          name: `rustc open ${arch}`,
          cmd: RUSTC,
          args: args({ src, out: lib }),
          opts: { env: { ...cleanEnv(), ...RUSTC_ENV }, cwd: src },
          before: clear,
        },
        { name: `rustc boxed ${arch}`, cmd: plan.command, args: plan.args, opts: { env: plan.env }, before: clear },
      ];
    });

    const r = await step('sandbox: timing', () => interleave([...build, ...rustc], RUNS, 1));
    const get = (name: string) => r.get(name)!;
    const rows = [
      ...targetSets.map(
        (ts) =>
          [
            `\`plrust build\` cold, ${label(ts)}`,
            get(`build boxed ${label(ts)}`),
            get(`build open ${label(ts)}`),
          ] as const,
      ),
      ...(['x86_64', 'aarch64'] as const).map(
        (a) => [`rustc alone, ${a}`, get(`rustc boxed ${a}`), get(`rustc open ${a}`)] as const,
      ),
    ].map(([what, boxed, open]) => {
      const extra = (boxed.wallMs - open.wallMs) / open.wallMs;
      return [
        what,
        fmtMs(boxed.wallMs),
        `${fmtMs(open.wallMs)} (${fmtCpu(open.cpuMs)} CPU)`,
        `${extra >= 0 ? '+' : ''}${(extra * 100).toFixed(1)} %`,
        what.startsWith('`plrust build`')
          ? `≤ 10 % and under 1 s: ${goal(extra <= 0.1 && boxed.wallMs < 1000)}`
          : `≤ 10 %: ${goal(extra <= 0.1)}`,
      ];
    });
    return [
      `${sharedMachineNote({ cpu: true })} Median of ${RUNS} runs per row (after 1 warm-up round), all rows interleaved round-robin in the same run.`,
      '',
      'Sandboxed: rustc runs under bubblewrap (new user, mount, pid, network, IPC, UTS and cgroup namespaces; only the system directories, the toolchain and the job visible; a 64 MB tmpfs for scratch) and prlimit (1 GB address space, 60 s CPU, 16 MB per file, 64 tasks). Unsandboxed: `--no-sandbox`, prlimit only. "rustc alone" is the exact command plrust runs, bare and through the planner\'s command line. `plrust build` cold deletes the artifact cache before every run.',
      '',
      table(['compile', 'sandboxed (wall)', 'unsandboxed (wall, CPU)', 'sandbox cost', 'goal'], rows),
      '',
      "The sandboxed rows have no CPU figure: rustc runs in a PID namespace whose init bwrap does not reap through the measured process, so its CPU time never reaches the benchmark's rusage.",
    ].join('\n');
  } finally {
    removeScratch(dir);
  }
}
