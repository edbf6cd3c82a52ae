/**
 * Fetching a Rust compiler the way rustup does, for hosts with neither
 * rustup nor a distribution compiler: the channel manifest
 * `dist/channel-rust-<version>.toml` (checked against the `.sha256` the dist
 * server publishes beside it) names every package with its URL and sha256;
 * rustc, cargo, the host's rust-std and rust-src are downloaded, verified
 * against those digests, unpacked, and installed from their rust-installer
 * layout (`components`, `<component>/manifest.in`) into
 * PLRUST_HOME/compilers/rust-<version>-<host>, published whole with one
 * atomic rename under a lock.
 *
 * What is verified: each package's sha256 as the manifest states it, and the
 * manifest's sha256 as the server states it. The manifest's GPG signature
 * (`.asc`) is not checked: plrust ships no copy of the Rust release key.
 * The digests therefore prove the files are the ones the server meant to
 * serve, not that a mirror is honest (docs/TOOLCHAINS.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { acquireLock } from '../util/lock.js';
import { cleanStaleTemp, makeTempDir, orphanedStoreEntries, publishDir } from '../util/fs-atomic.js';
import { download, type DownloadProgress, type RetryNotice } from '../util/download.js';
import { extractTarGz } from '../util/extract.js';
import { PlrustError, ExitCode } from '../util/errors.js';
import type { HomeLayout } from '../util/home.js';
import { probeRustc } from './rustc-probe.js';

/** The packages a std build needs: the compiler, cargo, the host's std (for build scripts) and the std source. */
export const DIST_PACKAGES = ['rustc', 'cargo', 'rust-std', 'rust-src'] as const;
export type DistPackage = (typeof DIST_PACKAGES)[number];

export interface DistTarget {
  available: boolean;
  url?: string;
  hash?: string;
}

export interface ChannelManifest {
  date: string | undefined;
  /** pkg name → its `version` string and its targets. */
  pkg: Map<string, { version: string | undefined; target: Map<string, DistTarget> }>;
}

/** `pkg.rustc.target."x86_64-unknown-linux-gnu"` → ['pkg', 'rustc', 'target', 'x86_64-unknown-linux-gnu']; [] if unreadable. */
export function headerPath(header: string): string[] {
  const parts: string[] = [];
  const key = /\s*(?:"([^"]*)"|([A-Za-z0-9_-]+))\s*/y;
  let at = 0;
  for (;;) {
    key.lastIndex = at;
    const m = key.exec(header);
    if (!m) return [];
    parts.push(m[1] ?? m[2]!);
    at = key.lastIndex;
    if (at >= header.length) return parts;
    if (header[at] !== '.') return [];
    at++;
  }
}

/**
 * Reads the parts of a channel manifest (manifest-version 2) plrust uses:
 * the tables `[pkg.<name>]` (`version`) and `[pkg.<name>.target.<triple>]`
 * (`available`, `url`, `hash`). Everything else (xz variants, renames,
 * profiles, multi-line arrays) is skipped, not interpreted.
 */
export function parseChannelManifest(text: string): ChannelManifest {
  const out: ChannelManifest = { date: undefined, pkg: new Map() };
  let table: string[] = [];
  let sawVersion = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[([^[\]]+)\]$/.exec(line);
    if (header) {
      table = headerPath(header[1]!);
      if (table[0] === 'pkg' && table[1] !== undefined) {
        const pkg = out.pkg.get(table[1]) ?? { version: undefined, target: new Map<string, DistTarget>() };
        out.pkg.set(table[1], pkg);
        if (table[2] === 'target' && table[3] !== undefined && !pkg.target.has(table[3]))
          pkg.target.set(table[3], { available: false });
      }
      continue;
    }
    const kv = /^([A-Za-z0-9_-]+)\s*=\s*(?:"([^"]*)"|(true|false))\s*$/.exec(line);
    if (!kv) continue;
    const [, key, str, bool] = kv;
    if (table.length === 0) {
      if (key === 'manifest-version') sawVersion = str === '2';
      if (key === 'date') out.date = str;
      continue;
    }
    if (table[0] !== 'pkg' || table[1] === undefined) continue;
    const pkg = out.pkg.get(table[1])!;
    if (table.length === 2 && key === 'version') pkg.version = str;
    if (table[2] === 'target' && table[3] !== undefined && table.length === 4) {
      const t = pkg.target.get(table[3])!;
      if (key === 'available') t.available = bool === 'true';
      if (key === 'url') t.url = str;
      if (key === 'hash') t.hash = str;
    }
  }
  if (!sawVersion) {
    throw new PlrustError({
      code: 'DIST_MANIFEST_INVALID',
      message: 'the channel manifest is not a Rust dist manifest of version 2 (no manifest-version = "2")',
      hint: 'check PLRUST_DIST_SERVER: it must serve the layout of static.rust-lang.org',
    });
  }
  return out;
}

export function channelManifestUrl(server: string, version: string): string {
  return `${server.replace(/\/+$/, '')}/dist/channel-rust-${version}.toml`;
}

/**
 * The manifest names its files on the official server; a mirror serves the
 * same paths under its own root, as rustup's RUSTUP_DIST_SERVER does.
 */
export function mirrorUrl(server: string, url: string): string {
  const u = new URL(url);
  return `${server.replace(/\/+$/, '')}${u.pathname}`;
}

export interface PackageDownload {
  pkg: DistPackage;
  url: string;
  sha256: string;
}

/** Which archive to fetch for each package, on `host`; a package missing for this host is an error. */
export function planDownloads(
  manifest: ChannelManifest,
  version: string,
  host: string,
  server: string,
): PackageDownload[] {
  return DIST_PACKAGES.map((pkg) => {
    const target = pkg === 'rust-src' ? '*' : host;
    const t = manifest.pkg.get(pkg)?.target.get(target);
    if (!t?.available || !t.url || !t.hash) {
      throw new PlrustError({
        code: 'DIST_PACKAGE_MISSING',
        message: `the channel manifest of Rust ${version} has no ${pkg} for ${target}`,
        hint: 'choose a version and host the dist server publishes, or install the compiler another way (rustup, a distribution package) and pass --rustc',
        exitCode: ExitCode.Failed,
      });
    }
    return { pkg, url: mirrorUrl(server, t.url), sha256: t.hash.toLowerCase() };
  });
}

export function compilersDir(home: HomeLayout): string {
  return path.join(home.root, 'compilers');
}

export function compilerName(version: string, host: string): string {
  return `rust-${version}-${host}`;
}

/** Written last into an installed compiler: where it came from, and that it is whole. */
export const COMPILER_MARKER = 'plrust-compiler.json';

export interface InstalledCompiler {
  dir: string;
  rustc: string;
  cargo: string;
  version: string;
  status: 'installed' | 'unchanged';
  distServer: string;
}

/**
 * Installs one rust-installer tarball's components into `prefix`, as its
 * install.sh would (which is not run): every `file:` and `dir:` entry of each
 * listed component's manifest.in is moved into place.
 */
export function installComponents(unpacked: string, prefix: string): string[] {
  const top = fs.readdirSync(unpacked).filter((n) => fs.statSync(path.join(unpacked, n)).isDirectory());
  const root = top.length === 1 ? path.join(unpacked, top[0]!) : unpacked;
  const bad = (why: string) =>
    new PlrustError({
      code: 'DIST_PACKAGE_INVALID',
      message: `${path.basename(root)} is not a rust-installer package: ${why}`,
      hint: 'the dist server serves something other than Rust release archives; check PLRUST_DIST_SERVER',
    });
  const versionFile = path.join(root, 'rust-installer-version');
  if (!fs.existsSync(versionFile) || fs.readFileSync(versionFile, 'utf8').trim() !== '3')
    throw bad('no rust-installer-version 3');
  const componentsFile = path.join(root, 'components');
  if (!fs.existsSync(componentsFile)) throw bad('no components file');
  const components = fs
    .readFileSync(componentsFile, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const realPrefix = fs.realpathSync(prefix);
  for (const component of components) {
    if (!/^[\w.-]+$/.test(component)) throw bad(`component name '${component}'`);
    const manifest = path.join(root, component, 'manifest.in');
    if (!fs.existsSync(manifest)) throw bad(`component ${component} has no manifest.in`);
    for (const line of fs.readFileSync(manifest, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      const m = /^(file|dir):(.+)$/.exec(line.trim());
      const rel = m?.[2];
      if (!m || !rel || path.isAbsolute(rel) || rel.split('/').includes('..')) throw bad(`manifest line '${line}'`);
      const from = path.join(root, component, rel);
      const to = path.join(prefix, rel);
      if (!fs.existsSync(from)) throw bad(`${component}/${rel} is listed but missing`);
      fs.mkdirSync(path.dirname(to), { recursive: true });
      // An earlier entry may have been a symbolic link; nothing is written through one.
      const parent = fs.realpathSync(path.dirname(to));
      if (parent !== realPrefix && !parent.startsWith(realPrefix + path.sep))
        throw bad(`${component}/${rel} would be installed through a symbolic link`);
      // A directory that exists already (another component's) is merged into; anything else moves.
      if (m[1] === 'dir' && fs.existsSync(to)) fs.cpSync(from, to, { recursive: true, verbatimSymlinks: true });
      else fs.renameSync(from, to);
    }
  }
  return components;
}

export async function installDistCompiler(
  home: HomeLayout,
  opts: {
    version: string;
    host: string;
    distServer: string;
    timeoutMs: number;
    retries: number;
    noWait: boolean;
    onInfo?: (m: string) => void;
    onProgress?: (pkg: string, p: DownloadProgress) => void;
    onRetry?: (n: RetryNotice) => void;
  },
): Promise<InstalledCompiler> {
  if (!/^\d+\.\d+\.\d+$/.test(opts.version)) {
    throw new PlrustError({
      code: 'BAD_RUST_VERSION',
      message: `'${opts.version}' is not a Rust release version`,
      hint: 'give a release such as 1.96.0 (channels like stable are rustup names: use --toolchain for those)',
      exitCode: ExitCode.Usage,
    });
  }
  const root = compilersDir(home);
  const name = compilerName(opts.version, opts.host);
  const dest = path.join(root, name);
  const result = (status: InstalledCompiler['status']): InstalledCompiler => ({
    dir: dest,
    rustc: path.join(dest, 'bin', 'rustc'),
    cargo: path.join(dest, 'bin', 'cargo'),
    version: opts.version,
    status,
    distServer: opts.distServer,
  });
  fs.mkdirSync(root, { recursive: true });
  const release = await acquireLock(home.locks, 'compilers', {
    noWait: opts.noWait,
    what: 'compiler downloads',
    ...(opts.onInfo ? { onWait: opts.onInfo } : {}),
  });
  let work: string | undefined;
  try {
    cleanStaleTemp(home.tmp);
    const store = path.join(root, '.store');
    for (const orphan of orphanedStoreEntries(store, root)) fs.rmSync(orphan, { recursive: true, force: true });
    if (fs.existsSync(path.join(dest, COMPILER_MARKER))) return result('unchanged');

    work = makeTempDir(home.tmp, `compiler-${name}`);
    const common = {
      home: home.root,
      timeoutMs: opts.timeoutMs,
      retries: opts.retries,
      ...(opts.onRetry ? { onRetry: opts.onRetry } : {}),
    };
    const manifestUrl = channelManifestUrl(opts.distServer, opts.version);
    opts.onInfo?.(`channel manifest: ${manifestUrl}`);
    const got = await download({ url: manifestUrl, ...common });
    const manifest = parseChannelManifest(fs.readFileSync(got.path, 'utf8'));
    const stated = manifest.pkg.get('rustc')?.version;
    if (stated !== undefined && !stated.startsWith(`${opts.version} `) && stated !== opts.version) {
      throw new PlrustError({
        code: 'DIST_MANIFEST_INVALID',
        message: `${manifestUrl} describes rustc ${stated}, not ${opts.version}`,
        hint: 'the mirror serves the wrong manifest under this name; check PLRUST_DIST_SERVER',
      });
    }
    const plan = planDownloads(manifest, opts.version, opts.host, opts.distServer);
    const prefix = path.join(work, 'prefix');
    fs.mkdirSync(prefix);
    for (const p of plan) {
      opts.onInfo?.(`${p.pkg}: ${p.url}`);
      const file = await download({
        url: p.url,
        sha256: p.sha256,
        ...common,
        ...(opts.onProgress ? { onProgress: (x: DownloadProgress) => opts.onProgress!(p.pkg, x) } : {}),
      });
      const unpacked = path.join(work, `unpacked-${p.pkg}`);
      await extractTarGz(file.path, unpacked);
      installComponents(unpacked, prefix);
      fs.rmSync(unpacked, { recursive: true, force: true });
    }
    const info = await probeRustc(path.join(prefix, 'bin', 'rustc'));
    if (info.version !== opts.version) {
      throw new PlrustError({
        code: 'DIST_PACKAGE_INVALID',
        message: `the downloaded rustc reports version ${info.version}, not ${opts.version}`,
        hint: 'the mirror serves archives of another release under this name; check PLRUST_DIST_SERVER',
      });
    }
    if (!fs.existsSync(path.join(prefix, 'bin', 'cargo'))) {
      throw new PlrustError({
        code: 'DIST_PACKAGE_INVALID',
        message: 'the downloaded cargo package installed no bin/cargo',
        hint: 'check PLRUST_DIST_SERVER',
      });
    }
    fs.writeFileSync(
      path.join(prefix, COMPILER_MARKER),
      `${JSON.stringify(
        {
          version: opts.version,
          host: opts.host,
          distServer: opts.distServer,
          manifest: { url: manifestUrl, sha256: got.sha256, date: manifest.date },
          packages: plan,
          installedAt: new Date().toISOString(),
        },
        null,
        2,
      )}\n`,
    );
    const previous = publishDir(prefix, dest, store);
    if (previous) fs.rmSync(previous, { recursive: true, force: true });
    return result('installed');
  } finally {
    if (work) fs.rmSync(work, { recursive: true, force: true });
    await release();
  }
}
