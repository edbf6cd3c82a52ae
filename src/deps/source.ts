/**
 * Where allowed crates come from: a directory source in Cargo's sense — a
 * directory registry such as Debian's /usr/share/cargo/registry (what the
 * librust-*-dev packages install) or the output of `cargo vendor`. One
 * directory per crate version, each with its Cargo.toml and a
 * .cargo-checksum.json. Nothing is fetched: a crate is there or it is not.
 *
 * Or a registry mirror the administrator runs, named by its sparse index
 * URL (`sparse+https://mirror.example/index/`, Cargo's sparse protocol):
 * the versions come from its index files, and a unit's crates are fetched
 * from it with `cargo vendor` before the boxed, offline build
 * (src/deps/store.ts). No host is built in: crates.io is never asked.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { PlrustError } from '../util/errors.js';
import { parseVersion, type Version } from './semver.js';

export const DEFAULT_SOURCE = '/usr/share/cargo/registry';

export interface CrateSource {
  /** The directory, or the `sparse+…` index URL of a mirror. */
  location: string;
  kind: 'directory' | 'sparse';
  versions: (name: string) => Version[];
}

export const isSparseUrl = (location: string): boolean => /^sparse\+https?:\/\/[^\s/]+/.test(location);

/** A directory relative to the working directory, or a mirror's index URL as given. */
export function sourceLocation(cwd: string, given: string | undefined): string {
  const location = given ?? DEFAULT_SOURCE;
  return isSparseUrl(location) ? location : path.resolve(cwd, location);
}

/** The source at `location`, knowing the versions of `names` (a mirror is asked only about those). */
export async function openSource(location: string, names: readonly string[]): Promise<CrateSource> {
  return isSparseUrl(location) ? sparseSource(location, names) : directorySource(location);
}

/** Where Cargo's sparse index keeps a crate's file: by the length and first letters of its name. */
export function indexPath(name: string): string {
  const n = name.toLowerCase();
  if (n.length <= 2) return `${n.length}/${n}`;
  if (n.length === 3) return `3/${n[0]}/${n}`;
  return `${n.slice(0, 2)}/${n.slice(2, 4)}/${n}`;
}

function mirrorError(url: string, why: string): PlrustError {
  return new PlrustError({
    code: 'DEPENDENCY_SOURCE_MISSING',
    message: `the dependency source ${url} cannot be read: ${why}`,
    hint: 'plrust.dependency_source (or --dependency-source) names a directory registry or the sparse index URL of a registry mirror (sparse+https://host/path/) this machine can reach',
  });
}

const INDEX_TIMEOUT_MS = 30_000;

async function sparseSource(location: string, names: readonly string[]): Promise<CrateSource> {
  const base = location.endsWith('/') ? location : `${location}/`;
  const http = base.slice('sparse+'.length);
  const found = new Map<string, Version[]>();
  for (const name of new Set(names)) {
    let res: Response;
    try {
      res = await fetch(new URL(indexPath(name), http), { signal: AbortSignal.timeout(INDEX_TIMEOUT_MS) });
    } catch (e) {
      throw mirrorError(base, (e as Error).message);
    }
    // The sparse protocol answers 404 (or 410, 451) for a crate the registry does not have.
    if (res.status === 404 || res.status === 410 || res.status === 451) continue;
    if (!res.ok) throw mirrorError(base, `${res.status} ${res.statusText} for the index file of ${name}`);
    const versions: Version[] = [];
    for (const line of (await res.text()).split('\n')) {
      if (!line.trim()) continue;
      try {
        const v = JSON.parse(line) as { name?: unknown; vers?: unknown; yanked?: unknown };
        const version = typeof v.vers === 'string' ? parseVersion(v.vers) : undefined;
        if (v.name === name && version && v.yanked !== true) versions.push(version);
      } catch {
        throw mirrorError(base, `the index file of ${name} is not JSON lines`);
      }
    }
    found.set(name, versions);
  }
  return { location: base, kind: 'sparse', versions: (name) => found.get(name) ?? [] };
}

function packageOf(dir: string): { name: string; version: Version } | undefined {
  try {
    if (!fs.existsSync(path.join(dir, '.cargo-checksum.json'))) return undefined;
    const t = parseToml(fs.readFileSync(path.join(dir, 'Cargo.toml'), 'utf8')) as {
      package?: { name?: unknown; version?: unknown };
    };
    const name = t.package?.name;
    const version = typeof t.package?.version === 'string' ? parseVersion(t.package.version) : undefined;
    return typeof name === 'string' && version ? { name, version } : undefined;
  } catch {
    // A broken crate directory is not offered; cargo would refuse it as well.
    return undefined;
  }
}

export function directorySource(location: string): CrateSource {
  const dir = path.resolve(location);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    throw new PlrustError({
      code: 'DEPENDENCY_SOURCE_MISSING',
      message: `the dependency source ${dir} cannot be read: ${(e as Error).message}`,
      hint: `install crates as a directory registry (Debian: apt-get install librust-<crate>-dev fills ${DEFAULT_SOURCE}) or point --source at a \`cargo vendor\` directory`,
    });
  }
  const found = new Map<string, Version[]>();
  for (const n of names) {
    const p = packageOf(path.join(dir, n));
    if (p) found.set(p.name, [...(found.get(p.name) ?? []), p.version]);
  }
  return { location: dir, kind: 'directory', versions: (name) => found.get(name) ?? [] };
}
