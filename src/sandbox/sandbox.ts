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
import type { Context } from '../cli/context.js';
import { PlrustError, ExitCode } from '../util/errors.js';
import { which } from '../util/exec.js';
import { sha256Buffer } from '../util/sha256.js';
import { probePgConfig, type PgInstallation } from '../install/pg-config.js';
import { install } from '../install/install.js';
import { runningAsRoot, userCanRead, DEFAULT_SERVER_USER } from '../install/server-user.js';
import * as cluster from './cluster.js';

export const SANDBOX_DB = 'plrust';

export interface SandboxState {
  spec: cluster.ClusterSpec;
  pg: PgInstallation;
  root: string;
}

/** The newest Debian-style installation when none is configured. */
export function findPgConfig(configured: string | undefined): string {
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
  if (!found) throw new PlrustError({ code: 'PG_CONFIG_NOT_FOUND', message: 'no local PostgreSQL installation found', hint: 'install postgresql-15 postgresql-server-dev-15, or pass --pg-config', exitCode: ExitCode.Usage });
  return found;
}

async function sandboxRoot(ctx: Context, pg: PgInstallation): Promise<string> {
  const link = path.join(ctx.home.sandbox, `pg${pg.major}`);
  if (fs.existsSync(link)) return fs.realpathSync(link);
  fs.mkdirSync(ctx.home.sandbox, { recursive: true });
  if (!runningAsRoot() || (await userCanRead(DEFAULT_SERVER_USER, [ctx.home.sandbox])).ok) {
    fs.mkdirSync(link, { recursive: true });
    return link;
  }
  const outside = path.join('/var/tmp', `plrust-sandbox-${sha256Buffer(fs.realpathSync(ctx.home.root)).slice(0, 12)}-pg${pg.major}`);
  fs.mkdirSync(outside, { recursive: true, mode: 0o755 });
  fs.symlinkSync(outside, link);
  return outside;
}

export async function sandboxState(ctx: Context, pgConfig: string | undefined): Promise<SandboxState> {
  const pg = await probePgConfig(findPgConfig(pgConfig));
  const root = await sandboxRoot(ctx, pg);
  // A stable port number per sandbox; it only names the socket file, no TCP port is opened.
  const port = 40000 + (parseInt(sha256Buffer(root).slice(0, 6), 16) % 20000);
  return {
    pg,
    root,
    spec: { bindir: pg.bindir, dataDir: path.join(root, 'data'), socketDir: path.join(root, 'run'), port, osUser: DEFAULT_SERVER_USER, logFile: path.join(root, 'log', 'postgresql.log') },
  };
}

/** Creates or reuses the cluster, starts it, installs plrust into the installation and the database. */
export async function up(ctx: Context, pgConfig: string | undefined): Promise<SandboxState> {
  const st = await sandboxState(ctx, pgConfig);
  const p = await ctx.out.progress('sandbox: preparing');
  try {
    if (!cluster.isInitialised(st.spec)) {
      p.text('initdb');
      await cluster.initdb(st.spec);
    }
    p.text('installing plrust');
    await install(ctx, { pgConfig: st.pg.pgConfig, dryRun: false, serverUser: st.spec.osUser });
    p.text('starting PostgreSQL');
    await cluster.start(st.spec);
    const exists = await cluster.psql(st.spec, 'postgres', `SELECT 1 FROM pg_database WHERE datname = '${SANDBOX_DB}'`, { tuplesOnly: true });
    if (exists.stdout.trim() !== '1') {
      const r = await cluster.psql(st.spec, 'postgres', `CREATE DATABASE ${SANDBOX_DB}`);
      if (r.code !== 0) throw new PlrustError({ code: 'SANDBOX_FAILED', message: `cannot create the sandbox database: ${r.stderr.trim()}` });
    }
    const ext = await cluster.psql(st.spec, SANDBOX_DB, 'CREATE EXTENSION IF NOT EXISTS plrust');
    if (ext.code !== 0) throw new PlrustError({ code: 'SANDBOX_FAILED', message: `CREATE EXTENSION plrust failed in the sandbox: ${ext.stderr.trim()}`, hint: `server log: ${st.spec.logFile}` });
    p.done(`sandbox running (PostgreSQL ${st.pg.version}, socket ${st.spec.socketDir}, port ${st.spec.port})`);
    return st;
  } catch (e) {
    p.fail('sandbox: failed');
    throw e;
  }
}

export function connection(st: SandboxState) {
  return { host: st.spec.socketDir, port: st.spec.port, user: 'postgres', database: SANDBOX_DB, dataDir: st.spec.dataDir, logFile: st.spec.logFile, pgVersion: st.pg.version };
}

export async function status(ctx: Context, pgConfig: string | undefined): Promise<void> {
  const st = await sandboxState(ctx, pgConfig);
  const running = await cluster.isRunning(st.spec);
  const data = { ok: true, initialised: cluster.isInitialised(st.spec), running, connection: connection(st) };
  ctx.out.result(data, (print) => {
    print(`sandbox (PostgreSQL ${st.pg.version}): ${running ? 'running' : data.initialised ? 'stopped' : 'not created'}`);
    print(`  psql -h ${st.spec.socketDir} -p ${st.spec.port} -U postgres ${SANDBOX_DB}`);
    print(`  data: ${st.spec.dataDir}; log: ${st.spec.logFile}`);
  });
}

/** Runs SQL files in order, in one psql session each, stopping at the first that fails. */
export async function run(ctx: Context, pgConfig: string | undefined, files: string[]): Promise<void> {
  for (const f of files) if (!fs.existsSync(f)) throw new PlrustError({ code: 'FILE_NOT_FOUND', message: `${f} does not exist`, exitCode: ExitCode.Usage });
  const st = await up(ctx, pgConfig);
  const results: { file: string; output: string; messages: string }[] = [];
  for (const file of files) {
    const r = await cluster.psql(st.spec, SANDBOX_DB, fs.readFileSync(file, 'utf8'));
    results.push({ file, output: r.stdout, messages: r.stderr });
    if (!ctx.out.opts.json && !ctx.out.opts.quiet) {
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
    }
    if (r.code !== 0) {
      throw new PlrustError({ code: 'SQL_FAILED', message: `${file} failed in the sandbox: ${r.stderr.trim().split('\n').pop()}`, hint: `server log: ${st.spec.logFile}`, data: { results } });
    }
  }
  ctx.out.result({ ok: true, results, connection: connection(st) }, () => undefined);
}

export async function psqlShell(ctx: Context, pgConfig: string | undefined): Promise<void> {
  const st = await up(ctx, pgConfig);
  const r = spawnSync(path.join(st.pg.bindir, 'psql'), cluster.psqlArgs(st.spec, SANDBOX_DB), { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
}

export async function stopSandbox(ctx: Context, pgConfig: string | undefined): Promise<void> {
  const st = await sandboxState(ctx, pgConfig);
  await cluster.stop(st.spec);
  ctx.out.result({ ok: true, stopped: true }, (print) => print('sandbox stopped'));
}

export async function destroy(ctx: Context, pgConfig: string | undefined): Promise<void> {
  const st = await sandboxState(ctx, pgConfig);
  await cluster.stop(st.spec);
  const link = path.join(ctx.home.sandbox, `pg${st.pg.major}`);
  fs.rmSync(st.root, { recursive: true, force: true });
  fs.rmSync(link, { recursive: true, force: true });
  ctx.out.result({ ok: true, destroyed: st.root }, (print) => print(`sandbox removed (${st.root})`));
}
