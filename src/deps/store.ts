/**
 * The dependency store: each allowed crate, at one version with one feature
 * set, built once per toolchain and target with its dependency closure, by
 * cargo, offline, against the target's restricted sysroot — inside the
 * compiler's sandbox, because build scripts and proc-macros run code. A
 * function then links the stored rlibs with `--extern`; cargo never runs
 * per function (docs/DEPENDENCIES.md).
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

export const CARGO = '/usr/bin/cargo';
/** Bumped when the store layout or the build's flags change meaning. */
const STORE_FORMAT = 1;
const UNIT_FILE = 'unit.json';

/** One built crate: what a function's rustc needs to link it. */
export interface DependencyUnit {
  key: string;
  dir: string;
  /** The name the code uses: the library target's name. */
  crate: string;
  /** The rlib (or a proc-macro's host library). */
  lib: string;
  /** Where rustc finds the crate's own dependencies (target and host). */
  searchDirs: string[];
}

export interface StoreOptions {
  /** Where new units are built. */
  storeRoot: string;
  /** Stores searched first and never written (the administrator's `plrust deps build`, for the server). */
  prebuiltRoots?: string[];
  tmpRoot: string;
  confine: ConfineSettings;
  /** The offline directory source the crates come from. */
  source: string;
  toolchainDirs: string[];
}

function unitKey(tc: ResolvedToolchain, triple: string, d: ResolvedDependency, source: string): string {
  return sha256Buffer(
    JSON.stringify({ format: STORE_FORMAT, toolchain: tc.id, triple, source, dep: d, flags: targetRustflags('S') }),
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

function cargoToml(d: ResolvedDependency): string {
  const features = d.features.map((f) => JSON.stringify(f)).join(', ');
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
    `${JSON.stringify(d.name)} = { version = "=${d.version}", features = [${features}], default-features = ${d.defaultFeatures} }`,
    '',
    '[profile.release]',
    'opt-level = 2',
    'panic = "unwind"',
    'debug = false',
    '',
  ].join('\n');
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
  target?: { name: string; kind: string[] };
  filenames?: string[];
}

/** The library artifact of the allowed crate itself among cargo's JSON messages. */
function findLibrary(stdout: string, d: ResolvedDependency): { crate: string; file: string } | undefined {
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    let m: CargoArtifact;
    try {
      m = JSON.parse(line) as CargoArtifact;
    } catch {
      continue;
    }
    if (m.reason !== 'compiler-artifact' || !m.target || !m.filenames) continue;
    if (!m.package_id?.endsWith(`#${d.name}@${d.version}`)) continue;
    const kind = m.target.kind;
    const file = kind.includes('proc-macro')
      ? m.filenames.find((f) => f.endsWith('.so'))
      : kind.includes('lib') || kind.includes('rlib')
        ? m.filenames.find((f) => f.endsWith('.rlib'))
        : undefined;
    if (file) return { crate: m.target.name.replace(/-/g, '_'), file };
  }
  return undefined;
}

function readUnit(dir: string, key: string): DependencyUnit | undefined {
  try {
    const u = JSON.parse(fs.readFileSync(path.join(dir, UNIT_FILE), 'utf8')) as {
      crate: string;
      lib: string;
      searchDirs: string[];
    };
    return {
      key,
      dir,
      crate: u.crate,
      lib: path.join(dir, u.lib),
      searchDirs: u.searchDirs.map((s) => path.join(dir, s)),
    };
  } catch {
    return undefined;
  }
}

function buildFailed(d: ResolvedDependency, triple: string, stderr: string): PlrustError {
  const lines = stderr
    .split('\n')
    .filter((l) => /error|warning: build failed|could not|failed to/i.test(l))
    .slice(0, 12);
  return new PlrustError({
    code: 'DEPENDENCY_BUILD_FAILED',
    message: `building crate ${d.name} ${d.version} for ${triple} failed:\n  ${(lines.length ? lines : stderr.trim().split('\n').slice(-12)).join('\n  ')}`,
    hint: 'the crate, or one it depends on, may be missing from the dependency source or not build against the restricted std; the administrator can run `plrust deps build --allowed FILE` to see the whole output',
    data: { stderr: stderr.slice(-20000) },
  });
}

async function buildUnit(
  d: ResolvedDependency,
  tc: ResolvedToolchain,
  arch: Arch,
  dir: string,
  opts: StoreOptions,
): Promise<{ crate: string; lib: string; searchDirs: string[] }> {
  const t = targetOf(tc, arch);
  const src = path.join(dir, 'src');
  const out = path.join(dir, 'out');
  fs.mkdirSync(src);
  fs.mkdirSync(path.join(out, 'project'), { recursive: true });
  fs.mkdirSync(path.join(out, 'cargo-home'));
  fs.writeFileSync(path.join(out, 'project', 'Cargo.toml'), cargoToml(d));
  fs.writeFileSync(path.join(out, 'project', 'lib.rs'), '');
  fs.writeFileSync(path.join(out, 'cargo-home', 'config.toml'), cargoConfig(opts.source));
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
      readOnly: [...opts.toolchainDirs, opts.source],
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
  if (r.limit) throw limitError(r.limit, opts.confine.limits, `building crate ${d.name} ${d.version} for ${t.triple}`);
  if (r.code !== 0) throw buildFailed(d, t.triple, r.stderr);
  const lib = findLibrary(r.stdout, d);
  if (!lib) throw buildFailed(d, t.triple, `cargo did not report a library for ${d.name}\n${r.stderr}`);
  const boxOut = opts.confine.sandbox ? BOX.out : out;
  const rel = (p: string) => path.join('out', path.relative(boxOut, p));
  // Build-script binaries and fingerprints are not needed to link: only the libraries stay.
  for (const sub of [path.join('target', 'release'), path.join('target', t.triple, 'release')]) {
    for (const junk of ['build', '.fingerprint', 'incremental', 'examples'])
      fs.rmSync(path.join(out, sub, junk), { recursive: true, force: true });
  }
  fs.rmSync(path.join(out, 'cargo-home'), { recursive: true, force: true });
  fs.rmSync(src, { recursive: true, force: true });
  return {
    crate: lib.crate,
    lib: rel(lib.file),
    searchDirs: [
      path.join('out', 'target', t.triple, 'release', 'deps'),
      path.join('out', 'target', 'release', 'deps'),
    ],
  };
}

/** The stored unit for each dependency, building those not built yet (one build per unit at a time). */
export async function ensureDependencies(
  deps: ResolvedDependency[],
  tc: ResolvedToolchain,
  arch: Arch,
  opts: StoreOptions,
): Promise<DependencyUnit[]> {
  const units: DependencyUnit[] = [];
  for (const d of deps) {
    const triple = targetOf(tc, arch).triple;
    const key = unitKey(tc, triple, d, opts.source);
    const dir = path.join(opts.storeRoot, key);
    let unit = [...(opts.prebuiltRoots ?? []), opts.storeRoot]
      .map((root) => readUnit(path.join(root, key), key))
      .find((u) => u !== undefined);
    if (!unit) {
      const release = await acquireLock(path.join(opts.storeRoot, '.locks'), key, {
        noWait: false,
        what: `building crate ${d.name} ${d.version} for ${triple}`,
      });
      try {
        unit = readUnit(dir, key);
        if (!unit) {
          fs.mkdirSync(opts.tmpRoot, { recursive: true });
          const tmp = fs.mkdtempSync(path.join(opts.tmpRoot, `dep-${key.slice(0, 12)}-`));
          try {
            const built = await buildUnit(d, tc, arch, tmp, opts);
            fs.writeFileSync(path.join(tmp, UNIT_FILE), `${JSON.stringify(built)}\n`);
            // mkdtemp's 0700 would hide a unit `plrust deps build` made from the server's OS user.
            fs.chmodSync(tmp, 0o755);
            fs.renameSync(tmp, dir);
          } finally {
            fs.rmSync(tmp, { recursive: true, force: true });
          }
          unit = readUnit(dir, key)!;
        }
      } finally {
        await release();
      }
    }
    units.push(unit);
  }
  return units;
}

/** rustc flags that link a function against its units. */
export function linkArgs(units: DependencyUnit[]): string[] {
  const dirs = [...new Set(units.flatMap((u) => u.searchDirs))];
  return [
    ...units.flatMap((u) => ['--extern', `${u.crate}=${u.lib}`]),
    ...dirs.flatMap((d) => ['-L', `dependency=${d}`]),
  ];
}
