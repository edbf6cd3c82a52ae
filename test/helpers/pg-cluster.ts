/**
 * Throwaway PostgreSQL clusters for end-to-end tests: initdb into a temp
 * dir, unix socket only, run as the `postgres` OS user when the tests run as
 * root (PostgreSQL refuses to run as root). Every cluster is stopped and
 * removed when the test process ends, however it ends. The host's
 * PostgreSQL by default; another installation (the emulated arm64 one of
 * aarch64-pg.ts) is described by a PgInstallation.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { appendFileSync, chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PG_BIN_DIR = process.env.PLRUST_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';
export const PG_CONFIG = join(PG_BIN_DIR, 'pg_config');
const OS_USER = 'postgres';

/** Where an installation's programs are and what its server programs need to run. */
export interface PgInstallation {
  /** Names the installation in temp directory names and errors, e.g. 'aarch64'. */
  label?: string;
  /** initdb, pg_ctl, postgres and pg_config. */
  serverBinDir: string;
  /** psql, pg_dump, pg_restore: any build speaks the protocol over the socket. */
  clientBinDir: string;
  /** Added to the environment of the server programs only. */
  serverEnv?: NodeJS.ProcessEnv;
  /** pg_ctl's wait for start and stop (-t); default: pg_ctl's own 60 s. */
  pgCtlTimeoutS?: number;
}

const HOST_INSTALLATION: PgInstallation = { serverBinDir: PG_BIN_DIR, clientBinDir: PG_BIN_DIR };

export interface ClusterOptions {
  /** Default: the host's PostgreSQL (HOST_INSTALLATION). */
  installation?: PgInstallation;
  /** Extra postgresql.conf settings. */
  settings?: Record<string, string | number | boolean>;
  /** The server's stack size limit (RLIMIT_STACK) in kB; default: inherited. */
  stackKb?: number;
  /**
   * A hot standby of this primary (same installation) instead of a new
   * cluster: pg_basebackup with streaming replication set up (-R).
   */
  standbyOf?: PgCluster;
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

class PsqlError extends Error {
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
  /** The server programs' directory. */
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
  /** Runs a PostgreSQL client program (pg_dump, pg_restore, ...) as the cluster's OS user. */
  runProgram(name: string, args: string[], input?: string): Promise<SqlResult>;
  /** libpq connection string for this cluster. */
  conninfo(opts?: SqlOptions): string;
  /** Makes a file or directory usable by the server's OS user. */
  giveToServer(path: string): void;
  logText(): string;
  postmasterPid(): number;
  /**
   * pg_ctl stop -m fast, waiting up to `timeoutS` seconds (pg_ctl's default otherwise); undefined when already
   * stopped. Open sessions' clients are killed first unless `keepClients`, so the server sees them connected.
   */
  stop(timeoutS?: number, opts?: { keepClients?: boolean }): Promise<SqlResult | undefined>;
}

const live = new Set<Cluster>();
let exitHooksInstalled = false;

function runningAsRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function asServerUser(cmd: string, args: string[]): [string, string[]] {
  return runningAsRoot() ? ['runuser', ['-u', OS_USER, '--', cmd, ...args]] : [cmd, args];
}

export interface RunOptions {
  input?: string;
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** 'caller' for what must keep this process's rights (binfmt_misc registration, ...). */
  as?: 'server' | 'caller';
}

/** Runs a program to completion and collects its output; by default as the server's OS user. */
export function runCommand(cmd: string, args: string[], opts: RunOptions = {}): Promise<SqlResult> {
  return new Promise((resolve, reject) => {
    const [file, argv] = opts.as === 'caller' ? [cmd, args] : asServerUser(cmd, args);
    const child = spawn(file, argv, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

function runSync(cmd: string, args: string[], env?: NodeJS.ProcessEnv): void {
  const [file, argv] = asServerUser(cmd, args);
  spawnSync(file, argv, { stdio: 'ignore', env: { ...process.env, ...env } });
}

/** Makes a file or directory usable by the server's OS user. */
export function giveToServer(path: string): void {
  if (!runningAsRoot()) return;
  const id = (flag: string) => Number(spawnSync('id', [flag, OS_USER], { encoding: 'utf8' }).stdout.trim());
  chownSync(path, id('-u'), id('-g'));
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
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
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
  readonly binDir: string;
  readonly pgConfig: string;
  readonly superuser = runningAsRoot() ? OS_USER : (process.env.USER ?? OS_USER);
  private readonly logFile: string;
  private readonly sessions = new Set<Session>();
  private stopped = false;

  constructor(
    readonly dir: string,
    private readonly installation: PgInstallation,
  ) {
    this.binDir = installation.serverBinDir;
    this.pgConfig = join(this.binDir, 'pg_config');
    this.dataDir = join(dir, 'data');
    this.socketDir = dir;
    this.logFile = join(dir, 'server.log');
  }

  private what(program: string): string {
    return this.installation.label ? `${this.installation.label} ${program}` : program;
  }

  /** Runs a server program (initdb, pg_ctl) in the installation's environment. */
  private runServer(program: string, args: string[]): Promise<SqlResult> {
    return runCommand(program, args, { env: this.installation.serverEnv });
  }

  private pgCtlArgs(action: 'start' | 'stop', extra: string[]): string[] {
    const timeout = this.installation.pgCtlTimeoutS;
    return ['-D', this.dataDir, ...extra, '-w', ...(timeout === undefined ? [] : ['-t', String(timeout)]), action];
  }

  private runClient(name: string, args: string[], input?: string): Promise<SqlResult> {
    return runCommand(join(this.installation.clientBinDir, name), args, { input });
  }

  async init(opts: ClusterOptions): Promise<void> {
    if (opts.standbyOf) {
      const backup = await this.runServer(join(this.binDir, 'pg_basebackup'), [
        '-D',
        this.dataDir,
        '-R',
        '-X',
        'stream',
        '-c',
        'fast',
        '--no-sync',
        '-d',
        opts.standbyOf.conninfo(),
      ]);
      if (backup.code !== 0) throw new Error(`${this.what('pg_basebackup')} failed: ${backup.stderr}`);
    } else {
      const initdb = await this.runServer(join(this.binDir, 'initdb'), [
        '-D',
        this.dataDir,
        '-A',
        'trust',
        '-E',
        'UTF8',
        '--locale=C.UTF-8',
        '--no-sync',
      ]);
      if (initdb.code !== 0) throw new Error(`${this.what('initdb')} failed: ${initdb.stderr}`);
    }
    const settings: Record<string, string | number | boolean> = {
      listen_addresses: '',
      unix_socket_directories: this.socketDir,
      port: this.port,
      fsync: 'off',
      // scripts/test.sh's isolation stage: every PL/Rust function of the suite runs in a runner process
      ...(process.env.PLRUST_TEST_ISOLATION ? { 'plrust.isolation': process.env.PLRUST_TEST_ISOLATION } : {}),
      ...opts.settings,
    };
    const conf = Object.entries(settings)
      .map(([k, v]) => `${k} = ${typeof v === 'string' ? `'${v.replace(/'/g, "''")}'` : String(v)}`)
      .join('\n');
    appendFileSync(join(this.dataDir, 'postgresql.conf'), `\n${conf}\n`);
    const pgCtl = [join(this.binDir, 'pg_ctl'), ...this.pgCtlArgs('start', ['-l', this.logFile])];
    const start =
      opts.stackKb === undefined
        ? await this.runServer(pgCtl[0]!, pgCtl.slice(1))
        : await this.runServer('/bin/sh', ['-c', `ulimit -s ${opts.stackKb} && exec "$@"`, 'sh', ...pgCtl]);
    if (start.code !== 0) throw new Error(`${this.what('pg_ctl start')} failed: ${start.stderr}\n${this.logText()}`);
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
    return this.runClient('psql', this.psqlArgs(opts, ['-v', 'ON_ERROR_STOP=1', '-f', '-']), sql);
  }

  async psql(sql: string, opts?: SqlOptions): Promise<string> {
    const result = await this.psqlResult(sql, opts);
    if (result.code !== 0) throw new PsqlError(sql, result);
    return result.stdout.replace(/\n$/, '');
  }

  async query(sql: string, opts?: SqlOptions): Promise<string[][]> {
    const args = this.psqlArgs(opts, ['-v', 'ON_ERROR_STOP=1', '-F', '\x1f', '-R', '\x1e', '-f', '-']);
    const result = await this.runClient('psql', args, sql);
    if (result.code !== 0) throw new PsqlError(sql, result);
    const body = result.stdout.replace(/\n$/, '');
    return body === '' ? [] : body.split('\x1e').map((row) => row.split('\x1f'));
  }

  async openSession(opts?: SqlOptions): Promise<PgSession> {
    const [file, argv] = asServerUser(
      join(this.installation.clientBinDir, 'psql'),
      this.psqlArgs(opts, ['-v', 'ON_ERROR_STOP=0']),
    );
    const session = new Session(spawn(file, argv, { stdio: ['pipe', 'pipe', 'pipe'] }));
    this.sessions.add(session);
    const hello = await session.run('SELECT pg_backend_pid();');
    session.pid = Number(hello.stdout.trim());
    if (!(session.pid > 0)) throw new Error(`could not open a session: ${hello.stderr}`);
    return session;
  }

  runProgram(name: string, args: string[], input?: string): Promise<SqlResult> {
    return this.runClient(name, args, input);
  }

  giveToServer(path: string): void {
    giveToServer(path);
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

  async stop(timeoutS?: number, opts: { keepClients?: boolean } = {}): Promise<SqlResult | undefined> {
    if (this.stopped) return undefined;
    if (opts.keepClients !== true) for (const s of this.sessions) s.kill();
    const extra = ['-m', 'fast', ...(timeoutS === undefined ? [] : ['-t', String(timeoutS)])];
    const result = await this.runServer(join(this.binDir, 'pg_ctl'), this.pgCtlArgs('stop', extra));
    if (result.code === 0) this.remove();
    else this.stopSync();
    return result;
  }

  /** For exit handlers, which cannot wait for promises. */
  stopSync(): void {
    if (this.stopped) return;
    for (const s of this.sessions) s.kill();
    runSync(join(this.binDir, 'pg_ctl'), this.pgCtlArgs('stop', ['-m', 'immediate']), this.installation.serverEnv);
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
  const installation = opts.installation ?? HOST_INSTALLATION;
  const dir = mkdtempSync(join(tmpdir(), installation.label ? `plrust-pg-${installation.label}-` : 'plrust-pg-'));
  const cluster = new Cluster(dir, installation);
  giveToServer(dir);
  live.add(cluster);
  try {
    await cluster.init(opts);
  } catch (e) {
    cluster.stopSync();
    throw e;
  }
  return cluster;
}
