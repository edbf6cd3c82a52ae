/**
 * The crates the runtime crate depends on: serde_json (for `Json` and
 * `JsonB`, whose `serde_json::Value` user code builds with `json!` and
 * matches as usual) and what it needs. They are built offline from the
 * Debian-packaged sources in /usr/share/cargo/registry (librust-serde-json-dev,
 * scripts/setup-system.sh), with rustc directly, against the restricted
 * sysroot, into the runtime's directory, where every function library's
 * compilation finds them. Their build scripts only detect old compilers and
 * the float parser's limb width; the cfgs they would print for the supported
 * compilers and 64-bit targets are given here instead.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PlrustError } from '../util/errors.js';
import { exec } from '../util/exec.js';
import { RUSTC_ENV, targetCrateArgs } from '../compile/generate.js';

export const CARGO_REGISTRY = '/usr/share/cargo/registry';

interface DepCrate {
  name: string;
  edition: '2015' | '2018';
  cfgs: string[];
  deps: string[];
}

/** In build order. */
const CRATES: DepCrate[] = [
  { name: 'itoa', edition: '2018', cfgs: [], deps: [] },
  { name: 'ryu', edition: '2015', cfgs: ['integer128', 'must_use_return', 'maybe_uninit'], deps: [] },
  { name: 'serde', edition: '2015', cfgs: ['feature="std"'], deps: [] },
  {
    name: 'serde_json',
    edition: '2018',
    cfgs: ['feature="std"', 'limb_width_64'],
    deps: ['itoa', 'ryu', 'serde'],
  },
];

/** What the dependencies are built from, for the runtime's source hash: a new packaged version rebuilds them. */
export function runtimeDepsFingerprint(registry = CARGO_REGISTRY): string {
  return JSON.stringify(CRATES.map((c) => [registrySource(c.name, registry), c.edition, c.cfgs]));
}

export function rlibName(crate: string): string {
  return `lib${crate}.rlib`;
}

/** The newest packaged version's source directory of `crate`, or null. */
export function registrySource(crate: string, registry = CARGO_REGISTRY): string | null {
  let names: string[];
  try {
    names = fs.readdirSync(registry);
  } catch {
    return null;
  }
  const versions = names
    .map((n) => new RegExp(`^${crate}-(\\d+)\\.(\\d+)\\.(\\d+)$`).exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(b[1]) - Number(a[1]) || Number(b[2]) - Number(a[2]) || Number(b[3]) - Number(a[3]));
  return versions[0] ? path.join(registry, versions[0][0]) : null;
}

/**
 * Builds the runtime's dependencies into `outDir`; returns the rustc
 * arguments that let the runtime crate use them.
 */
export async function buildRuntimeDeps(o: {
  rustc: string;
  sysroot: string;
  targetSpec: string;
  outDir: string;
  env?: NodeJS.ProcessEnv;
  registry?: string;
}): Promise<string[]> {
  for (const c of CRATES) {
    const src = registrySource(c.name, o.registry);
    if (src === null) {
      throw new PlrustError({
        code: 'RUNTIME_DEPENDENCY_MISSING',
        message: `the runtime crate needs the Rust crate ${c.name}, which is not in ${o.registry ?? CARGO_REGISTRY}`,
        hint: 'install the Debian package librust-serde-json-dev (scripts/setup-system.sh installs it)',
      });
    }
    const out = path.join(o.outDir, rlibName(c.name));
    const partial = `${out}.partial-${process.pid}`;
    const common = targetCrateArgs({
      src: path.join(src, 'src', 'lib.rs'),
      crateName: c.name,
      crateType: 'rlib',
      sysroot: o.sysroot,
      targetSpec: o.targetSpec,
      allowFeatures: [],
    });
    // The crate's own edition, not the one function crates use.
    common[common.indexOf('--edition') + 1] = c.edition;
    const args = [
      ...common,
      '--cap-lints',
      'allow',
      '-C',
      'debuginfo=0',
      '-C',
      'embed-bitcode=no',
      `--remap-path-prefix=${path.dirname(src)}=registry`,
      ...c.cfgs.flatMap((cfg) => ['--cfg', cfg]),
      ...c.deps.flatMap((d) => ['--extern', `${d}=${path.join(o.outDir, rlibName(d))}`]),
      '-L',
      `dependency=${o.outDir}`,
      '-o',
      partial,
    ];
    const r = await exec(o.rustc, args, { env: { ...(o.env ?? process.env), ...RUSTC_ENV } });
    if (r.code !== 0) {
      fs.rmSync(partial, { force: true });
      throw new PlrustError({
        code: 'RUNTIME_BUILD_FAILED',
        message: `compiling ${c.name} (a dependency of the runtime crate) for ${path.basename(o.targetSpec, '.json')} failed:\n${r.stderr.trim()}`,
        hint: `The crate's packaged source (${src}) may not suit this rustc; reinstall librust-serde-json-dev or use the Debian rustc.`,
        data: { rustc: o.rustc, args },
      });
    }
    fs.renameSync(partial, out);
  }
  return ['--extern', `serde_json=${path.join(o.outDir, rlibName('serde_json'))}`, '-L', `dependency=${o.outDir}`];
}
