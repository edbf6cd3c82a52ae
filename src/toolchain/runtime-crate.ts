/**
 * Compiles the runtime crate (runtime, crate `plrust_rt`) into an
 * rlib for one target, with rustc directly: it depends on std and on
 * serde_json, built first from Debian's packaged sources (runtime-deps.ts),
 * so there is nothing for cargo to resolve. Done once per toolchain and target
 * (`plrust toolchain install`); every function library links it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PlrustError } from '../util/errors.js';
import { exec } from '../util/exec.js';
import { packageRoot } from '../util/package-root.js';
import { RUSTC_ENV, targetCrateArgs } from '../compile/generate.js';
import { buildRuntimeDeps } from './runtime-deps.js';

const RUNTIME_CRATE = 'plrust_rt';
const RUNTIME_RLIB = `lib${RUNTIME_CRATE}.rlib`;

export interface RuntimeBuildOptions {
  rustc: string;
  sysroot: string;
  /** The target spec, named `<triple>.json`. */
  targetSpec: string;
  outDir: string;
  env?: NodeJS.ProcessEnv;
}

function runtimeSourceDir(): string {
  return path.join(packageRoot(), 'runtime');
}

/**
 * The runtime's one unstable API is std::alloc::set_alloc_error_hook (an
 * allocation failure must become a panic, not an abort); nothing else may
 * be enabled.
 */
export function runtimeRustcArgs(o: {
  sysroot: string;
  targetSpec: string;
  out: string;
  srcDir?: string;
  /** From buildRuntimeDeps: where serde_json is. */
  depArgs?: string[];
}): string[] {
  const srcDir = o.srcDir ?? runtimeSourceDir();
  return [
    // alloc_error_hook is the runtime's one unstable feature: it turns allocation failure into a panic.
    ...targetCrateArgs({
      src: path.join(srcDir, 'src', 'lib.rs'),
      crateName: RUNTIME_CRATE,
      crateType: 'rlib',
      sysroot: o.sysroot,
      targetSpec: o.targetSpec,
      allowFeatures: ['alloc_error_hook'],
    }),
    '-C',
    'debuginfo=0',
    '-C',
    'embed-bitcode=no',
    `--remap-path-prefix=${srcDir}=${RUNTIME_CRATE}`,
    ...(o.depArgs ?? []),
    '-o',
    o.out,
  ];
}

export async function buildRuntime(opts: RuntimeBuildOptions): Promise<{ rlib: string }> {
  fs.mkdirSync(opts.outDir, { recursive: true });
  const rlib = path.join(opts.outDir, RUNTIME_RLIB);
  // Written under a temporary name and renamed, so an interrupted build
  // never leaves a truncated rlib where a finished one is expected.
  const partial = path.join(opts.outDir, `lib${RUNTIME_CRATE}-partial-${process.pid}.rlib`);
  const depArgs = await buildRuntimeDeps(opts);
  const args = runtimeRustcArgs({ sysroot: opts.sysroot, targetSpec: opts.targetSpec, out: partial, depArgs });
  const r = await exec(opts.rustc, args, { env: { ...(opts.env ?? process.env), ...RUSTC_ENV } });
  if (r.code !== 0) {
    fs.rmSync(partial, { force: true });
    throw new PlrustError({
      code: 'RUNTIME_BUILD_FAILED',
      message: `compiling the runtime crate for ${path.basename(opts.targetSpec, '.json')} failed:\n${r.stderr.trim()}`,
      hint: 'The sysroot or rustc may be incomplete or from another Rust version: reinstall the toolchain with `plrust toolchain install`.',
      data: { rustc: opts.rustc, args },
    });
  }
  fs.renameSync(partial, rlib);
  return { rlib };
}
