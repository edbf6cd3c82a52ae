/**
 * Where the std source for a compiler comes from, in the documented order:
 * --rust-src (directory, archive or URL), rustup's rust-src component of that
 * compiler, a system package, then the dist server. Planning is pure; the
 * shell that downloads and unpacks is in fetch-source.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RustcInfo } from './rustc-probe.js';

export type SourceKind =
  'flag-dir' | 'flag-archive' | 'flag-url' | 'rustup-component' | 'system-package' | 'dist-server';

export interface SourcePlan {
  kind: SourceKind;
  /** A library/ directory, an archive path, or a URL. */
  location: string;
  /** Why this source: shown to the user. */
  reason: string;
}

/** The `library/` directory inside a std source tree, whichever level was given. */
export function findLibraryDir(root: string): string | undefined {
  const candidates = [
    root,
    path.join(root, 'library'),
    path.join(root, 'rust-src', 'lib', 'rustlib', 'src', 'rust', 'library'),
    path.join(root, 'lib', 'rustlib', 'src', 'rust', 'library'),
  ];
  return candidates.find(
    (c) => fs.existsSync(path.join(c, 'std', 'Cargo.toml')) && fs.existsSync(path.join(c, 'core')),
  );
}

/**
 * The version a source tree belongs to: a `version` file of the rust-src
 * archive or component above it, else the `rustc-<version>` directory name
 * Debian uses. undefined when nothing says.
 */
export function detectSourceVersion(libraryDir: string): string | undefined {
  let dir = path.resolve(libraryDir);
  // rust-src-<v>/rust-src/lib/rustlib/src/rust/library is seven levels below its version file.
  for (let i = 0; i < 8; i++) {
    const vf = path.join(dir, 'version');
    if (fs.existsSync(vf)) {
      const m = fs.readFileSync(vf, 'utf8').match(/^(\d+\.\d+\.\d+(?:-[\w.]+)?)/);
      if (m) return m[1];
    }
    const name = path.basename(dir).match(/^rustc-(\d+\.\d+\.\d+(?:-[\w.]+)?)(?:-src)?$/);
    if (name) return name[1];
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

function isUrl(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

function isArchive(s: string): boolean {
  return /\.(tar\.gz|tgz)$/i.test(s);
}

/** The version a local tree declares, by its path as given or as resolved (Debian's /usr/lib/rustlib/src/rust is a symlink). */
export function declaredVersion(libraryDir: string): string | undefined {
  const direct = detectSourceVersion(libraryDir);
  if (direct) return direct;
  try {
    return detectSourceVersion(fs.realpathSync(libraryDir));
  } catch {
    return undefined;
  }
}

/** A local tree fits a compiler unless it declares another version. */
function fits(location: string, version: string): boolean {
  const found = findLibraryDir(location);
  if (!found) return false;
  const declared = declaredVersion(found);
  return declared === undefined || declared === version;
}

/** Local candidates for a compiler, in order; the first one that exists wins. */
function localSourceCandidates(rustc: RustcInfo): SourcePlan[] {
  return [
    {
      kind: 'rustup-component',
      location: path.join(rustc.sysroot, 'lib', 'rustlib', 'src', 'rust', 'library'),
      reason: `rust-src component of ${rustc.path}`,
    },
    {
      kind: 'system-package',
      location: `/usr/src/rustc-${rustc.version}/library`,
      reason: `system package source for rustc ${rustc.version}`,
    },
    { kind: 'system-package', location: '/usr/lib/rustlib/src/rust/library', reason: 'system rust-src package' },
  ];
}

export function distUrl(server: string, version: string): string {
  return `${server.replace(/\/+$/, '')}/dist/rust-src-${version}.tar.gz`;
}

/** The plan without side effects beyond existence checks. */
export function planSource(rustc: RustcInfo, opts: { rustSrc?: string; distServer: string }): SourcePlan {
  if (opts.rustSrc) {
    const s = opts.rustSrc;
    if (isUrl(s)) return { kind: 'flag-url', location: s, reason: '--rust-src URL' };
    if (isArchive(s)) return { kind: 'flag-archive', location: path.resolve(s), reason: '--rust-src archive' };
    return { kind: 'flag-dir', location: path.resolve(s), reason: '--rust-src directory' };
  }
  for (const c of localSourceCandidates(rustc)) {
    if (fits(c.location, rustc.version)) return c;
  }
  return {
    kind: 'dist-server',
    location: distUrl(opts.distServer, rustc.version),
    reason: `no local std source for rustc ${rustc.version}; downloading from the dist server`,
  };
}

/** True when some local std source exists for this compiler (used to pick among compilers). */
export function hasLocalSource(rustc: RustcInfo): SourcePlan | undefined {
  return localSourceCandidates(rustc).find((c) => fits(c.location, rustc.version));
}
