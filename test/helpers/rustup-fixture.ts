/**
 * rustup toolchains for tests, made from the machine's own: a private
 * RUSTUP_HOME (under /tmp, which the server's OS user can read, unlike
 * /root) whose toolchain is the real one hard-linked file by file, with or
 * without a rust-src component. Adding rust-src to a copy leaves the
 * machine's rustup untouched.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const HOST_TRIPLE = `${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-unknown-linux-gnu`;

/** The machine's rustup stable toolchain and its version, if there is one. */
export function machineRustupStable(): { dir: string; version: string } | undefined {
  const home = process.env.RUSTUP_HOME ?? path.join(os.homedir(), '.rustup');
  const dir = path.join(home, 'toolchains', `stable-${HOST_TRIPLE}`);
  const rustc = path.join(dir, 'bin', 'rustc');
  if (!fs.existsSync(rustc)) return undefined;
  const vv = execFileSync(rustc, ['-vV'], { encoding: 'utf8' });
  return { dir, version: /^release: (\S+)$/m.exec(vv)![1]! };
}

function linkTree(from: string, to: string): void {
  // Hard links need one filesystem; a copy is the fallback.
  let r = spawnSync('cp', ['-al', from, to], { encoding: 'utf8' });
  if (r.status !== 0) {
    fs.rmSync(to, { recursive: true, force: true });
    r = spawnSync('cp', ['-a', from, to], { encoding: 'utf8' });
  }
  if (r.status !== 0) throw new Error(`cannot copy ${from} to ${to}: ${r.stderr}`);
}

/**
 * `<root>/toolchains/stable-<host>` as the machine's (bin and lib only: the
 * documentation is not needed), plus `lib/rustlib/src/rust/library` from
 * `rustSrc` when given, laid out as rustup's rust-src component installs it.
 */
export function privateRustupHome(root: string, stableDir: string, rustSrc?: string): string {
  const tc = path.join(root, 'toolchains', `stable-${HOST_TRIPLE}`);
  fs.mkdirSync(tc, { recursive: true });
  for (const d of ['bin', 'lib']) linkTree(path.join(stableDir, d), path.join(tc, d));
  if (rustSrc) {
    const dest = path.join(tc, 'lib', 'rustlib', 'src', 'rust');
    fs.mkdirSync(dest, { recursive: true });
    linkTree(rustSrc, path.join(dest, 'library'));
  }
  fs.chmodSync(root, 0o755);
  return root;
}
