/**
 * The test suite's shared toolchain: built once per run (scripts/test.sh
 * points PLRUST_TEST_CACHE at a fresh directory) by the real
 * `plrust toolchain install`, whose lock and no-op reinstall make every later
 * request from any test file cheap.
 */
import path from 'node:path';
import { runPlrust } from './cli.js';

export const DEBIAN_RUSTC = '/usr/bin/rustc';
export const DEBIAN_LIBRARY = '/usr/src/rustc-1.96.0/library';

export function testCacheDir(): string {
  return process.env.PLRUST_TEST_CACHE ?? '/tmp/plrust-test-cache';
}

export interface SharedToolchain {
  home: string;
  id: string;
  dir: string;
  targets: { arch: 'x86_64' | 'aarch64'; triple: string; spec: string; sysroot: string; runtime: string }[];
}

let cached: Promise<SharedToolchain> | undefined;

export function sharedToolchain(): Promise<SharedToolchain> {
  cached ??= (async () => {
    const home = path.join(testCacheDir(), 'home');
    const install = await runPlrust(['toolchain', 'install', '--rustc', DEBIAN_RUSTC, '--target', 'all', '--json'], {
      home,
      timeoutMs: 30 * 60_000,
    });
    if (install.code !== 0)
      throw new Error(`shared toolchain install failed (${install.code}):\n${install.stdout}\n${install.stderr}`);
    const show = await runPlrust(['toolchain', 'show', '--json'], { home });
    const doc = JSON.parse(show.stdout) as { id: string; path: string; targets: SharedToolchain['targets'] };
    return { home, id: doc.id, dir: doc.path, targets: doc.targets };
  })();
  return cached;
}

export async function sharedTarget(arch: 'x86_64' | 'aarch64') {
  const tc = await sharedToolchain();
  return tc.targets.find((t) => t.arch === arch)!;
}
