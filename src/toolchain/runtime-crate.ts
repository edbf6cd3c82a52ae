/**
 * Compiles the runtime crate (runtime, crate `plrust_rt`) into an
 * rlib for one target, with rustc directly: it depends on std and on
 * serde_json, built first from Debian's packaged sources (runtime-deps.ts),
 * so there is nothing for cargo to resolve. Done once per toolchain and target
 * (`plrust toolchain install`); every function library links it.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PlrustError } from '../util/errors.js';
import { exec } from '../util/exec.js';
import { packageRoot } from '../util/package-root.js';
import { RUSTC_ENV, targetCrateArgs } from '../compile/generate.js';
import { buildRuntimeDeps, runtimeDepsFingerprint } from './runtime-deps.js';
import type { Arch } from '../config/schema.js';

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

/**
 * What a runtime rlib is built from: every file of the runtime crate and the
 * rustc arguments (paths replaced by placeholders). A toolchain whose rlib
 * was built from a different hash is out of date with this plrust: its
 * libraries would be built against another ABI.
 */
export function runtimeSourceHash(srcDir: string = runtimeSourceDir()): string {
  const h = crypto.createHash('sha256');
  const walk = (dir: string): void => {
    for (const ent of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const abs = path.join(dir, ent.name);
      if (ent.isDirectory()) walk(abs);
      else if (ent.isFile()) {
        h.update(`${path.relative(srcDir, abs)}\0`);
        h.update(fs.readFileSync(abs));
        h.update('\0');
      }
    }
  };
  walk(srcDir);
  h.update(runtimeDepsFingerprint());
  h.update(
    JSON.stringify(runtimeRustcArgs({ sysroot: '<sysroot>', targetSpec: '<spec>', out: '<out>', srcDir: '<src>' })),
  );
  return h.digest('hex').slice(0, 16);
}

/** The installed targets whose runtime rlib was not built from `currentHash` (and is not being rebuilt anyway). */
export function staleRuntimes(
  installed: readonly { arch: Arch; runtimeHash?: string | undefined }[],
  rebuilding: readonly Arch[],
  currentHash: string,
): Arch[] {
  return installed.filter((t) => !rebuilding.includes(t.arch) && t.runtimeHash !== currentHash).map((t) => t.arch);
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
