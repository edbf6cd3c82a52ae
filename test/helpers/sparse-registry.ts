/**
 * A registry mirror for tests: the crates of a directory registry (Debian's
 * /usr/share/cargo/registry) served over Cargo's sparse protocol by the test
 * file server on 127.0.0.1 — index files of JSON lines under /index/ and
 * .crate archives under /crates/. The index entries are written from each
 * crate's Cargo.toml, as a registry does when a crate is published.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import type { FileServer } from './http-server.js';
import { indexPath } from '../../src/deps/source.js';

type Table = Record<string, unknown>;

interface IndexDep {
  name: string;
  req: string;
  features: string[];
  optional: boolean;
  default_features: boolean;
  target: string | null;
  kind: 'normal' | 'build' | 'dev';
  package?: string;
}

function depsOf(table: unknown, kind: IndexDep['kind'], target: string | null): IndexDep[] {
  if (typeof table !== 'object' || table === null) return [];
  return Object.entries(table as Table).map(([name, v]) => {
    const t: Table = typeof v === 'string' ? { version: v } : (v as Table);
    return {
      name,
      req: typeof t.version === 'string' ? t.version : '*',
      features: Array.isArray(t.features) ? (t.features as string[]) : [],
      optional: t.optional === true,
      default_features: t['default-features'] !== false && t.default_features !== false,
      target,
      kind,
      ...(typeof t.package === 'string' ? { package: t.package } : {}),
    };
  });
}

function indexEntry(manifest: Table, cksum: string): Table {
  const pkg = manifest.package as Table;
  const deps = [
    ...depsOf(manifest.dependencies, 'normal', null),
    ...depsOf(manifest['build-dependencies'], 'build', null),
    ...depsOf(manifest['dev-dependencies'], 'dev', null),
  ];
  for (const [cfg, t] of Object.entries((manifest.target ?? {}) as Record<string, Table>)) {
    deps.push(...depsOf(t.dependencies, 'normal', cfg), ...depsOf(t['build-dependencies'], 'build', cfg));
  }
  const features = (manifest.features ?? {}) as Record<string, string[]>;
  // Feature values naming `dep:` or `?/` need the second features map (index format 2).
  const v2 = Object.values(features).some((list) => list.some((f) => f.startsWith('dep:') || f.includes('?/')));
  return {
    name: pkg.name,
    vers: pkg.version,
    deps,
    cksum,
    ...(v2 ? { features: {}, features2: features, v: 2 } : { features }),
    yanked: false,
    links: typeof pkg.links === 'string' ? pkg.links : null,
  };
}

/**
 * Serve every crate of `registry` from `server`; `work` holds the archives.
 * Returns the index URL as the administrator would configure it.
 */
export function serveSparseRegistry(server: FileServer, registry: string, work: string): string {
  const lines = new Map<string, string[]>();
  fs.mkdirSync(work, { recursive: true });
  for (const dir of fs.readdirSync(registry).sort()) {
    const manifestPath = path.join(registry, dir, 'Cargo.toml');
    if (!fs.existsSync(manifestPath)) continue;
    const manifest = parseToml(fs.readFileSync(manifestPath, 'utf8')) as Table;
    const pkg = manifest.package as Table;
    if (`${String(pkg.name)}-${String(pkg.version)}` !== dir) continue;
    const archive = path.join(work, `${dir}.crate`);
    const tar = spawnSync('tar', ['-czf', archive, '--exclude=.cargo-checksum.json', '-C', registry, dir]);
    if (tar.status !== 0) throw new Error(`tar ${dir}: ${String(tar.stderr)}`);
    const cksum = createHash('sha256').update(fs.readFileSync(archive)).digest('hex');
    server.serve(`/crates/${String(pkg.name)}/${String(pkg.version)}/download`, archive, { checksum: false });
    const name = String(pkg.name);
    lines.set(name, [...(lines.get(name) ?? []), JSON.stringify(indexEntry(manifest, cksum))]);
  }
  for (const [name, entries] of lines) {
    server.serve(`/index/${indexPath(name)}`, Buffer.from(`${entries.join('\n')}\n`), { checksum: false });
  }
  server.serve(
    '/index/config.json',
    Buffer.from(JSON.stringify({ dl: `${server.origin}/crates/{crate}/{version}/download`, api: null })),
    { checksum: false },
  );
  return `sparse+${server.origin}/index/`;
}
