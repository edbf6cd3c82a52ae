/**
 * Throwaway PostgreSQL clusters for end-to-end tests: initdb into a temp
 * dir, unix socket only, run as the `postgres` OS user when the tests run as
 * root (PostgreSQL refuses to run as root). Every cluster is stopped and
 * removed when the test process ends, however it ends.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { appendFileSync, chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PG_BIN_DIR = process.env.PLRUST_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';
export const PG_CONFIG = join(PG_BIN_DIR, 'pg_config');
const OS_USER = 'postgres';

export interface ClusterOptions {
  /** Extra postgresql.conf settings. */
  settings?: Record<string, string | number | boolean>;
  /** The server's stack size limit (RLIMIT_STACK) in kB; default: inherited. */
  stackKb?: number;
}

export interface SqlOptions {
  db?: string;
  user?: string;
  /** Server settings for this connection, e.g. { check_function_bodies: 'off' }. */
  settings?: Record<string, string | number | boolean>;
}

export interface SqlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class PsqlError extends Error {
  constructor(
    readonly sql: string,
    readonly result: SqlResult,
  ) {
    super(`psql failed (exit ${result.code}): ${result.stderr.trim()}\n--- SQL ---\n${sql}`);
    this.name = 'PsqlError';
  }
}

/** An open psql connection, for "another session still works" checks. */
export interface PgSession {
  /** The server process serving this session. */
  readonly pid: number;
  /** Runs SQL; errors do not end the session (they are in stderr). */
  run(sql: string): Promise<SqlResult>;
  /** Whether psql has exited (the backend ended the connection). */
  readonly closed: boolean;
  close(): Promise<void>;
}

export interface PgCluster {
  readonly dir: string;
  readonly dataDir: string;
  readonly socketDir: string;
  readonly port: number;
  readonly binDir: string;
  readonly pgConfig: string;
  /** Name of the bootstrap superuser. */
  readonly superuser: string;
  /** psql's unaligned, tuples-only output; throws PsqlError on failure. */
  psql(sql: string, opts?: SqlOptions): Promise<string>;
  /** Like psql, but returns failures instead of throwing. */
  psqlResult(sql: string, opts?: SqlOptions): Promise<SqlResult>;
  /** Rows of the last statement's result, as strings ('' for NULL). */
  query(sql: string, opts?: SqlOptions): Promise<string[][]>;
  openSession(opts?: SqlOptions): Promise<PgSession>;
  /** Runs a PostgreSQL program (pg_dump, ...) as the cluster's OS user. */
  runProgram(name: string, args: string[], input?: string): Promise<SqlResult>;
  /** libpq connection string for this cluster. */
  conninfo(opts?: SqlOptions): string;
  /** Makes a file or directory usable by the server's OS user. */
  giveToServer(path: string): void;
  logText(): string;
  postmasterPid(): number;
  stop(): Promise<void>;
}

const live = new Set<Cluster>();
let exitHooksInstalled = false;

function runningAsRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function asServerUser(cmd: string, args: string[]): [string, string[]] {
  return runningAsRoot() ? ['runuser', ['-u', OS_USER, '--', cmd, ...args]] : [cmd, args];
}

function run(cmd: string, args: string[], input?: string, env?: NodeJS.ProcessEnv): Promise<SqlResult> {
  return new Promise((resolve, reject) => {
    const [file, argv] = asServerUser(cmd, args);
    const child = spawn(file, argv, { stdio: ['pipe', 'pipe', 'pipe'], env: env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

function runSync(cmd: string, args: string[]): void {
  const [file, argv] = asServerUser(cmd, args);
  spawnSync(file, argv, { stdio: 'ignore' });
}

function quoteConninfo(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function stopAllSync(): void {
  for (const cluster of live) cluster.stopSync();
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.once('exit', stopAllSync);
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      stopAllSync();
      process.exit(code);
    });
  }
}

class Session implements PgSession {
  pid = 0;
  private stdout = '';
  private stderr = '';
  private exited = false;
  private seq = 0;
  private waiters: Array<() => void> = [];

  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8').on('data', (d: string) => this.feed(() => (this.stdout += d)));
    child.stderr.setEncoding('utf8').on('data', (d: string) => this.feed(() => (this.stderr += d)));
    child.stdin.on('error', () => undefined);
    child.on('close', () => this.feed(() => (this.exited = true)));
  }

  get closed(): boolean {
    return this.exited;
  }

  private feed(update: () => void): void {
    update();
    for (const wake of this.waiters.splice(0)) wake();
  }

  private async until(done: () => boolean): Promise<void> {
    while (!done()) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  async run(sql: string): Promise<SqlResult> {
    if (this.exited) return { code: this.child.exitCode ?? 1, stdout: '', stderr: 'session closed' };
    const marker = `__plrust_session_mark_${++this.seq}__`;
    this.child.stdin.write(`${sql}\n\\echo ${marker}\n\\warn ${marker}\n`);
    const line = `${marker}\n`;
    await this.until(() => this.exited || (this.stdout.includes(line) && this.stderr.includes(line)));
    const take = (text: string): [string, string] => {
      const at = text.indexOf(line);
      return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + line.length)];
    };
    const [out, restOut] = take(this.stdout);
    const [err, restErr] = take(this.stderr);
    this.stdout = restOut;
    this.stderr = restErr;
    return { code: this.exited ? (this.child.exitCode ?? 1) : 0, stdout: out, stderr: err };
  }

  async close(): Promise<void> {
    if (this.exited) return;
    this.child.stdin.end('\\q\n');
    await this.until(() => this.exited);
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

class Cluster implements PgCluster {
  readonly dataDir: string;
  readonly socketDir: string;
  readonly port = 20000 + Math.floor(Math.random() * 40000);
  readonly binDir = PG_BIN_DIR;
  readonly pgConfig = PG_CONFIG;
  readonly superuser = runningAsRoot() ? OS_USER : (process.env.USER ?? OS_USER);
  private readonly logFile: string;
  private readonly sessions = new Set<Session>();
  private stopped = false;

  constructor(readonly dir: string) {
    this.dataDir = join(dir, 'data');
    this.socketDir = dir;
    this.logFile = join(dir, 'server.log');
  }

  async init(opts: ClusterOptions): Promise<void> {
    const initdb = await run(join(this.binDir, 'initdb'), [
      '-D', this.dataDir, '-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync',
    ]);
    if (initdb.code !== 0) throw new Error(`initdb failed: ${initdb.stderr}`);
    const settings: Record<string, string | number | boolean> = {
      listen_addresses: '',
      unix_socket_directories: this.socketDir,
      port: this.port,
      fsync: 'off',
      ...opts.settings,
    };
    const conf = Object.entries(settings)
      .map(([k, v]) => `${k} = ${typeof v === 'string' ? `'${v.replace(/'/g, "''")}'` : String(v)}`)
      .join('\n');
    appendFileSync(join(this.dataDir, 'postgresql.conf'), `\n${conf}\n`);
    const pgCtl = [join(this.binDir, 'pg_ctl'), '-D', this.dataDir, '-l', this.logFile, '-w', 'start'];
    const start =
      opts.stackKb === undefined
        ? await run(pgCtl[0]!, pgCtl.slice(1))
        : await run('/bin/sh', ['-c', `ulimit -s ${opts.stackKb} && exec "$@"`, 'sh', ...pgCtl]);
    if (start.code !== 0) throw new Error(`pg_ctl start failed: ${start.stderr}\n${this.logText()}`);
  }

  conninfo(opts: SqlOptions = {}): string {
    const parts = [
      `host=${quoteConninfo(this.socketDir)}`,
      `port=${this.port}`,
      `dbname=${quoteConninfo(opts.db ?? 'postgres')}`,
      `user=${quoteConninfo(opts.user ?? this.superuser)}`,
    ];
    const settings = Object.entries(opts.settings ?? {});
    if (settings.length > 0) {
      const options = settings.map(([k, v]) => `-c ${k}=${String(v).replace(/[\\ ]/g, (c) => `\\${c}`)}`).join(' ');
      parts.push(`options=${quoteConninfo(options)}`);
    }
    return parts.join(' ');
  }

  private psqlArgs(opts: SqlOptions | undefined, extra: string[]): string[] {
    return ['-X', '-A', '-t', '-q', ...extra, '-d', this.conninfo(opts)];
  }

  psqlResult(sql: string, opts?: SqlOptions): Promise<SqlResult> {
    return run(join(this.binDir, 'psql'), this.psqlArgs(opts, ['-v', 'ON_ERROR_STOP=1', '-f', '-']), sql);
  }

  async psql(sql: string, opts?: SqlOptions): Promise<string> {
    const result = await this.psqlResult(sql, opts);
    if (result.code !== 0) throw new PsqlError(sql, result);
    return result.stdout.replace(/\n$/, '');
  }

  async query(sql: string, opts?: SqlOptions): Promise<string[][]> {
    const args = this.psqlArgs(opts, ['-v', 'ON_ERROR_STOP=1', '-F', '\x1f', '-R', '\x1e', '-f', '-']);
    const result = await run(join(this.binDir, 'psql'), args, sql);
    if (result.code !== 0) throw new PsqlError(sql, result);
    const body = result.stdout.replace(/\n$/, '');
    return body === '' ? [] : body.split('\x1e').map((row) => row.split('\x1f'));
  }

  async openSession(opts?: SqlOptions): Promise<PgSession> {
    const [file, argv] = asServerUser(join(this.binDir, 'psql'), this.psqlArgs(opts, ['-v', 'ON_ERROR_STOP=0']));
    const session = new Session(spawn(file, argv, { stdio: ['pipe', 'pipe', 'pipe'] }));
    this.sessions.add(session);
    const hello = await session.run('SELECT pg_backend_pid();');
    session.pid = Number(hello.stdout.trim());
    if (!(session.pid > 0)) throw new Error(`could not open a session: ${hello.stderr}`);
    return session;
  }

  runProgram(name: string, args: string[], input?: string): Promise<SqlResult> {
    return run(join(this.binDir, name), args, input);
  }

  giveToServer(path: string): void {
    if (!runningAsRoot()) return;
    const user = spawnSync('id', ['-u', OS_USER], { encoding: 'utf8' });
    const group = spawnSync('id', ['-g', OS_USER], { encoding: 'utf8' });
    chownSync(path, Number(user.stdout.trim()), Number(group.stdout.trim()));
  }

  logText(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  postmasterPid(): number {
    return Number(readFileSync(join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    for (const s of this.sessions) s.kill();
    await run(join(this.binDir, 'pg_ctl'), ['-D', this.dataDir, '-m', 'fast', '-w', 'stop']);
    this.remove();
  }

  /** For exit handlers, which cannot wait for promises. */
  stopSync(): void {
    if (this.stopped) return;
    for (const s of this.sessions) s.kill();
    runSync(join(this.binDir, 'pg_ctl'), ['-D', this.dataDir, '-m', 'immediate', '-w', 'stop']);
    this.remove();
  }

  private remove(): void {
    this.stopped = true;
    live.delete(this);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function startCluster(opts: ClusterOptions = {}): Promise<PgCluster> {
  installExitHooks();
  const dir = mkdtempSync(join(tmpdir(), 'plrust-pg-'));
  const cluster = new Cluster(dir);
  cluster.giveToServer(dir);
  live.add(cluster);
  try {
    await cluster.init(opts);
  } catch (e) {
    cluster.stopSync();
    throw e;
  }
  return cluster;
}
