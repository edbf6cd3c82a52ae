/**
 * A Rust dist server's files for one release, made from a compiler on this
 * machine: the rustup toolchain's own installed components (their file lists
 * are the `lib/rustlib/manifest-<component>` rustup wrote) repacked in the
 * rust-installer layout of static.rust-lang.org (`<pkg>-<version>-<host>/`
 * with `rust-installer-version`, `components` and `<component>/manifest.in`),
 * plus a rust-src package from Debian's std source of the same version. The
 * channel manifest is the toolchain's real one (every package, xz variants,
 * renames, profiles) with the four packages' hashes replaced by those of the
 * repacked archives. Documentation is left out to keep the archives small.
 *
 * Built once into PLRUST_TEST_CACHE/dist-<version>.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { sha256File } from '../../src/util/sha256.js';
import { parseChannelManifest } from '../../src/toolchain/dist.js';

export interface DistFixture {
  version: string;
  /** URL path (as on the official server) → local file. */
  files: Map<string, string>;
  /** The channel manifest's text with the repacked archives' hashes. */
  manifest: string;
  /** URL path of each package's archive. */
  paths: { rustc: string; cargo: string; 'rust-std': string; 'rust-src': string };
}

function run(cmd: string, args: string[], cwd?: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
}

function installedFiles(toolchain: string, component: string): string[] {
  return fs
    .readFileSync(path.join(toolchain, 'lib', 'rustlib', `manifest-${component}`), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('file:'))
    .map((l) => l.slice('file:'.length))
    .filter((f) => !f.startsWith('share/') && !f.startsWith('etc/'));
}

/** `<out>/<name>.tar.gz` holding `<name>/` with one component. */
function pack(
  out: string,
  name: string,
  component: string,
  entries: { kind: 'file' | 'dir'; rel: string; from: string }[],
): string {
  const top = path.join(out, name);
  fs.rmSync(top, { recursive: true, force: true });
  fs.mkdirSync(path.join(top, component), { recursive: true });
  fs.writeFileSync(path.join(top, 'rust-installer-version'), '3\n');
  fs.writeFileSync(path.join(top, 'components'), `${component}\n`);
  for (const e of entries) {
    const to = path.join(top, component, e.rel);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    if (e.kind === 'dir') run('cp', ['-al', e.from, to]);
    else fs.linkSync(e.from, to);
  }
  fs.writeFileSync(
    path.join(top, component, 'manifest.in'),
    entries.map((e) => `${e.kind}:${e.rel}`).join('\n') + '\n',
  );
  const archive = path.join(out, `${name}.tar.gz`);
  run('tar', ['-I', 'gzip -1', '-cf', archive, name], out);
  fs.rmSync(top, { recursive: true, force: true });
  return archive;
}

export async function buildDistFixture(opts: {
  toolchain: string;
  host: string;
  version: string;
  rustSrc: string;
  out: string;
}): Promise<DistFixture> {
  const realManifest = fs.readFileSync(
    path.join(opts.toolchain, 'lib', 'rustlib', 'multirust-channel-manifest.toml'),
    'utf8',
  );
  const parsed = parseChannelManifest(realManifest);
  const urlPath = (pkg: string, target: string) => new URL(parsed.pkg.get(pkg)!.target.get(target)!.url!).pathname;
  const paths = {
    rustc: urlPath('rustc', opts.host),
    cargo: urlPath('cargo', opts.host),
    'rust-std': urlPath('rust-std', opts.host),
    'rust-src': urlPath('rust-src', '*'),
  };
  const out = opts.out;
  const ready = path.join(out, 'ready.json');
  let hashes: Record<string, string>;
  if (fs.existsSync(ready)) {
    hashes = JSON.parse(fs.readFileSync(ready, 'utf8')) as Record<string, string>;
  } else {
    fs.rmSync(out, { recursive: true, force: true });
    fs.mkdirSync(out, { recursive: true });
    const tc = opts.toolchain;
    const files = (component: string) =>
      installedFiles(tc, component).map((rel) => ({ kind: 'file' as const, rel, from: path.join(tc, rel) }));
    const base = (p: string) => path.basename(p, '.tar.gz');
    pack(out, base(paths.rustc), 'rustc', files(`rustc-${opts.host}`));
    pack(out, base(paths.cargo), 'cargo', files(`cargo-${opts.host}`));
    pack(out, base(paths['rust-std']), `rust-std-${opts.host}`, files(`rust-std-${opts.host}`));
    pack(out, base(paths['rust-src']), 'rust-src', [
      { kind: 'dir', rel: 'lib/rustlib/src/rust/library', from: opts.rustSrc },
    ]);
    hashes = {};
    for (const [pkg, p] of Object.entries(paths)) hashes[pkg] = await sha256File(path.join(out, path.basename(p)));
    fs.writeFileSync(ready, JSON.stringify(hashes));
  }

  const headers: Record<string, string> = {
    [`[pkg.rustc.target.${opts.host}]`]: hashes.rustc!,
    [`[pkg.cargo.target.${opts.host}]`]: hashes.cargo!,
    [`[pkg.rust-std.target.${opts.host}]`]: hashes['rust-std']!,
    '[pkg.rust-src.target."*"]': hashes['rust-src']!,
  };
  let current = '';
  const manifest = realManifest
    .split('\n')
    .map((line) => {
      if (line.startsWith('[')) current = line.trim();
      const hash = headers[current];
      return hash && line.startsWith('hash = ') ? `hash = "${hash}"` : line;
    })
    .join('\n');
  const fileMap = new Map<string, string>();
  for (const p of Object.values(paths)) fileMap.set(p, path.join(out, path.basename(p)));
  return { version: opts.version, files: fileMap, manifest, paths };
}
