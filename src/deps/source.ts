/**
 * Where allowed crates come from: a directory source in Cargo's sense — a
 * directory registry such as Debian's /usr/share/cargo/registry (what the
 * librust-*-dev packages install) or the output of `cargo vendor`. One
 * directory per crate version, each with its Cargo.toml and a
 * .cargo-checksum.json. Nothing is fetched: a crate is there or it is not.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { PlrustError } from '../util/errors.js';
import { parseVersion, type Version } from './semver.js';

export const DEFAULT_SOURCE = '/usr/share/cargo/registry';

export interface CrateSource {
  location: string;
  versions: (name: string) => Version[];
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
  return { location: dir, versions: (name) => found.get(name) ?? [] };
}
