/**
 * A local PostgreSQL cluster reachable only through a unix socket: initdb,
 * start, psql, stop. PostgreSQL refuses to run as root, so when plrust runs
 * as root every server command runs as the server's OS user (runuser), and
 * the cluster's directories belong to that user.
 */
import fs from 'node:fs';
import path from 'node:path';
import { exec, type ExecResult } from '../util/exec.js';
import { PlrustError } from '../util/errors.js';
import { runningAsRoot } from '../install/server-user.js';

export interface ClusterSpec {
  bindir: string;
  dataDir: string;
  socketDir: string;
  port: number;
  /** OS user the server runs as (used only when running as root). */
  osUser: string;
  logFile: string;
}

export interface UserIds {
  uid: number;
  gid: number;
}

async function idsOf(user: string): Promise<UserIds> {
  const [u, g] = await Promise.all([exec('id', ['-u', user]), exec('id', ['-g', user])]);
  if (u.code !== 0)
    throw new PlrustError({
      code: 'SERVER_USER_UNKNOWN',
      message: `OS user ${user} does not exist`,
      hint: 'create it or pass another server user',
    });
  return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** Runs a PostgreSQL program as the server's OS user. */
export function asServerUser(
  spec: Pick<ClusterSpec, 'osUser'>,
  cmd: string,
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<ExecResult> {
  const env = { ...process.env, ...opts.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' };
  const base = {
    env,
    ...(opts.input !== undefined ? { input: opts.input } : {}),
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
  };
  if (!runningAsRoot()) return exec(cmd, args, base);
  return exec('runuser', ['-u', spec.osUser, '--', cmd, ...args], base);
}

async function prepareDirs(spec: ClusterSpec): Promise<void> {
  for (const d of [path.dirname(spec.dataDir), spec.socketDir, path.dirname(spec.logFile)])
    fs.mkdirSync(d, { recursive: true, mode: 0o700 });
  if (runningAsRoot()) {
    const ids = await idsOf(spec.osUser);
    for (const d of [path.dirname(spec.dataDir), spec.socketDir, path.dirname(spec.logFile)])
      fs.chownSync(d, ids.uid, ids.gid);
  }
}

export function isInitialised(spec: ClusterSpec): boolean {
  return fs.existsSync(path.join(spec.dataDir, 'PG_VERSION'));
}

export async function initdb(spec: ClusterSpec): Promise<void> {
  await prepareDirs(spec);
  const r = await asServerUser(spec, path.join(spec.bindir, 'initdb'), [
    '-D',
    spec.dataDir,
    '-U',
    'postgres',
    '-E',
    'UTF8',
    '--locale=C.UTF-8',
    '-A',
    'trust',
    '--no-sync',
  ]);
  if (r.code !== 0)
    throw new PlrustError({
      code: 'INITDB_FAILED',
      message: `initdb failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`,
      hint: `check ${spec.dataDir}`,
    });
  // Unix socket only: no TCP port to collide with anything else on the machine.
  fs.appendFileSync(
    path.join(spec.dataDir, 'postgresql.conf'),
    `\n# plrust sandbox\nlisten_addresses = ''\nunix_socket_directories = '${spec.socketDir}'\nport = ${spec.port}\nfsync = off\n`,
  );
}

export async function isRunning(spec: ClusterSpec): Promise<boolean> {
  if (!isInitialised(spec)) return false;
  const r = await asServerUser(spec, path.join(spec.bindir, 'pg_ctl'), ['status', '-D', spec.dataDir]);
  return r.code === 0;
}

export async function start(spec: ClusterSpec): Promise<void> {
  if (await isRunning(spec)) return;
  const r = await asServerUser(spec, path.join(spec.bindir, 'pg_ctl'), [
    'start',
    '-w',
    '-t',
    '60',
    '-D',
    spec.dataDir,
    '-l',
    spec.logFile,
    '-o',
    `-k ${spec.socketDir} -p ${spec.port}`,
  ]);
  if (r.code !== 0) {
    const log = fs.existsSync(spec.logFile)
      ? fs.readFileSync(spec.logFile, 'utf8').trim().split('\n').slice(-5).join('\n  ')
      : '';
    throw new PlrustError({
      code: 'PG_START_FAILED',
      message: `PostgreSQL did not start: ${r.stderr.trim() || r.stdout.trim()}\n  ${log}`,
      hint: `server log: ${spec.logFile}`,
    });
  }
}

export async function stop(spec: ClusterSpec): Promise<void> {
  if (!(await isRunning(spec))) return;
  await asServerUser(spec, path.join(spec.bindir, 'pg_ctl'), ['stop', '-m', 'fast', '-w', '-D', spec.dataDir]);
}

export function psqlArgs(spec: ClusterSpec, db: string, user = 'postgres'): string[] {
  return ['-X', '-h', spec.socketDir, '-p', String(spec.port), '-U', user, '-d', db, '-v', 'ON_ERROR_STOP=1'];
}

export async function psql(
  spec: ClusterSpec,
  db: string,
  sql: string,
  opts: { user?: string; tuplesOnly?: boolean } = {},
): Promise<ExecResult> {
  const args = [...psqlArgs(spec, db, opts.user), ...(opts.tuplesOnly ? ['-A', '-t'] : []), '-f', '-'];
  return exec(path.join(spec.bindir, 'psql'), args, { input: sql, env: { ...process.env, PGCONNECT_TIMEOUT: '10' } });
}
