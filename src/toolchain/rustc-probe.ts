/**
 * Finding a Rust compiler that can build postgrestd: it needs a std source of
 * exactly its own version, so candidates are judged as (compiler, source)
 * pairs and the reason for the choice is kept for the user.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import semver from 'semver';
import { exec, which } from '../util/exec.js';
import { PlrustError, ExitCode } from '../util/errors.js';

/** rustc older than this lacks the std layout and flags the rules rely on. */
const MIN_RUSTC = '1.85.0';

export type ToolchainId = string & { readonly __brand: 'ToolchainId' };

export interface RustcInfo {
  path: string;
  version: string;
  commitHash: string;
  commitDate: string;
  host: string;
  llvmVersion?: string;
  /** `rustc --print sysroot`: where rustup's rust-src component would be. */
  sysroot: string;
}

export function toolchainId(info: Pick<RustcInfo, 'version' | 'commitHash'>): ToolchainId {
  return `rust-${info.version}-${info.commitHash.slice(0, 8)}` as ToolchainId;
}

/** Parses `rustc -vV`. Pure, so it is unit-tested on recorded outputs. */
export function parseRustcVV(text: string): Omit<RustcInfo, 'path' | 'sysroot'> {
  const field = (name: string) => text.match(new RegExp(`^${name}: (.+)$`, 'm'))?.[1]?.trim();
  const release = field('release');
  const commitHash = field('commit-hash');
  const host = field('host');
  if (!release || !host) throw new Error('not the output of rustc -vV');
  const llvm = field('LLVM version');
  return {
    version: release,
    commitHash: commitHash && commitHash !== 'unknown' ? commitHash : '00000000',
    commitDate: field('commit-date') ?? 'unknown',
    host,
    ...(llvm ? { llvmVersion: llvm } : {}),
  };
}

export async function probeRustc(rustcPath: string): Promise<RustcInfo> {
  if (!fs.existsSync(rustcPath)) {
    throw new PlrustError({
      code: 'RUSTC_NOT_FOUND',
      message: `rustc not found at ${rustcPath}`,
      hint: "pass --rustc with the path of an installed rustc, or install Debian's rustc-web (scripts/setup-system.sh)",
      exitCode: ExitCode.Usage,
    });
  }
  let vv;
  let sysroot;
  try {
    [vv, sysroot] = await Promise.all([
      exec(rustcPath, ['-vV'], { timeoutMs: 30_000 }),
      exec(rustcPath, ['--print', 'sysroot'], { timeoutMs: 30_000 }),
    ]);
  } catch (e) {
    throw new PlrustError({
      code: 'RUSTC_BROKEN',
      message: `cannot run ${rustcPath}: ${(e as Error).message}`,
      hint: 'pass --rustc with a working rustc',
      cause: e,
    });
  }
  if (vv.code !== 0) {
    throw new PlrustError({
      code: 'RUSTC_BROKEN',
      message: `${rustcPath} -vV failed: ${(vv.stderr || vv.stdout).trim().split('\n')[0]}`,
      hint: 'pass --rustc with a working rustc',
    });
  }
  try {
    return { path: rustcPath, ...parseRustcVV(vv.stdout), sysroot: sysroot.stdout.trim() };
  } catch {
    throw new PlrustError({
      code: 'RUSTC_BROKEN',
      message: `${rustcPath} does not look like rustc (unexpected -vV output)`,
      hint: 'pass --rustc with a rustc binary',
    });
  }
}

export function checkSupported(info: RustcInfo): void {
  const v = semver.coerce(info.version);
  if (!v || semver.lt(v, MIN_RUSTC)) {
    throw new PlrustError({
      code: 'RUSTC_TOO_OLD',
      message: `rustc ${info.version} at ${info.path} is too old: plrust needs rustc ${MIN_RUSTC} or later`,
      hint: "install a newer Rust (for example Debian's rustc-web) and pass it with --rustc",
      exitCode: ExitCode.Usage,
    });
  }
}

/** Compilers worth trying when none was named, most preferred first. */
export function candidateRustcPaths(envPath = process.env.PATH ?? ''): string[] {
  const found = new Set<string>();
  const onPath = which('rustc', envPath);
  if (onPath) found.add(onPath);
  for (const p of ['/usr/bin/rustc', '/usr/local/bin/rustc']) if (fs.existsSync(p)) found.add(p);
  const rustupToolchains = path.join(process.env.RUSTUP_HOME ?? path.join(os.homedir(), '.rustup'), 'toolchains');
  if (fs.existsSync(rustupToolchains)) {
    for (const t of fs.readdirSync(rustupToolchains).sort()) {
      const p = path.join(rustupToolchains, t, 'bin', 'rustc');
      if (fs.existsSync(p)) found.add(p);
    }
  }
  // Debian's versioned packages (rustc-1.xx) install their compiler under /usr/lib/rust-1.xx.
  if (fs.existsSync('/usr/lib')) {
    for (const d of fs
      .readdirSync('/usr/lib')
      .filter((d) => /^rust-\d+\.\d+/.test(d))
      .sort()
      .reverse()) {
      const p = path.join('/usr/lib', d, 'bin', 'rustc');
      if (fs.existsSync(p)) found.add(p);
    }
  }
  return [...found];
}

/** The cargo that belongs to a rustc: beside it, else the one on PATH is NOT trusted to match. */
export function cargoBeside(rustcPath: string): string | undefined {
  const p = path.join(path.dirname(rustcPath), 'cargo');
  return fs.existsSync(p) ? p : undefined;
}
