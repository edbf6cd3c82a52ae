/**
 * `cargo build` of the sysroot crate for one postgres target, with cargo's
 * output folded into a progress count and kept whole in the build log.
 */
import fs from 'node:fs';
import path from 'node:path';
import { exec } from '../util/exec.js';
import { PlrustError } from '../util/errors.js';

export const STD_FEATURES = ['compiler-builtins-mem', 'panic-unwind'];
export const STD_RUSTFLAGS = ['-Zforce-unstable-if-unmarked'];
export const STD_PROFILE = 'release';

/** Pure: the cargo invocation, shared with the benchmark's bare-cargo baseline. */
export function cargoBuildArgs(specPath: string): string[] {
  return [
    'build',
    '-Zjson-target-spec',
    '-p',
    'sysroot',
    `--${STD_PROFILE}`,
    '--offline',
    '--target',
    specPath,
    '--features',
    STD_FEATURES.join(','),
  ];
}

export function cargoEnv(
  base: NodeJS.ProcessEnv,
  rustc: string,
  cargoHome: string,
  targetDir: string,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...base,
    // cargo must use the chosen rustc, not whatever `rustc` is first on PATH (rustup's shim, say).
    RUSTC: rustc,
    RUSTC_BOOTSTRAP: '1',
    RUSTFLAGS: STD_RUSTFLAGS.join(' '),
    CARGO_HOME: cargoHome,
    CARGO_TARGET_DIR: targetDir,
    CARGO_TERM_COLOR: 'never',
    CARGO_TERM_PROGRESS_WHEN: 'never',
  };
  for (const k of [
    'RUSTC_WRAPPER',
    'RUSTC_WORKSPACE_WRAPPER',
    'CARGO_ENCODED_RUSTFLAGS',
    'CARGO_BUILD_TARGET',
    'RUSTDOCFLAGS',
  ])
    delete env[k];
  return env;
}

/** The last lines worth showing from a failed build: errors and what follows them. */
export function relevantLogLines(log: string, max = 15): string[] {
  const lines = log.split('\n');
  const firstError = lines.findIndex((l) => /^error(\[E\d+\])?:/.test(l));
  const from = firstError >= 0 ? firstError : Math.max(0, lines.length - max);
  return lines.slice(from, from + max).filter((l) => l.trim() !== '');
}

export async function buildStd(opts: {
  cargo: string;
  rustc: string;
  libraryDir: string;
  specPath: string;
  triple: string;
  targetDir: string;
  cargoHome: string;
  logFile: string;
  onCrate?: (crate: string, count: number) => void;
}): Promise<{ depsDir: string; rlibs: string[] }> {
  let count = 0;
  fs.appendFileSync(opts.logFile, `\n=== cargo ${cargoBuildArgs(opts.specPath).join(' ')}\n`);
  const r = await exec(opts.cargo, cargoBuildArgs(opts.specPath), {
    cwd: opts.libraryDir,
    env: cargoEnv(process.env, opts.rustc, opts.cargoHome, opts.targetDir),
    logFile: opts.logFile,
    onLine: (line) => {
      const m = line.match(/^\s*Compiling (\S+)/);
      if (m) opts.onCrate?.(m[1]!, ++count);
    },
  });
  if (r.code !== 0) {
    const lines = relevantLogLines(r.stderr);
    throw new PlrustError({
      code: 'STD_BUILD_FAILED',
      message: `building std for ${opts.triple} failed (cargo exited with ${r.code ?? r.signal}):\n  ${lines.join('\n  ')}`,
      hint: `the full log is ${opts.logFile}`,
      data: { log: opts.logFile },
    });
  }
  const depsDir = path.join(opts.targetDir, opts.triple, STD_PROFILE, 'deps');
  const rlibs = fs.readdirSync(depsDir).filter((f) => f.endsWith('.rlib'));
  if (!rlibs.some((f) => f.startsWith('libstd'))) {
    throw new PlrustError({
      code: 'STD_BUILD_FAILED',
      message: `cargo finished but produced no libstd rlib for ${opts.triple}`,
      hint: `see ${opts.logFile}`,
    });
  }
  return { depsDir, rlibs };
}
