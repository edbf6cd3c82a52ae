/**
 * `plrust install --pg-config PATH`: the language handler, its defaults, the
 * toolchain the server reads, and prebuilt artifacts, into one PostgreSQL
 * installation. Planning is pure (`--dry-run` prints it); applyFiles carries
 * it out as a transaction and the manifest records it for uninstall.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { PlrustError, ExitCode } from '../util/errors.js';
import { makeTempDir, cleanStaleTemp } from '../util/fs-atomic.js';
import { acquireLock } from '../util/lock.js';
import { sha256Buffer, sha256File } from '../util/sha256.js';
import { PLRUST_BIN, packageRoot } from '../util/package-root.js';
import { cliFiles } from './cli-files.js';
import { exec } from '../util/exec.js';
import type { HomeLayout } from '../util/home.js';
import type { Reporter } from '../util/output.js';
import { probePgConfig, serverDevProblems, type PgInstallation } from './pg-config.js';
import { buildHandler, extensionScripts, handlerTemplateDir, type BuiltHandler } from './handler-build.js';
import { applyFiles, type FileOutcome, type PlannedFile } from './apply.js';
import { installDir, readInstallManifest, writeInstallManifest, type InstallManifest } from './manifest.js';
import { readPrebuilt, type PrebuiltArtifact } from './prebuilt.js';
import { userCanRead, userExists, runningAsRoot } from './server-user.js';
import { resolveToolchain, type ResolvedToolchain } from '../toolchain/store.js';
import { applyConf, type ConfOutcome } from './conf-file.js';

const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string };

export interface InstallOptions {
  pgConfig: string;
  pgdata?: string;
  dryRun: boolean;
  prebuilt?: string;
  serverUser: string;
  toolchain?: string;
}

/** The settings recorded beside the handler, so CREATE EXTENSION needs no postgresql.conf edit. */
export function defaultsText(d: { home: string; compiler: string[]; workDir: string; targets: string[] }): string {
  const q = (v: string) => `'${v.replace(/'/g, "''")}'`;
  return [
    '# Written by `plrust install`; PL/Rust reads it when the handler loads.',
    '# Settings in postgresql.conf (or ALTER SYSTEM / DATABASE / ROLE … SET) override these.',
    `plrust.home = ${q(d.home)}`,
    `plrust.compiler = ${q(d.compiler.join(','))}`,
    `plrust.work_dir = ${q(d.workDir)}`,
    `plrust.targets = ${q(d.targets.join(','))}`,
    '',
  ].join('\n');
}

export interface InstallPlanInput {
  pg: PgInstallation;
  handler: Pick<BuiltHandler, 'library' | 'runner' | 'control' | 'scripts'>;
  defaultsFile: string;
  prebuilt: { artifact: PrebuiltArtifact; shaFile: string }[];
  /**
   * The toolchain copied for a server that cannot read PLRUST_HOME. `defaultFile` names it the
   * copy's default toolchain, which is the one `plrust compile` uses there.
   */
  toolchainCopy?: { from: string; files: string[]; destRoot: string; defaultFile?: string };
}

/** Pure: every file the install writes, where from, with which mode. */
export function planFiles(input: InstallPlanInput): PlannedFile[] {
  const ext = path.join(input.pg.sharedir, 'extension');
  const files: PlannedFile[] = [
    { dest: path.join(input.pg.pkglibdir, 'plrust.so'), from: input.handler.library, role: 'handler', mode: 0o755 },
    ...(input.handler.runner === undefined
      ? []
      : [
          {
            dest: path.join(input.pg.pkglibdir, 'plrust_runner'),
            from: input.handler.runner,
            role: 'handler' as const,
            mode: 0o755,
          },
        ]),
    { dest: path.join(ext, 'plrust.control'), from: input.handler.control, role: 'control', mode: 0o644 },
    ...input.handler.scripts.map((s) => ({
      dest: path.join(ext, path.basename(s)),
      from: s,
      role: 'script' as const,
      mode: 0o644,
    })),
    { dest: path.join(ext, 'plrust.defaults'), from: input.defaultsFile, role: 'defaults', mode: 0o644 },
  ];
  for (const { artifact, shaFile } of input.prebuilt) {
    const dir = path.join(input.pg.sharedir, 'plrust', 'prebuilt', artifact.meta.definitionHash);
    files.push({
      dest: path.join(dir, `${artifact.meta.arch}.so`),
      from: artifact.library,
      role: 'prebuilt',
      mode: 0o644,
    });
    files.push({
      dest: path.join(dir, `${artifact.meta.arch}.so.sha256`),
      from: shaFile,
      role: 'prebuilt',
      mode: 0o644,
    });
  }
  if (input.toolchainCopy) {
    for (const rel of input.toolchainCopy.files) {
      files.push({
        dest: path.join(input.toolchainCopy.destRoot, rel),
        from: path.join(input.toolchainCopy.from, rel),
        role: 'toolchain',
        mode: 0o644,
      });
    }
    if (input.toolchainCopy.defaultFile) {
      files.push({
        dest: path.join(path.dirname(input.toolchainCopy.destRoot), 'default'),
        from: input.toolchainCopy.defaultFile,
        role: 'toolchain',
        mode: 0o644,
      });
    }
  }
  return files;
}

/**
 * Where the server's compiler keeps its cache and scratch files: it runs as
 * the server's OS user, which cannot write PLRUST_HOME when that is root's.
 * Outside the data directory, so base backups do not carry a build cache.
 */
function serverWorkDir(home: HomeLayout, pg: PgInstallation): string {
  // Keyed by the home too: uninstall removes the work dir, and another PLRUST_HOME's install into the
  // same PostgreSQL (whose defaults the uninstall puts back) must keep its own.
  const key = sha256Buffer(`${path.resolve(home.root)}\0${path.basename(installDir(home, pg.pgConfig))}`).slice(0, 16);
  return runningAsRoot() ? path.join('/var/cache/plrust', key) : path.join(home.root, 'work', key);
}

async function prepareWorkDir(dir: string, serverUser: string): Promise<void> {
  // Parents stay traversable; only the leaf is private to the server's user.
  fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o755 });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (runningAsRoot()) {
    const r = await exec('chown', [`${serverUser}:`, dir]);
    if (r.code !== 0)
      throw new PlrustError({
        code: 'WORK_DIR_FAILED',
        message: `cannot give ${dir} to ${serverUser}: ${r.stderr.trim()}`,
      });
  }
}

export interface InstallReport {
  ok: true;
  dryRun: boolean;
  pg: { pgConfig: string; version: string; arch: string | undefined; pkglibdir: string; sharedir: string };
  toolchain: string | undefined;
  serverHome: string | undefined;
  workDir: string;
  compiler: string[];
  files: (PlannedFile | FileOutcome)[];
  conf?: ConfOutcome;
  manifest: string;
  notes: string[];
}

export async function install(home: HomeLayout, report: Reporter, opts: InstallOptions): Promise<InstallReport> {
  const pg = await probePgConfig(opts.pgConfig);
  const problems = serverDevProblems(pg);
  if (problems.length) {
    throw new PlrustError({
      code: 'PG_SERVER_DEV_MISSING',
      message: problems[0]!.message,
      hint: problems[0]!.hint,
      exitCode: ExitCode.Failed,
    });
  }
  const notes: string[] = [];
  let tc: ResolvedToolchain | undefined;
  try {
    tc = resolveToolchain(home, opts.toolchain);
  } catch (e) {
    if (opts.toolchain) throw e;
    notes.push(
      'no toolchain installed: the server can run prebuilt functions only (install one with `plrust toolchain install`, then run `plrust install` again)',
    );
  }
  if (tc && pg.arch && !tc.manifest.targets.some((t) => t.arch === pg.arch)) {
    notes.push(
      `toolchain ${tc.id} has no ${pg.arch} target: functions cannot be compiled for this server's architecture`,
    );
  }
  const serverUser = opts.serverUser;
  if (runningAsRoot() && !(await userExists(serverUser))) {
    throw new PlrustError({
      code: 'SERVER_USER_UNKNOWN',
      message: `the server's OS user ${serverUser} does not exist`,
      hint: 'pass --server-user with the account PostgreSQL runs as',
      exitCode: ExitCode.Usage,
    });
  }
  if (!(await userCanRead(serverUser, [process.execPath])).ok) {
    throw new PlrustError({
      code: 'NODE_NOT_READABLE',
      message: `the server's OS user ${serverUser} cannot run ${process.execPath}, so the validator could not run \`plrust compile\``,
      hint: 'install Node.js where every user can run it (Debian: apt-get install nodejs)',
    });
  }
  // The validator runs this CLI as the server's user: in place when it can read it, else from a copy in the installation.
  const cliReadable = (
    await userCanRead(serverUser, [
      PLRUST_BIN,
      path.join(packageRoot(), 'dist', 'src', 'cli', 'main.js'),
      path.join(packageRoot(), 'node_modules'),
    ])
  ).ok;
  const cliCopyRoot = path.join(pg.sharedir, 'plrust', 'cli');
  const compiler = [process.execPath, cliReadable ? PLRUST_BIN : path.join(cliCopyRoot, 'bin', 'plrust')];
  if (!cliReadable)
    notes.push(`${serverUser} cannot read ${packageRoot()}: the plrust CLI is copied to ${cliCopyRoot}`);

  const release = await acquireLock(home.locks, `install-${path.basename(installDir(home, pg.pgConfig))}`, {
    noWait: false,
    what: 'an install into this PostgreSQL',
    onWait: (m) => report.info(m),
  });
  const work = makeTempDir(home.tmp, 'pginstall');
  try {
    cleanStaleTemp(home.tmp);
    // The server reads the toolchain where it is when it can; otherwise a copy goes into the installation's share directory.
    let serverHome: string | undefined;
    let toolchainCopy: InstallPlanInput['toolchainCopy'];
    if (tc) {
      const probe = [
        tc.dir,
        path.join(tc.dir, 'manifest.json'),
        ...tc.manifest.targets.map((t) => path.join(tc!.dir, t.spec)),
      ];
      if ((await userCanRead(serverUser, probe)).ok) {
        serverHome = home.root;
      } else {
        serverHome = path.join(pg.sharedir, 'plrust', 'home');
        const destRoot = path.join(serverHome, 'toolchains', tc.id);
        const defaultFile = path.join(work, 'default-toolchain');
        fs.writeFileSync(defaultFile, `${tc.id}\n`);
        toolchainCopy = {
          from: fs.realpathSync(tc.dir),
          files: [...tc.manifest.files.map((f) => f.path), 'manifest.json'],
          destRoot,
          defaultFile,
        };
        notes.push(`${serverUser} cannot read ${home.root}: the toolchain is copied to ${destRoot}`);
      }
    }
    // Read and verified before anything is created: a library that fails the allowlist stops the install.
    const prebuiltArtifacts = opts.prebuilt ? await readPrebuilt(opts.prebuilt) : [];
    const workDir = serverWorkDir(home, pg);
    if (!opts.dryRun) await prepareWorkDir(workDir, serverUser);
    const defaultsFile = path.join(work, 'plrust.defaults');
    fs.writeFileSync(
      defaultsFile,
      defaultsText({
        home: serverHome ?? '',
        compiler: tc ? compiler : [],
        workDir,
        targets: tc ? tc.manifest.targets.map((t) => t.arch) : ['x86_64', 'aarch64'],
      }),
    );
    const prebuilt: InstallPlanInput['prebuilt'] = prebuiltArtifacts.map((artifact) => {
      const shaFile = path.join(work, `${artifact.meta.definitionHash}-${artifact.meta.arch}.sha256`);
      fs.writeFileSync(shaFile, `${artifact.meta.sha256}\n`);
      return { artifact, shaFile };
    });
    const handler: InstallPlanInput['handler'] = opts.dryRun
      ? {
          library: '(built by make)',
          control: path.join(handlerTemplateDir(), 'plrust.control'),
          scripts: extensionScripts(handlerTemplateDir()),
        }
      : await buildHandler(pg, work, path.join(home.logs, 'handler-build.log'));
    const files = [
      ...planFiles({ pg, handler, defaultsFile, prebuilt, ...(toolchainCopy ? { toolchainCopy } : {}) }),
      ...(cliReadable
        ? []
        : cliFiles(packageRoot()).map((rel) => ({
            dest: path.join(cliCopyRoot, rel),
            from: path.join(packageRoot(), rel),
            role: 'cli' as const,
            mode: rel === path.join('bin', 'plrust') ? 0o755 : 0o644,
          }))),
    ];
    const manifestPath = path.join(installDir(home, pg.pgConfig), 'manifest.json');
    const base = {
      ok: true as const,
      pg: { pgConfig: pg.pgConfig, version: pg.version, arch: pg.arch, pkglibdir: pg.pkglibdir, sharedir: pg.sharedir },
      toolchain: tc?.id,
      serverHome,
      workDir,
      compiler: tc ? compiler : [],
      manifest: manifestPath,
      notes,
    };
    if (opts.dryRun) return { ...base, dryRun: true, files };

    const previous = readInstallManifest(home, pg.pgConfig);
    const { outcomes, createdDirs } = await applyFiles({
      files,
      previous,
      backupDir: path.join(installDir(home, pg.pgConfig), 'backup'),
    });
    // Whatever the previous install wrote and this one did not is removed now, so the manifest stays exact.
    const stale = (previous?.files ?? []).filter((f) => !outcomes.some((o) => o.path === f.path));
    for (const f of stale) if (fs.existsSync(f.path) && (await sha256File(f.path)) === f.sha256) fs.rmSync(f.path);
    let conf: ConfOutcome | undefined;
    const confRecords = previous?.conf ?? [];
    if (opts.pgdata) {
      conf = applyConf(
        opts.pgdata,
        {
          'plrust.home': serverHome ?? '',
          'plrust.compiler': tc ? compiler.join(',') : '',
          'plrust.work_dir': workDir,
        },
        path.join(installDir(home, pg.pgConfig), 'backup'),
      );
      if (!confRecords.some((c) => c.pgdata === conf!.pgdata))
        confRecords.push({ pgdata: conf.pgdata, file: conf.file, backup: conf.backup });
    }
    const manifest: InstallManifest = {
      manifestVersion: 1,
      pgConfig: pg.pgConfig,
      pgVersion: pg.version,
      plrustVersion: pkg.version,
      ...(tc ? { toolchain: tc.id } : {}),
      workDir,
      files: outcomes.map(({ action: _a, ...f }) => f),
      createdDirs: [...new Set([...(previous?.createdDirs ?? []), ...createdDirs])],
      conf: confRecords,
      installedAt: new Date().toISOString(),
    };
    writeInstallManifest(home, manifest);
    return { ...base, dryRun: false, files: outcomes, ...(conf ? { conf } : {}) };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
    await release();
  }
}
