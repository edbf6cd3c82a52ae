/**
 * `plrust toolchain install`: the transaction. Everything is built in
 * PLRUST_HOME/tmp and published with one atomic symlink swap, under a lock;
 * a failure, Ctrl-C or SIGKILL at any point leaves the previous toolchain as
 * it was, and the next run sweeps what the interrupted one left.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Arch } from '../config/schema.js';
import { acquireLock } from '../util/lock.js';
import { cleanStaleTemp, makeTempDir, orphanedStoreEntries, publishDir, writeFileAtomic } from '../util/fs-atomic.js';
import type { HomeLayout } from '../util/home.js';
import type { Reporter } from '../util/output.js';
import { PlrustError, ExitCode } from '../util/errors.js';
import { which } from '../util/exec.js';
import { selectCompiler, type CompilerChoice, type CompilerOrigin } from './select.js';
import { compilersDir } from './dist.js';
import { toolchainId, type ToolchainId } from './rustc-probe.js';
import { planSource } from './source.js';
import { materialiseSource } from './fetch-source.js';
import { prepareSource } from './prepare.js';
import { applyRestriction, loadRuleSets, planRestriction } from './restrict.js';
import { buildStd, STD_FEATURES, STD_PROFILE, STD_RUSTFLAGS } from './build-std.js';
import { probeToolchain } from './probe.js';
import { hostArch, linkerFor, loadTargetDefinition, tripleOf } from '../targets/definitions.js';
import { generateSpec } from '../targets/spec.js';
import { buildRuntime, runtimeSourceHash, staleRuntimes } from './runtime-crate.js';
import {
  MANIFEST_NAME,
  MANIFEST_VERSION,
  listFiles,
  readManifest,
  type TargetEntry,
  type ToolchainManifest,
} from './manifest.js';
import { setDefaultToolchain, storeDir, toolchainPath, getDefaultToolchain } from './store.js';

const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string };

export interface InstallRequest {
  targets: Arch[];
  rustc?: string;
  rustcOrigin: string;
  cargo?: string;
  rustSrc?: string;
  /** A rustup toolchain name (--toolchain). */
  toolchain?: string;
  /** Where rust-toolchain.toml is searched from, when no compiler is named. */
  cwd?: string;
  force: boolean;
  noWait: boolean;
  /** Where and how the std source is downloaded when no local one fits. */
  download: { distServer: string; timeoutMs: number; retries: number };
}

export type InstallStatus = 'installed' | 'updated' | 'unchanged';

export interface InstallOutcome {
  id: ToolchainId;
  status: InstallStatus;
  path: string;
  built: Arch[];
  /** Targets whose std was kept and only the runtime crate rebuilt (it changed with plrust). */
  runtimeRebuilt?: Arch[];
  targets: Arch[];
  compiler: { path: string; version: string; reason: string; origin: CompilerOrigin };
  /** The std rule set file and its rustc range. */
  ruleSet: string;
  source?: { kind: string; location: string; reason: string };
  seconds: number;
  isDefault: boolean;
}

/** Pure: which targets this request has to build, given what is installed. */
export function targetsToBuild(requested: Arch[], installed: Arch[], force: boolean): Arch[] {
  return force ? [...requested] : requested.filter((t) => !installed.includes(t));
}

/** Cross linkers are checked before anything is built: a missing one would fail minutes in. */
export function checkLinkers(targets: Arch[], host: Arch = hostArch(), envPath = process.env.PATH ?? ''): void {
  for (const arch of targets) {
    const l = linkerFor(loadTargetDefinition(arch), host);
    if (!which(l.linker, envPath)) {
      throw new PlrustError({
        code: 'LINKER_MISSING',
        message: `the ${l.cross ? 'cross ' : ''}linker for ${arch} (${l.linker}) is not installed`,
        hint: `install it with: apt-get install ${l.package}${arch === 'aarch64' && l.cross ? ' libc6-dev-arm64-cross' : ''}  (or leave ${arch} out with --target)`,
        exitCode: ExitCode.Failed,
      });
    }
  }
}

export async function installToolchain(home: HomeLayout, out: Reporter, req: InstallRequest): Promise<InstallOutcome> {
  const started = Date.now();
  const choice: CompilerChoice = await selectCompiler({
    ...(req.rustc ? { rustc: req.rustc } : {}),
    ...(req.cargo ? { cargo: req.cargo } : {}),
    ...(req.rustSrc ? { rustSrc: req.rustSrc } : {}),
    ...(req.toolchain ? { toolchain: req.toolchain } : {}),
    ...(req.cwd ? { cwd: req.cwd } : {}),
    compilersDir: compilersDir(home),
    rustcOrigin: req.rustcOrigin,
  });
  // Checked before the lock and any work: an uncovered version fails at once with the supported ranges.
  const plannedRules = planRestriction(await loadRuleSets(), choice.rustc.version);
  const ruleSet = `${path.basename(plannedRules.source)} (${plannedRules.range})`;
  const id = toolchainId(choice.rustc);
  out.debug(`compiler: ${choice.rustc.path} ${choice.rustc.version} (${choice.reason})`);
  ensureWritable(home.root);
  fs.mkdirSync(home.toolchains, { recursive: true });
  const release = await acquireLock(home.locks, 'toolchains', {
    noWait: req.noWait,
    what: 'toolchain installs',
    onWait: (m) => out.info(m),
  });
  let work: string | undefined;
  let stage: string | undefined;
  try {
    for (const gone of cleanStaleTemp(home.tmp)) out.debug(`removed stale ${gone}`);
    for (const orphan of orphanedStoreEntries(storeDir(home), home.toolchains))
      fs.rmSync(orphan, { recursive: true, force: true });

    const dest = toolchainPath(home, id);
    const existing = readManifest(dest);
    const installedTargets = existing?.targets.map((t) => t.arch) ?? [];
    const build = targetsToBuild(req.targets, installedTargets, req.force);
    const compiler = {
      path: choice.rustc.path,
      version: choice.rustc.version,
      reason: choice.reason,
      origin: choice.origin,
    };
    const runtimeHash = runtimeSourceHash();
    // A plrust upgrade changes the runtime crate, not std: only its rlib is rebuilt.
    const refresh = staleRuntimes(existing?.targets ?? [], build, runtimeHash);
    if (build.length === 0 && refresh.length === 0) {
      return {
        id,
        status: 'unchanged',
        path: dest,
        built: [],
        targets: installedTargets,
        compiler,
        ruleSet: existing?.rules.stdRuleSet ?? ruleSet,
        seconds: (Date.now() - started) / 1000,
        isDefault: getDefaultToolchain(home) === id,
      };
    }
    checkLinkers([...build, ...refresh]);

    work = makeTempDir(home.tmp, `work-${id}`);
    stage = makeTempDir(home.tmp, `stage-${id}`);
    // The log lives outside the staging tree so that it survives a failed install.
    const logFile = path.join(home.logs, `toolchain-${id}-${started}.log`);
    fs.mkdirSync(home.logs, { recursive: true });
    fs.writeFileSync(
      logFile,
      `plrust ${pkg.version} toolchain install ${id}\ncompiler: ${choice.rustc.path} (${choice.reason})\n`,
    );
    // Targets that stay are carried over as they are; only the requested ones are rebuilt.
    const kept = (existing?.targets ?? []).filter((t) => !build.includes(t.arch));
    if (existing) for (const t of kept) copyTarget(dest, stage, t);

    const built: TargetEntry[] = [];
    const refreshed: TargetEntry[] = [];
    for (const t of kept.filter((k) => refresh.includes(k.arch))) {
      const progress = await out.progress(`rebuilding the runtime crate for ${t.triple}`);
      const t0 = Date.now();
      refreshed.push(await buildRuntimeFor(choice.rustc.path, stage, work, logFile, t, runtimeHash));
      progress.done(`runtime crate for ${t.triple} rebuilt in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    const std = build.length > 0 ? await buildStdTargets(work, stage) : undefined;
    const carried = kept.map((k) => refreshed.find((r) => r.arch === k.arch) ?? k);

    async function buildStdTargets(work: string, stage: string) {
      const plan = planSource(choice.rustc, {
        ...(req.rustSrc ? { rustSrc: req.rustSrc } : {}),
        distServer: req.download.distServer,
      });
      out.info(`std source: ${plan.location} (${plan.reason})`);
      const dl =
        plan.kind === 'flag-url' || plan.kind === 'dist-server'
          ? await out.progress(`downloading ${plan.location}`)
          : undefined;
      const source = await materialiseSource(plan, choice.rustc, {
        home: home.root,
        workDir: work,
        timeoutMs: req.download.timeoutMs,
        retries: req.download.retries,
        ...(dl ? { onProgress: (p) => dl.update(p) } : {}),
        onNote: (m) => out.warn(m),
      });
      dl?.done();

      const prepared = await prepareSource({
        originalLibrary: source.libraryDir,
        workDir: work,
        rustcVersion: choice.rustc.version,
        cargo: choice.cargo,
        env: process.env,
        logFile,
      });
      const stdRules = await applyRestriction(prepared.libraryDir, choice.rustc.version);
      out.debug(`applied ${prepared.prepRules.length} source-prep and ${stdRules.length} std rules`);

      const host = hostArch();
      for (const arch of build) {
        const t0 = Date.now();
        const def = loadTargetDefinition(arch);
        const triple = tripleOf(arch);
        const rustlib = path.join(stage, 'sysroot', 'lib', 'rustlib', triple);
        fs.rmSync(rustlib, { recursive: true, force: true });
        fs.mkdirSync(path.join(rustlib, 'lib'), { recursive: true });
        const spec = await generateSpec(choice.rustc.path, def, host);
        const specText = `${JSON.stringify(spec, null, 2)}\n`;
        const specPath = path.join(stage, 'targets', `${triple}.json`);
        fs.mkdirSync(path.dirname(specPath), { recursive: true });
        fs.writeFileSync(specPath, specText);
        // A copy beside the rlibs: a sysroot moved elsewhere still carries the spec it was built for.
        // (rustc itself must be given the spec file by path, named <triple>.json.)
        fs.writeFileSync(path.join(rustlib, 'target.json'), specText);

        const progress = await out.progress(`building std for ${triple}`);
        let std;
        try {
          std = await buildStd({
            cargo: choice.cargo,
            rustc: choice.rustc.path,
            libraryDir: prepared.libraryDir,
            specPath,
            triple,
            targetDir: path.join(work, 'target'),
            cargoHome: path.join(work, 'cargo-home'),
            logFile,
            onCrate: (crate, n) => progress.text(`(${n} crates) ${crate}`),
          });
        } catch (e) {
          progress.fail(`building std for ${triple} failed`);
          throw e;
        }
        for (const f of std.rlibs) fs.copyFileSync(path.join(std.depsDir, f), path.join(rustlib, 'lib', f));
        progress.text('runtime crate');
        const runtimeDir = path.join(stage, 'runtime', triple);
        fs.mkdirSync(runtimeDir, { recursive: true });
        const rt = await buildRuntime({
          rustc: choice.rustc.path,
          sysroot: path.join(stage, 'sysroot'),
          targetSpec: specPath,
          outDir: runtimeDir,
        });
        progress.text('probe');
        await probeToolchain({
          rustc: choice.rustc.path,
          sysroot: path.join(stage, 'sysroot'),
          spec: specPath,
          arch,
          workDir: work,
          logFile,
        });
        const seconds = (Date.now() - t0) / 1000;
        progress.done(`std for ${triple} built in ${seconds.toFixed(1)} s`);
        built.push({
          arch,
          triple,
          spec: path.relative(stage, specPath),
          sysroot: 'sysroot',
          runtime: path.relative(stage, rt.rlib),
          runtimeHash,
          linker: linkerFor(def, host).linker,
          builtAt: new Date().toISOString(),
          buildSeconds: seconds,
        });
      }
      return { plan, source, prepared, stdRules };
    }

    fs.copyFileSync(logFile, path.join(stage, 'build.log'));
    const now = new Date().toISOString();
    const manifest: ToolchainManifest = {
      manifestVersion: MANIFEST_VERSION,
      id,
      plrustVersion: pkg.version,
      rustc: {
        path: choice.rustc.path,
        version: choice.rustc.version,
        commitHash: choice.rustc.commitHash,
        commitDate: choice.rustc.commitDate,
        host: choice.rustc.host,
        ...(choice.rustc.llvmVersion ? { llvmVersion: choice.rustc.llvmVersion } : {}),
      },
      cargo: { path: choice.cargo },
      origin: choice.origin,
      source: std
        ? {
            kind: std.plan.kind,
            location: std.plan.location,
            ...(std.source.sha256 ? { sha256: std.source.sha256 } : {}),
            ...(std.source.version ? { version: std.source.version } : {}),
          }
        : existing!.source,
      targets: [...carried, ...built].sort((a, b) => a.arch.localeCompare(b.arch)),
      build: { features: STD_FEATURES, rustflags: STD_RUSTFLAGS, profile: STD_PROFILE },
      rules: std
        ? { sourcePrep: std.prepared.prepRules, std: std.stdRules.map((r) => r.name), stdRuleSet: ruleSet }
        : existing!.rules,
      files: [],
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    manifest.files = await listFiles(stage);
    writeFileAtomic(path.join(stage, MANIFEST_NAME), `${JSON.stringify(manifest, null, 2)}\n`);

    const previous = publishDir(stage, dest, storeDir(home));
    stage = undefined;
    if (previous) fs.rmSync(previous, { recursive: true, force: true });
    let isDefault = getDefaultToolchain(home) === id;
    if (!getDefaultToolchain(home)) {
      setDefaultToolchain(home, id);
      isDefault = true;
    }
    return {
      id,
      status: existing ? 'updated' : 'installed',
      path: dest,
      built: build,
      runtimeRebuilt: refresh,
      targets: manifest.targets.map((t) => t.arch),
      compiler,
      ruleSet: std ? ruleSet : existing!.rules.stdRuleSet,
      ...(std ? { source: { kind: std.plan.kind, location: std.plan.location, reason: std.plan.reason } } : {}),
      seconds: (Date.now() - started) / 1000,
      isDefault,
    };
  } finally {
    if (work) fs.rmSync(work, { recursive: true, force: true });
    if (stage) fs.rmSync(stage, { recursive: true, force: true });
    await release();
  }
}

function ensureWritable(root: string): void {
  try {
    fs.mkdirSync(root, { recursive: true });
    fs.accessSync(root, fs.constants.W_OK);
  } catch (e) {
    throw new PlrustError({
      code: 'HOME_NOT_WRITABLE',
      message: `cannot write to PLRUST_HOME ${root}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      hint: 'choose a writable directory with --home or PLRUST_HOME',
      exitCode: ExitCode.Failed,
    });
  }
}

/** Rebuilds one carried-over target's runtime rlib in the staging tree and probes it. */
async function buildRuntimeFor(
  rustc: string,
  stage: string,
  work: string,
  logFile: string,
  t: TargetEntry,
  runtimeHash: string,
): Promise<TargetEntry> {
  const sysroot = path.join(stage, 'sysroot');
  const specPath = path.join(stage, t.spec);
  const runtimeDir = path.join(stage, path.dirname(t.runtime));
  fs.rmSync(runtimeDir, { recursive: true, force: true });
  const rt = await buildRuntime({ rustc, sysroot, targetSpec: specPath, outDir: runtimeDir });
  await probeToolchain({ rustc, sysroot, spec: specPath, arch: t.arch, workDir: work, logFile });
  return { ...t, runtime: path.relative(stage, rt.rlib), runtimeHash };
}

function copyTarget(from: string, to: string, t: TargetEntry): void {
  for (const rel of [path.join('sysroot', 'lib', 'rustlib', t.triple), t.spec, path.dirname(t.runtime)]) {
    fs.cpSync(path.join(from, rel), path.join(to, rel), { recursive: true });
  }
}
