/** What several benchmark sections share: the CLI, the compilers, the suite's shared toolchain. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv } from '../test/helpers/cli.js';
import { sharedToolchain, type SharedToolchain } from '../test/helpers/toolchain.js';
import { readManifest, type ToolchainManifest } from '../src/toolchain/manifest.js';
import type { ResolvedToolchain } from '../src/toolchain/store.js';
import type { ToolchainId } from '../src/toolchain/rustc-probe.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(ROOT, 'bin', 'plrust');
export const FIXTURES = path.join(ROOT, 'bench', 'fixtures');
/** The benchmarks' 20-line PL/Rust function (build, CREATE FUNCTION, first call). */
export const FUNCTION_FIXTURE = path.join(FIXTURES, 'slugify.sql');
/** Debian's compiler, by absolute path: rustup's shims come first on PATH and do not match its std source. */
export const RUSTC = '/usr/bin/rustc';
export const CARGO = '/usr/bin/cargo';

/** The environment `plrust` runs in: none of the developer's PLRUST_* settings, this home. */
export function plrustEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return cleanEnv({ PLRUST_HOME: home, ...extra });
}

export interface SharedInfo extends SharedToolchain {
  manifest: ToolchainManifest;
  /** The toolchain's real directory (toolchains/<id> is a symlink into the store). */
  realDir: string;
}

/** The test suite's shared toolchain (built there once; a no-op install when it exists). */
export async function sharedInfo(): Promise<SharedInfo> {
  const tc = await sharedToolchain();
  const manifest = readManifest(tc.dir);
  if (!manifest) throw new Error(`the shared toolchain at ${tc.dir} has no readable manifest.json`);
  return { ...tc, manifest, realDir: fs.realpathSync(tc.dir) };
}

/**
 * A PLRUST_HOME of its own (so its artifact cache starts empty) whose only
 * toolchain is the shared one, linked rather than rebuilt: the benchmark
 * must not write into the shared home, and building std again would take
 * minutes.
 */
export function homeWithSharedToolchain(dir: string, tc: SharedInfo): string {
  const home = path.join(dir, 'home');
  fs.mkdirSync(path.join(home, 'toolchains'), { recursive: true });
  fs.symlinkSync(tc.realDir, path.join(home, 'toolchains', tc.id));
  fs.writeFileSync(path.join(home, 'toolchains', 'default'), `${tc.id}\n`);
  return home;
}

/** The shared toolchain in the shape the build pipeline takes. */
export function resolvedToolchain(tc: SharedInfo): ResolvedToolchain {
  return { id: tc.id as ToolchainId, dir: tc.dir, manifest: tc.manifest };
}
