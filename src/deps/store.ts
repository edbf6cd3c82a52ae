/**
 * The dependency store: a function's set of allowed crates, each at one
 * version with one feature set, built once per toolchain and target with
 * their dependency closure, by cargo, offline, against the target's
 * restricted sysroot — inside the compiler's sandbox, because build scripts
 * and proc-macros run code. The set is one unit, not one per crate: crates
 * that share a dependency (serde_json and serde with its derive) must link
 * the same build of it, and two builds of one crate in the search path are
 * ambiguous to rustc. A function then links the stored rlibs with
 * `--extern`; cargo never runs per function (docs/DEPENDENCIES.md).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PlrustError } from '../util/errors.js';
import { sha256Buffer } from '../util/sha256.js';
import { acquireLock } from '../util/lock.js';
import type { ResolvedToolchain } from '../toolchain/store.js';
import { targetOf } from '../toolchain/store.js';
import type { Arch } from '../config/schema.js';
import { RUSTC_ENV } from '../compile/generate.js';
import { BOX, type ConfineSettings } from '../confine/plan.js';
import { runConfined, limitError } from '../confine/run.js';
import type { ResolvedDependency } from './allowlist.js';
import { isSparseUrl } from './source.js';

export const CARGO = '/usr/bin/cargo';
/** Bumped when the store layout or the build's flags change meaning. */
const STORE_FORMAT = 2;
const UNIT_FILE = 'unit.json';

/** One allowed crate of a unit: the name the code uses (the library target's) and its rlib (or a proc-macro's host library). */
export interface UnitCrate {
  crate: string;
  lib: string;
}

/** One built set of crates: what a function's rustc needs to link them. */
export interface DependencyUnit {
  key: string;
  dir: string;
  crates: UnitCrate[];
  /** Where rustc finds the crates' own dependencies (target and host). */
  searchDirs: string[];
  /**
   * Library names of every crate built in the unit (the allowed crates and
   * their closure, proc-macros included): macros defined there are the
   * administrator's choice, and the expanded check trusts what they write
   * (src/analysis/expanded.ts).
   */
  libraries: string[];
  /** Derive helper attributes the unit's proc-macros declare (`serde`): the first pass accepts them. */
  helpers: string[];
  /** Built by this call, into the writable store: `discardUnit` may take it back. */
  fresh?: true;
}

interface UnitRecord {
  crates: UnitCrate[];
  searchDirs: string[];
  libraries: string[];
  helpers: string[];
}

export interface StoreOptions {
  /** Where new units are built. */
  storeRoot: string;
  /** Stores searched first and never written (the administrator's `plrust deps build`, for the server). */
  prebuiltRoots?: string[];
  tmpRoot: string;
  confine: ConfineSettings;
  /** The directory source the crates come from, or a mirror's `sparse+…` index URL (src/deps/source.ts). */
  source: string;
  toolchainDirs: string[];
}

function unitKey(tc: ResolvedToolchain, triple: string, deps: ResolvedDependency[], source: string): string {
  return sha256Buffer(
    JSON.stringify({ format: STORE_FORMAT, toolchain: tc.id, triple, source, deps, flags: targetRustflags('S') }),
  );
}

/**
 * Flags of every crate built for the target: the restricted sysroot, and no
 * unstable features even though RUSTC_BOOTSTRAP is set (the custom target
 * needs it; a crate's build script must not see a nightly compiler).
 */
function targetRustflags(sysroot: string): string[] {
  return ['--sysroot', sysroot, '-Zallow-features=', '-C', 'panic=unwind'];
}

function cargoToml(deps: ResolvedDependency[]): string {
  const line = (d: ResolvedDependency) =>
    `${JSON.stringify(d.name)} = { version = "=${d.version}", features = [${d.features.map((f) => JSON.stringify(f)).join(', ')}], default-features = ${d.defaultFeatures} }`;
  return [
    '[package]',
    'name = "plrust_dependency_unit"',
    'version = "0.0.0"',
    'edition = "2021"',
    '',
    '[lib]',
    'path = "lib.rs"',
    '',
    '[dependencies]',
    ...deps.map(line),
    '',
    '[profile.release]',
    'opt-level = 2',
    'panic = "unwind"',
    'debug = false',
    '',
  ].join('\n');
}

/**
 * A mirror's crates for the unit, fetched by `cargo vendor` into `dir/vendor`
 * as a directory source. This is the one step with network access, so it
 * runs outside the box; it resolves and downloads (checking each crate's
 * checksum against the index) and runs no crate code. The boxed build then
 * reads the directory offline like any other.
 */
async function vendorFromMirror(
  deps: ResolvedDependency[],
  dir: string,
  manifest: string,
  opts: StoreOptions,
): Promise<string> {
  const home = path.join(dir, 'vendor-home');
  const vendor = path.join(dir, 'vendor');
  fs.mkdirSync(home);
  fs.writeFileSync(
    path.join(home, 'config.toml'),
    [
      '[source.crates-io]',
      'replace-with = "plrust-mirror"',
      '',
      '[source.plrust-mirror]',
      `registry = ${JSON.stringify(opts.source)}`,
      '',
    ].join('\n'),
  );
  const r = await runConfined(
    {
      program: CARGO,
      args: () => [
        'vendor',
        '--quiet',
        '--respect-source-config',
        '--versioned-dirs',
        '--manifest-path',
        manifest,
        vendor,
      ],
      readOnly: [],
      src: dir,
      out: dir,
      env: { CARGO_HOME: home, CARGO_TERM_COLOR: 'never' },
    },
    { ...opts.confine, sandbox: false },
  );
  if (r.limit) throw limitError(r.limit, opts.confine.limits, `fetching ${describe(deps)} from ${opts.source}`);
  if (r.code !== 0)
    throw new PlrustError({
      code: 'DEPENDENCY_BUILD_FAILED',
      message: `fetching ${describe(deps)} from the registry mirror ${opts.source} failed:\n  ${r.stderr.trim().split('\n').slice(-12).join('\n  ')}`,
      hint: 'the mirror must serve every crate of the closure (Cargo sparse protocol) and be reachable from this machine',
      data: { stderr: r.stderr.slice(-20000) },
    });
  fs.rmSync(home, { recursive: true, force: true });
  return vendor;
}

function cargoConfig(source: string): string {
  // Source replacement: every crates.io dependency comes from the administrator's directory.
  return [
    '[source.crates-io]',
    'replace-with = "plrust-offline"',
    '',
    '[source.plrust-offline]',
    `directory = ${JSON.stringify(source)}`,
    '',
    '[net]',
    'offline = true',
    '',
  ].join('\n');
}

interface CargoArtifact {
  reason: string;
  package_id?: string;
  target?: { name: string; kind: string[]; src_path?: string };
  filenames?: string[];
}

function artifacts(stdout: string): CargoArtifact[] {
  const out: CargoArtifact[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const m = JSON.parse(line) as CargoArtifact;
      if (m.reason === 'compiler-artifact' && m.target && m.filenames) out.push(m);
    } catch {
      // cargo's JSON lines only; anything else is its human output.
    }
  }
  return out;
}

/** The library artifact of an allowed crate itself among cargo's artifacts. */
function findLibrary(all: CargoArtifact[], d: ResolvedDependency): { crate: string; file: string } | undefined {
  for (const m of all) {
    if (!m.package_id?.endsWith(`#${d.name}@${d.version}`)) continue;
    const kind = m.target!.kind;
    const file = kind.includes('proc-macro')
      ? m.filenames!.find((f) => f.endsWith('.so'))
      : kind.includes('lib') || kind.includes('rlib')
        ? m.filenames!.find((f) => f.endsWith('.rlib'))
        : undefined;
    if (file) return { crate: m.target!.name.replace(/-/g, '_'), file };
  }
  return undefined;
}

/**
 * Derive helper attributes a proc-macro crate declares
 * (`#[proc_macro_derive(Name, attributes(a, b))]`, which rustc requires at
 * the crate root), read from its source in the administrator's directory.
 */
export function declaredHelpers(rootSource: string): string[] {
  const out = new Set<string>();
  for (const m of rootSource.matchAll(/#\s*\[\s*proc_macro_derive\s*\(\s*\w+\s*,\s*attributes\s*\(([^)]*)\)/g)) {
    for (const name of m[1]!.split(',')) if (/^\s*[A-Za-z_]\w*\s*$/.test(name)) out.add(name.trim());
  }
  return [...out].sort();
}

/** Library names among the artifacts, with the helpers their proc-macros declare (their sources are under `source`). */
function libraries(all: CargoArtifact[], source: string): { libraries: string[]; helpers: string[] } {
  const names = new Set<string>();
  const helpers = new Set<string>();
  for (const m of all) {
    const kind = m.target!.kind;
    if (!kind.some((k) => k === 'lib' || k === 'rlib' || k === 'proc-macro')) continue;
    names.add(m.target!.name.replace(/-/g, '_'));
    if (!kind.includes('proc-macro')) continue;
    const root = m.target!.src_path;
    if (root === undefined || path.relative(source, root).startsWith('..')) continue;
    for (const h of declaredHelpers(fs.readFileSync(root, 'utf8'))) helpers.add(h);
  }
  return { libraries: [...names].sort(), helpers: [...helpers].sort() };
}

function readUnit(dir: string, key: string): DependencyUnit | undefined {
  try {
    const u = JSON.parse(fs.readFileSync(path.join(dir, UNIT_FILE), 'utf8')) as UnitRecord;
    return {
      key,
      dir,
      crates: u.crates.map((c) => ({ crate: c.crate, lib: path.join(dir, c.lib) })),
      searchDirs: u.searchDirs.map((s) => path.join(dir, s)),
      libraries: u.libraries,
      helpers: u.helpers,
    };
  } catch {
    return undefined;
  }
}

function buildFailed(deps: ResolvedDependency[], triple: string, stderr: string): PlrustError {
  const lines = stderr
    .split('\n')
    .filter((l) => /error|warning: build failed|could not|failed to/i.test(l))
    .slice(0, 12);
  return new PlrustError({
    code: 'DEPENDENCY_BUILD_FAILED',
    message: `building ${deps.length === 1 ? 'crate' : 'crates'} ${describe(deps)} for ${triple} failed:\n  ${(lines.length ? lines : stderr.trim().split('\n').slice(-12)).join('\n  ')}`,
    hint: 'the crate, or one it depends on, may be missing from the dependency source or not build against the restricted std; the administrator can run `plrust deps build --allowed FILE` to see the whole output',
    data: { stderr: stderr.slice(-20000) },
  });
}

function describe(deps: ResolvedDependency[]): string {
  return deps.map((d) => `${d.name} ${d.version}`).join(', ');
}

async function buildUnit(
  deps: ResolvedDependency[],
  tc: ResolvedToolchain,
  arch: Arch,
  dir: string,
  opts: StoreOptions,
): Promise<UnitRecord> {
  const t = targetOf(tc, arch);
  const src = path.join(dir, 'src');
  const out = path.join(dir, 'out');
  fs.mkdirSync(src);
  fs.mkdirSync(path.join(out, 'project'), { recursive: true });
  fs.mkdirSync(path.join(out, 'cargo-home'));
  fs.writeFileSync(path.join(out, 'project', 'Cargo.toml'), cargoToml(deps));
  fs.writeFileSync(path.join(out, 'project', 'lib.rs'), '');
  const manifest = path.join(out, 'project', 'Cargo.toml');
  const directory = isSparseUrl(opts.source) ? await vendorFromMirror(deps, dir, manifest, opts) : opts.source;
  fs.writeFileSync(path.join(out, 'cargo-home', 'config.toml'), cargoConfig(directory));
  const jobs = String(Math.max(1, Math.min(4, os.availableParallelism())));
  const r = await runConfined(
    {
      program: CARGO,
      args: (at) => [
        'build',
        '-Zjson-target-spec',
        '--release',
        '--offline',
        '--quiet',
        '--jobs',
        jobs,
        '--manifest-path',
        path.join(at.out, 'project', 'Cargo.toml'),
        '--target',
        t.specPath,
        '--target-dir',
        path.join(at.out, 'target'),
        '--message-format=json-render-diagnostics',
      ],
      readOnly: [...opts.toolchainDirs, directory],
      src,
      out,
      env: {
        ...RUSTC_ENV,
        RUSTC: fs.realpathSync(tc.manifest.rustc.path),
        CARGO_HOME: opts.confine.sandbox ? `${BOX.out}/cargo-home` : path.join(out, 'cargo-home'),
        CARGO_ENCODED_RUSTFLAGS: targetRustflags(t.sysrootPath).join('\x1f'),
        CARGO_TERM_COLOR: 'never',
      },
    },
    opts.confine,
  );
  if (r.limit) throw limitError(r.limit, opts.confine.limits, `building ${describe(deps)} for ${t.triple}`);
  if (r.code !== 0) throw buildFailed(deps, t.triple, r.stderr);
  const all = artifacts(r.stdout);
  const libs = deps.map((d) => {
    const lib = findLibrary(all, d);
    if (!lib) throw buildFailed(deps, t.triple, `cargo did not report a library for ${d.name}\n${r.stderr}`);
    return lib;
  });
  const boxOut = opts.confine.sandbox ? BOX.out : out;
  const rel = (p: string) => path.join('out', path.relative(boxOut, p));
  // Build-script binaries and fingerprints are not needed to link: only the libraries stay.
  for (const sub of [path.join('target', 'release'), path.join('target', t.triple, 'release')]) {
    for (const junk of ['build', '.fingerprint', 'incremental', 'examples'])
      fs.rmSync(path.join(out, sub, junk), { recursive: true, force: true });
  }
  const named = libraries(all, directory);
  fs.rmSync(path.join(out, 'cargo-home'), { recursive: true, force: true });
  fs.rmSync(src, { recursive: true, force: true });
  // A mirror's fetched sources are not needed to link.
  if (directory !== opts.source) fs.rmSync(directory, { recursive: true, force: true });
  return {
    crates: libs.map((l) => ({ crate: l.crate, lib: rel(l.file) })),
    searchDirs: [
      path.join('out', 'target', t.triple, 'release', 'deps'),
      path.join('out', 'target', 'release', 'deps'),
    ],
    ...named,
  };
}

/** The stored unit of a set of dependencies, built if not built yet (one build per unit at a time). */
export async function ensureUnit(
  deps: ResolvedDependency[],
  tc: ResolvedToolchain,
  arch: Arch,
  opts: StoreOptions,
): Promise<DependencyUnit> {
  const sorted = [...deps].sort((a, b) => a.name.localeCompare(b.name));
  const triple = targetOf(tc, arch).triple;
  const key = unitKey(tc, triple, sorted, opts.source);
  const dir = path.join(opts.storeRoot, key);
  const found = [...(opts.prebuiltRoots ?? []), opts.storeRoot]
    .map((root) => readUnit(path.join(root, key), key))
    .find((u) => u !== undefined);
  if (found) return found;
  const release = await acquireLock(path.join(opts.storeRoot, '.locks'), key, {
    noWait: false,
    what: `building ${describe(sorted)} for ${triple}`,
  });
  try {
    const done = readUnit(dir, key);
    if (done) return done;
    fs.mkdirSync(opts.tmpRoot, { recursive: true });
    const tmp = fs.mkdtempSync(path.join(opts.tmpRoot, `dep-${key.slice(0, 12)}-`));
    try {
      const built = await buildUnit(sorted, tc, arch, tmp, opts);
      fs.writeFileSync(path.join(tmp, UNIT_FILE), `${JSON.stringify(built)}\n`);
      // mkdtemp's 0700 would hide a unit `plrust deps build` made from the server's OS user.
      fs.chmodSync(tmp, 0o755);
      fs.renameSync(tmp, dir);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    return { ...readUnit(dir, key)!, fresh: true };
  } finally {
    await release();
  }
}

/**
 * Take back a unit the compile that built it was refused for (its library
 * imports a denied symbol): the store keeps only what functions use. Moved
 * aside first, so a reader never sees half a unit.
 */
export function discardUnit(unit: DependencyUnit, tmpRoot: string): void {
  if (!unit.fresh) return;
  const aside = path.join(tmpRoot, `discard-${unit.key.slice(0, 12)}-${process.pid}`);
  try {
    fs.renameSync(unit.dir, aside);
  } catch {
    return;
  }
  fs.rmSync(aside, { recursive: true, force: true });
}

/** rustc flags that link a function against its units. */
export function linkArgs(unit: DependencyUnit | undefined): string[] {
  if (!unit) return [];
  return [
    ...unit.crates.flatMap((c) => ['--extern', `${c.crate}=${c.lib}`]),
    ...unit.searchDirs.flatMap((d) => ['-L', `dependency=${d}`]),
  ];
}
