/**
 * Restricted std sysroots for tests. `PLRUST_TEST_SYSROOT_X86_64` /
 * `PLRUST_TEST_SYSROOT_AARCH64` name a ready sysroot root (for example the
 * `sysroot/` of an installed toolchain). Otherwise the sysroot is built the
 * way `plrust toolchain install` does it, from the Debian rust-src of
 * /usr/bin/rustc, and cached under PLRUST_TEST_CACHE (default
 * /tmp/plrust-test-cache) keyed by the compiler and the rule files, so a
 * rule change rebuilds and an unchanged tree builds once.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { applyRestriction, applySourceRules, loadRuleSets } from '../../src/toolchain/restrict.js';
import { exec } from '../../src/util/exec.js';
import { packageRoot } from '../../src/util/package-root.js';

export type TestArch = 'x86_64' | 'aarch64';

const RUSTC = '/usr/bin/rustc';
const CARGO = '/usr/bin/cargo';

export async function getTestSysroot(arch: TestArch): Promise<{ sysroot: string; spec: string }> {
  const triple = `${arch}-postgres-linux-gnu`;
  const given = process.env[`PLRUST_TEST_SYSROOT_${arch.toUpperCase()}`];
  if (given) return { sysroot: given, spec: specOfGivenSysroot(given, triple) };

  const vv = await run(RUSTC, ['-vV']);
  const version = /^release: (\S+)$/m.exec(vv)?.[1];
  if (!version) throw new Error(`cannot read the release of ${RUSTC}:\n${vv}`);
  const source = `/usr/src/rustc-${version}/library`;
  if (!fs.existsSync(source)) throw new Error(`no std source at ${source} for ${RUSTC} ${version} (Debian package rust-web-src)`);

  const spec = await specFor(arch);
  const dir = path.join(cacheRoot(), `std-${version}-${cacheKey(vv)}`);
  const sysroot = path.join(dir, `sysroot-${arch}`);
  const done = path.join(sysroot, '.complete');
  fs.mkdirSync(dir, { recursive: true });
  const release = await lockfile.lock(dir, {
    lockfilePath: `${dir}.lock`,
    stale: 60_000,
    retries: { retries: 600, factor: 1, minTimeout: 1000, maxTimeout: 1000 },
  });
  try {
    const specPath = path.join(dir, 'specs', `${triple}.json`);
    if (fs.existsSync(done)) return { sysroot, spec: specPath };
    const library = await preparedLibrary(dir, source, version);
    fs.mkdirSync(path.dirname(specPath), { recursive: true });
    fs.writeFileSync(specPath, spec);
    const targetDir = path.join(dir, 'target');
    const log = path.join(dir, `build-${arch}.log`);
    const args = ['build', '-Zjson-target-spec', '-p', 'sysroot', '--release', '--target', specPath, '--features', 'compiler-builtins-mem,panic-unwind'];
    const r = await exec(CARGO, args, {
      cwd: library,
      env: { ...process.env, RUSTC, RUSTC_BOOTSTRAP: '1', RUSTFLAGS: '-Zforce-unstable-if-unmarked', CARGO_TARGET_DIR: targetDir },
      logFile: log,
    });
    if (r.code !== 0) throw new Error(`building the restricted std for ${triple} failed; see ${log}\n${r.stderr.slice(-4000)}`);

    const libDir = path.join(sysroot, 'lib', 'rustlib', triple, 'lib');
    fs.rmSync(sysroot, { recursive: true, force: true });
    fs.mkdirSync(libDir, { recursive: true });
    const deps = path.join(targetDir, triple, 'release', 'deps');
    for (const f of fs.readdirSync(deps)) if (f.endsWith('.rlib')) fs.copyFileSync(path.join(deps, f), path.join(libDir, f));
    fs.writeFileSync(path.join(sysroot, 'lib', 'rustlib', triple, 'target.json'), spec);
    fs.writeFileSync(done, '');
    return { sysroot, spec: specPath };
  } finally {
    await release();
  }
}

function cacheRoot(): string {
  return process.env.PLRUST_TEST_CACHE || '/tmp/plrust-test-cache';
}

/** Everything that changes the built std: the compiler (which also fixes the specs) and the rule files. */
function cacheKey(rustcVV: string): string {
  const h = createHash('sha256').update(rustcVV);
  for (const sub of ['std-rules', 'source-prep']) {
    const root = path.join(packageRoot(), 'templates', sub);
    for (const f of listFiles(root)) h.update(f).update(fs.readFileSync(path.join(root, f)));
  }
  return h.digest('hex').slice(0, 16);
}

function listFiles(root: string, rel = ''): string[] {
  return fs
    .readdirSync(path.join(root, rel), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(root, path.join(rel, e.name)) : [path.join(rel, e.name)]))
    .sort();
}

/** One restricted copy of the std source per cache entry, shared by both targets. */
async function preparedLibrary(dir: string, source: string, version: string): Promise<string> {
  const library = path.join(dir, 'library');
  const ready = path.join(dir, '.library-ready');
  if (fs.existsSync(ready)) return library;
  fs.rmSync(library, { recursive: true, force: true });
  fs.cpSync(source, library, { recursive: true, filter: (p) => path.basename(p) !== 'target' });
  await applySourceRules(library, version, await loadRuleSets(path.join(packageRoot(), 'templates', 'source-prep')), 'source-prep');
  fs.mkdirSync(path.join(library, '.cargo'), { recursive: true });
  fs.writeFileSync(
    path.join(library, '.cargo', 'config.toml'),
    `[source.crates-io]\nreplace-with = "vendored"\n\n[source.vendored]\ndirectory = ${JSON.stringify(path.join(library, 'vendor'))}\n`,
  );
  await applyRestriction(library, version);
  fs.writeFileSync(ready, '');
  return library;
}

/** The target spec: rustc's own spec of the base triple, with the postgres vendor. */
async function specFor(arch: TestArch): Promise<string> {
  const text = await run(RUSTC, ['-Zunstable-options', '--print', 'target-spec-json', '--target', `${arch}-unknown-linux-gnu`], {
    RUSTC_BOOTSTRAP: '1',
  });
  const spec = JSON.parse(text) as Record<string, unknown>;
  delete spec.metadata;
  delete spec['is-builtin'];
  spec.vendor = 'postgres';
  if (arch === 'aarch64' && process.arch !== 'arm64') spec.linker = 'aarch64-linux-gnu-gcc';
  return `${JSON.stringify(spec, null, 2)}\n`;
}

/** rustc names a JSON target after its file, so the spec must be `<triple>.json`. */
function specOfGivenSysroot(sysroot: string, triple: string): string {
  const beside = path.join(sysroot, '..', 'targets', `${triple}.json`);
  if (fs.existsSync(beside)) return beside;
  const inside = path.join(sysroot, 'lib', 'rustlib', triple, 'target.json');
  if (!fs.existsSync(inside)) throw new Error(`no target spec for ${triple} in ${sysroot}`);
  const copy = path.join(cacheRoot(), 'given-specs', createHash('sha256').update(sysroot).digest('hex').slice(0, 16), `${triple}.json`);
  fs.mkdirSync(path.dirname(copy), { recursive: true });
  fs.copyFileSync(inside, copy);
  return copy;
}

async function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const r = await exec(cmd, args, { env: { ...process.env, ...env } });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}
