/**
 * `plrust sandbox`: a throwaway cluster of a local PostgreSQL installation
 * with PL/Rust installed, for trying functions (like `cargo pgrx run`). Its
 * state lives under PLRUST_HOME/sandbox/pg<major>/; when the server's OS
 * user cannot enter PLRUST_HOME (root's home is private), the cluster lives
 * in a directory under /var/tmp that PLRUST_HOME/sandbox links to.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { HomeLayout } from '../util/home.js';
import type { Reporter } from '../util/output.js';
import { PlrustError, ExitCode } from '../util/errors.js';
import { which } from '../util/exec.js';
import { sha256Buffer } from '../util/sha256.js';
import { probePgConfig, type PgInstallation } from '../install/pg-config.js';
import { install } from '../install/install-extension.js';
import { runningAsRoot, userCanRead, DEFAULT_SERVER_USER } from '../install/server-user.js';
import * as cluster from './cluster.js';

export const SANDBOX_DB = 'plrust';

export interface SandboxState {
  spec: cluster.ClusterSpec;
  pg: PgInstallation;
  root: string;
}

/** The newest Debian-style installation when none is configured. */
function findPgConfig(configured: string | undefined): string {
  if (configured) return configured;
  const onPath = which('pg_config');
  const debian = fs.existsSync('/usr/lib/postgresql')
    ? fs
        .readdirSync('/usr/lib/postgresql')
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
        .map((v) => `/usr/lib/postgresql/${v}/bin/pg_config`)
        .find((p) => fs.existsSync(p))
    : undefined;
  const found = debian ?? onPath;
  if (!found)
    throw new PlrustError({
      code: 'PG_CONFIG_NOT_FOUND',
      message: 'no local PostgreSQL installation found',
      hint: 'install postgresql-15 postgresql-server-dev-15, or pass --pg-config',
      exitCode: ExitCode.Usage,
    });
  return found;
}

async function sandboxRoot(home: HomeLayout, pg: PgInstallation): Promise<string> {
  const link = path.join(home.sandbox, `pg${pg.major}`);
  if (fs.existsSync(link)) return fs.realpathSync(link);
  fs.mkdirSync(home.sandbox, { recursive: true });
  if (!runningAsRoot() || (await userCanRead(DEFAULT_SERVER_USER, [home.sandbox])).ok) {
    fs.mkdirSync(link, { recursive: true });
    return link;
  }
  const outside = path.join(
    '/var/tmp',
    `plrust-sandbox-${sha256Buffer(fs.realpathSync(home.root)).slice(0, 12)}-pg${pg.major}`,
  );
  fs.mkdirSync(outside, { recursive: true, mode: 0o755 });
  fs.symlinkSync(outside, link);
  return outside;
}

async function sandboxState(home: HomeLayout, pgConfig: string | undefined): Promise<SandboxState> {
  const pg = await probePgConfig(findPgConfig(pgConfig));
  const root = await sandboxRoot(home, pg);
  // A stable port number per sandbox; it only names the socket file, no TCP port is opened.
  const port = 40000 + (parseInt(sha256Buffer(root).slice(0, 6), 16) % 20000);
  return {
    pg,
    root,
    spec: {
      bindir: pg.bindir,
      dataDir: path.join(root, 'data'),
      socketDir: path.join(root, 'run'),
      port,
      osUser: DEFAULT_SERVER_USER,
      logFile: path.join(root, 'log', 'postgresql.log'),
    },
  };
}

/** Creates or reuses the cluster, starts it, installs plrust into the installation and the database. */
export async function up(home: HomeLayout, report: Reporter, pgConfig: string | undefined): Promise<SandboxState> {
  const st = await sandboxState(home, pgConfig);
  const p = await report.progress('sandbox: preparing');
  try {
    if (!cluster.isInitialised(st.spec)) {
      p.text('initdb');
      await cluster.initdb(st.spec);
    }
    p.text('installing plrust');
    await install(home, report, { pgConfig: st.pg.pgConfig, dryRun: false, serverUser: st.spec.osUser });
    p.text('starting PostgreSQL');
    await cluster.start(st.spec);
    const exists = await cluster.psql(
      st.spec,
      'postgres',
      `SELECT 1 FROM pg_database WHERE datname = '${SANDBOX_DB}'`,
      { tuplesOnly: true },
    );
    if (exists.stdout.trim() !== '1') {
      const r = await cluster.psql(st.spec, 'postgres', `CREATE DATABASE ${SANDBOX_DB}`);
      if (r.code !== 0)
        throw new PlrustError({
          code: 'SANDBOX_FAILED',
          message: `cannot create the sandbox database: ${r.stderr.trim()}`,
        });
    }
    const ext = await cluster.psql(st.spec, SANDBOX_DB, 'CREATE EXTENSION IF NOT EXISTS plrust');
    if (ext.code !== 0)
      throw new PlrustError({
        code: 'SANDBOX_FAILED',
        message: `CREATE EXTENSION plrust failed in the sandbox: ${ext.stderr.trim()}`,
        hint: `server log: ${st.spec.logFile}`,
      });
    p.done(`sandbox running (PostgreSQL ${st.pg.version}, socket ${st.spec.socketDir}, port ${st.spec.port})`);
    return st;
  } catch (e) {
    p.fail('sandbox: failed');
    throw e;
  }
}

export function connection(st: SandboxState) {
  return {
    host: st.spec.socketDir,
    port: st.spec.port,
    user: 'postgres',
    database: SANDBOX_DB,
    dataDir: st.spec.dataDir,
    logFile: st.spec.logFile,
    pgVersion: st.pg.version,
  };
}

export interface SandboxStatus {
  ok: true;
  initialised: boolean;
  running: boolean;
  connection: ReturnType<typeof connection>;
}

export async function status(home: HomeLayout, pgConfig: string | undefined): Promise<SandboxStatus> {
  const st = await sandboxState(home, pgConfig);
  return {
    ok: true,
    initialised: cluster.isInitialised(st.spec),
    running: await cluster.isRunning(st.spec),
    connection: connection(st),
  };
}

export interface SqlFileResult {
  file: string;
  output: string;
  messages: string;
}

/**
 * Runs SQL files in order, in one psql session each, stopping at the first
 * that fails; `onResult` sees each file's output as soon as it is there.
 */
export async function run(
  home: HomeLayout,
  report: Reporter,
  pgConfig: string | undefined,
  files: string[],
  onResult: (r: SqlFileResult) => void,
): Promise<{ ok: true; results: SqlFileResult[]; connection: ReturnType<typeof connection> }> {
  for (const f of files)
    if (!fs.existsSync(f))
      throw new PlrustError({ code: 'FILE_NOT_FOUND', message: `${f} does not exist`, exitCode: ExitCode.Usage });
  const st = await up(home, report, pgConfig);
  const results: SqlFileResult[] = [];
  for (const file of files) {
    const r = await cluster.psql(st.spec, SANDBOX_DB, fs.readFileSync(file, 'utf8'));
    const result = { file, output: r.stdout, messages: r.stderr };
    results.push(result);
    onResult(result);
    if (r.code !== 0) {
      throw new PlrustError({
        code: 'SQL_FAILED',
        message: `${file} failed in the sandbox: ${r.stderr.trim().split('\n').pop()}`,
        hint: `server log: ${st.spec.logFile}`,
        data: { results },
      });
    }
  }
  return { ok: true, results, connection: connection(st) };
}

/** An interactive psql on the sandbox; returns psql's exit status. */
export async function psqlShell(home: HomeLayout, report: Reporter, pgConfig: string | undefined): Promise<number> {
  const st = await up(home, report, pgConfig);
  const r = spawnSync(path.join(st.pg.bindir, 'psql'), cluster.psqlArgs(st.spec, SANDBOX_DB), { stdio: 'inherit' });
  return r.status ?? 1;
}

export async function stopSandbox(home: HomeLayout, pgConfig: string | undefined): Promise<void> {
  await cluster.stop((await sandboxState(home, pgConfig)).spec);
}

/** Stops and removes the sandbox; returns the directory removed. */
export async function destroy(home: HomeLayout, pgConfig: string | undefined): Promise<string> {
  const st = await sandboxState(home, pgConfig);
  await cluster.stop(st.spec);
  const link = path.join(home.sandbox, `pg${st.pg.major}`);
  fs.rmSync(st.root, { recursive: true, force: true });
  fs.rmSync(link, { recursive: true, force: true });
  return st.root;
}
