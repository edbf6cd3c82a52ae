/**
 * Carries out a SourcePlan: a directory is used in place (it is copied
 * later, never edited); an archive or URL is verified and unpacked into the
 * install's work directory. The result is always a library/ directory whose
 * version is checked against the compiler's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PlrustError, ExitCode } from '../util/errors.js';
import { download, type DownloadProgress } from '../util/download.js';
import { extractTarGz } from '../util/extract.js';
import { sha256File } from '../util/sha256.js';
import { declaredVersion, findLibraryDir, type SourcePlan } from './source.js';
import type { RustcInfo } from './rustc-probe.js';

export interface MaterialisedSource {
  libraryDir: string;
  version: string | undefined;
  /** Of the archive, when the source came as one. */
  sha256?: string;
}

export async function materialiseSource(
  plan: SourcePlan,
  rustc: RustcInfo,
  opts: {
    home: string;
    workDir: string;
    timeoutMs: number;
    retries: number;
    onProgress?: (p: DownloadProgress) => void;
    onNote?: (m: string) => void;
  },
): Promise<MaterialisedSource> {
  let root: string;
  let sha256: string | undefined;
  if (plan.kind === 'flag-url' || plan.kind === 'dist-server') {
    const got = await download({
      url: plan.location,
      home: opts.home,
      timeoutMs: opts.timeoutMs,
      retries: opts.retries,
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
    sha256 = got.sha256;
    root = path.join(opts.workDir, 'src');
    await extractTarGz(got.path, root);
  } else if (plan.kind === 'flag-archive') {
    if (!fs.existsSync(plan.location)) {
      throw new PlrustError({
        code: 'RUST_SRC_NOT_FOUND',
        message: `--rust-src archive ${plan.location} does not exist`,
        exitCode: ExitCode.Usage,
      });
    }
    sha256 = await sha256File(plan.location);
    root = path.join(opts.workDir, 'src');
    await extractTarGz(plan.location, root);
  } else {
    if (!fs.existsSync(plan.location)) {
      throw new PlrustError({
        code: 'RUST_SRC_NOT_FOUND',
        message: `std source directory ${plan.location} does not exist`,
        exitCode: ExitCode.Usage,
      });
    }
    root = plan.location;
  }
  const libraryDir = findLibraryDir(root) ?? findNested(root);
  if (!libraryDir) {
    throw new PlrustError({
      code: 'RUST_SRC_INVALID',
      message: `${plan.location} is not a Rust std source: no library/std/Cargo.toml in it`,
      hint: 'give --rust-src the library/ directory of rust-src, a rust-src-<version>.tar.gz, or its URL',
      exitCode: ExitCode.Usage,
    });
  }
  const version = declaredVersion(libraryDir);
  if (version !== undefined && version !== rustc.version) {
    throw new PlrustError({
      code: 'RUST_SRC_VERSION_MISMATCH',
      message: `the std source at ${plan.location} is for Rust ${version}, but the compiler ${rustc.path} is ${rustc.version}`,
      hint: `use the std source of rustc ${rustc.version}, or pick the matching compiler with --rustc`,
      exitCode: ExitCode.Usage,
    });
  }
  if (version === undefined)
    opts.onNote?.(
      `cannot tell the version of the std source at ${plan.location}; assuming it matches rustc ${rustc.version}`,
    );
  return { libraryDir, version, ...(sha256 ? { sha256 } : {}) };
}

/** Archives wrap the tree in a top directory (rust-src-1.96.0/…): look one and two levels down. */
function findNested(root: string): string | undefined {
  if (!fs.existsSync(root)) return undefined;
  for (const a of fs.readdirSync(root)) {
    const p = path.join(root, a);
    if (!fs.statSync(p).isDirectory()) continue;
    const hit = findLibraryDir(p);
    if (hit) return hit;
    for (const b of fs.readdirSync(p)) {
      const q = path.join(p, b);
      if (fs.statSync(q).isDirectory()) {
        const hit2 = findLibraryDir(q);
        if (hit2) return hit2;
      }
    }
  }
  return undefined;
}
