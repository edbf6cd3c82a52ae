/**
 * `plrust status`: what is installed, read from PLRUST_HOME's own records and
 * checked only as far as a stat, a small checksum or one bubblewrap start
 * goes (doctor does the slow probing). Something plrust installed that is no
 * longer as it was recorded is damage: the report says what and how to
 * repair it, and `ok` is false.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { HomeLayout } from '../util/home.js';
import { sha256File } from '../util/sha256.js';
import { getDefaultToolchain, listToolchains } from '../toolchain/store.js';
import { runtimeSourceHash } from '../toolchain/runtime-crate.js';
import { readInstallManifestFile } from '../install/manifest.js';
import { isolationFacts, type IsolationFacts } from './isolation.js';

const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string };

export interface TargetStatus {
  arch: string;
  triple: string;
  sysroot: string;
  sysrootPresent: boolean;
  /** `outdated`: its runtime crate was built from other runtime sources than this plrust's. */
  runtime: 'current' | 'outdated';
}

export interface ToolchainStatus {
  id: string;
  default: boolean;
  path: string;
  /** false: the manifest is missing or unreadable. */
  healthy: boolean;
  rustc?: { version: string; path: string; present: boolean };
  targets: TargetStatus[];
}

export interface InstalledFileStatus {
  path: string;
  state: 'ok' | 'missing' | 'changed';
}

export interface InstallStatus {
  pgConfig: string;
  pgConfigPresent: boolean;
  pgVersion: string;
  plrustVersion: string;
  installedAt: string;
  toolchain?: string;
  /** false when the install names a toolchain that is no longer in this home. */
  toolchainPresent?: boolean;
  pkglibdir?: string;
  workDir?: string;
  /** postgresql.conf files plrust's settings were written into. */
  conf: string[];
  /** The handler library and the isolation runner as installed. */
  handler: InstalledFileStatus[];
  isolation: { available: boolean; problems: string[] };
}

export interface DependencyStoreStatus {
  path: string;
  units: number;
  /** Crate names built into the store, each once. */
  crates: string[];
  triples: string[];
}

export interface StatusReport {
  ok: boolean;
  plrustVersion: string;
  home: string;
  defaultToolchain?: string;
  toolchains: ToolchainStatus[];
  installs: InstallStatus[];
  dependencies: DependencyStoreStatus;
  /** The host's side of isolation; each install adds whether its runner is in place. */
  isolation: IsolationFacts;
  /** Damage, each with its repair. */
  problems: string[];
}

function toolchainStatus(home: HomeLayout, def: string | undefined, currentRuntime: string): ToolchainStatus[] {
  return listToolchains(home).map((t) => {
    const m = t.manifest;
    return {
      id: t.id,
      default: t.id === def,
      path: t.path,
      healthy: m !== undefined,
      ...(m ? { rustc: { version: m.rustc.version, path: m.rustc.path, present: fs.existsSync(m.rustc.path) } } : {}),
      targets: (m?.targets ?? []).map((x) => ({
        arch: x.arch,
        triple: x.triple,
        sysroot: path.join(t.path, x.sysroot),
        sysrootPresent: fs.existsSync(path.join(t.path, x.sysroot)),
        runtime: x.runtimeHash === currentRuntime ? ('current' as const) : ('outdated' as const),
      })),
    };
  });
}

async function fileState(file: { path: string; sha256: string; size: number }): Promise<InstalledFileStatus> {
  let size: number;
  try {
    size = fs.statSync(file.path).size;
  } catch {
    return { path: file.path, state: 'missing' };
  }
  const same = size === file.size && (await sha256File(file.path)) === file.sha256;
  return { path: file.path, state: same ? 'ok' : 'changed' };
}

async function installStatus(home: HomeLayout, toolchainIds: Set<string>): Promise<InstallStatus[]> {
  if (!fs.existsSync(home.installs)) return [];
  const out: InstallStatus[] = [];
  for (const key of fs.readdirSync(home.installs).sort()) {
    const m = readInstallManifestFile(path.join(home.installs, key, 'manifest.json'));
    if (!m) continue;
    const handlerFiles = m.files.filter((f) => f.role === 'handler');
    const library = handlerFiles.find((f) => path.basename(f.path) === 'plrust.so');
    const pkglibdir = library ? path.dirname(library.path) : undefined;
    const iso = await isolationFacts(pkglibdir);
    out.push({
      pgConfig: m.pgConfig,
      pgConfigPresent: fs.existsSync(m.pgConfig),
      pgVersion: m.pgVersion,
      plrustVersion: m.plrustVersion,
      installedAt: m.installedAt,
      ...(m.toolchain ? { toolchain: m.toolchain, toolchainPresent: toolchainIds.has(m.toolchain) } : {}),
      ...(pkglibdir ? { pkglibdir } : {}),
      ...(m.workDir ? { workDir: m.workDir } : {}),
      conf: m.conf.map((c) => c.file),
      handler: await Promise.all(handlerFiles.map(fileState)),
      isolation: { available: iso.available, problems: iso.problems },
    });
  }
  return out;
}

function dependencyStore(home: HomeLayout): DependencyStoreStatus {
  const root = path.join(home.root, 'deps');
  const crates = new Set<string>();
  const triples = new Set<string>();
  let units = 0;
  if (fs.existsSync(root)) {
    for (const key of fs.readdirSync(root)) {
      let unit: { crates: { crate: string }[]; searchDirs: string[] };
      try {
        unit = JSON.parse(fs.readFileSync(path.join(root, key, 'unit.json'), 'utf8')) as typeof unit;
      } catch {
        continue;
      }
      units++;
      for (const c of unit.crates) crates.add(c.crate);
      // out/target/<triple>/release/deps: the triple the unit was built for
      const triple = unit.searchDirs[0]?.split(path.sep)[2];
      if (triple) triples.add(triple);
    }
  }
  return { path: root, units, crates: [...crates].sort(), triples: [...triples].sort() };
}

function damage(toolchains: ToolchainStatus[], def: string | undefined, installs: InstallStatus[]): string[] {
  const problems: string[] = [];
  if (def !== undefined && !toolchains.some((t) => t.id === def))
    problems.push(`the default toolchain ${def} is not installed: run \`plrust toolchain install\``);
  for (const t of toolchains) {
    if (!t.healthy) problems.push(`toolchain ${t.id} has no manifest: run \`plrust toolchain remove ${t.id}\``);
    if (t.rustc && !t.rustc.present)
      problems.push(`toolchain ${t.id}: its compiler ${t.rustc.path} is gone: reinstall it or remove the toolchain`);
    for (const x of t.targets)
      if (!x.sysrootPresent)
        problems.push(`toolchain ${t.id}: the ${x.arch} sysroot is missing: run \`plrust toolchain install --force\``);
  }
  for (const i of installs) {
    const broken = i.handler.filter((f) => f.state !== 'ok');
    if (broken.length > 0)
      problems.push(
        `PostgreSQL ${i.pgVersion} (${i.pgConfig}): ${broken.map((f) => `${f.path} is ${f.state}`).join(', ')}: run \`plrust install --pg-config ${i.pgConfig}\` again`,
      );
    if (i.toolchain && i.toolchainPresent === false)
      problems.push(
        `PostgreSQL ${i.pgVersion} (${i.pgConfig}) compiles with toolchain ${i.toolchain}, which is no longer installed: install it, or run \`plrust install --pg-config ${i.pgConfig}\` again`,
      );
  }
  return problems;
}

export async function collectStatus(home: HomeLayout): Promise<StatusReport> {
  const def = getDefaultToolchain(home);
  const toolchains = toolchainStatus(home, def, runtimeSourceHash());
  const installs = await installStatus(home, new Set(toolchains.map((t) => t.id)));
  const problems = damage(toolchains, def, installs);
  return {
    ok: problems.length === 0,
    plrustVersion: pkg.version,
    home: home.root,
    ...(def ? { defaultToolchain: def } : {}),
    toolchains,
    installs,
    dependencies: dependencyStore(home),
    isolation: await isolationFacts(),
    problems,
  };
}
