/**
 * The arm64 PostgreSQL 15 of the aarch64 tests: Debian's own arm64 packages
 * unpacked into a private root by scripts/aarch64-pg.sh and run under
 * qemu-aarch64 through binfmt_misc. The server (initdb, pg_ctl, postgres and
 * every backend) is the emulated arm64 build; clients (psql, pg_dump,
 * pg_restore) are the host's native ones, which speak the same protocol over
 * the unix socket and cost nothing to emulate.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { appendFileSync, chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, tempDir } from './cli.js';
import { PG_BIN_DIR, PsqlError, type SqlOptions, type SqlResult } from './pg-cluster.js';

const SCRIPT = join(REPO_ROOT, 'scripts', 'aarch64-pg.sh');
const OS_USER = 'postgres';

export interface Aarch64Environment {
  /** PLRUST_AARCH64_ROOT: apt state, package cache and the root, kept between runs. */
  base: string;
  /** The unpacked arm64 file system: QEMU_LD_PREFIX. */
  root: string;
  binDir: string;
  /** The root's pg_config (a wrapper that runs Debian's arm64 pg_config under qemu-aarch64). */
  pgConfig: string;
}

/** Why the aarch64 tests do not run here, or undefined when they should. */
export function aarch64SkipReason(): string | undefined {
  if (process.env.PLRUST_TEST_SKIP_AARCH64) return 'PLRUST_TEST_SKIP_AARCH64 is set';
  if (process.arch !== 'x64') return 'the aarch64 environment emulates arm64 on an x86_64 host';
  return undefined;
}

function runScript(args: string[], env?: NodeJS.ProcessEnv): Promise<SqlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

let environment: Promise<Aarch64Environment> | undefined;

/**
 * Makes the environment once per process: fetches and unpacks the packages
 * the first time on a machine (cached under PLRUST_AARCH64_ROOT), registers
 * qemu-aarch64 with binfmt_misc. Fails with the script's explanation when
 * that is not possible here.
 */
export function aarch64Environment(): Promise<Aarch64Environment> {
  environment ??= (async () => {
    const r = await runScript(['setup']);
    if (r.code !== 0) throw new Error(`scripts/aarch64-pg.sh setup failed (exit ${r.code}):\n${r.stderr.split('\n').slice(-15).join('\n')}`);
    const root = r.stdout.trim().split('\n').pop()!;
    const binDir = join(root, 'usr', 'lib', 'postgresql', '15', 'bin');
    return { base: join(root, '..'), root, binDir, pgConfig: join(binDir, 'pg_config') };
  })();
  return environment;
}

/**
 * A fresh plrust.work_dir for a server (as the `postgres` OS user when run as
 * root): its compile cache starts empty, so every CREATE FUNCTION of the test
 * really compiles.
 */
export function freshServerWorkDir(): string {
  const dir = tempDir('server-work');
  if (process.getuid?.() === 0) {
    const id = (flag: string) => Number(spawnSync('id', [flag, OS_USER], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, id('-u'), id('-g'));
  }
  return dir;
}

/** An open psql connection, for "the same session goes on" and "another session sees it" checks. */
export interface Aarch64Session {
  run(sql: string): Promise<SqlResult>;
  close(): Promise<void>;
}

export interface Aarch64Cluster {
  readonly dir: string;
  readonly socketDir: string;
  readonly port: number;
  readonly superuser: string;
  conninfo(opts?: SqlOptions): string;
  psql(sql: string, opts?: SqlOptions): Promise<string>;
  psqlResult(sql: string, opts?: SqlOptions): Promise<SqlResult>;
  openSession(opts?: SqlOptions): Promise<Aarch64Session>;
  /** A native client program (pg_dump, pg_restore, ...). */
  runClient(name: string, args: string[]): Promise<SqlResult>;
  postmasterPid(): number;
  logText(): string;
  stop(): Promise<void>;
}

function quoteConninfo(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function runClient(cmd: string, args: string[], input?: string): Promise<SqlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(PG_BIN_DIR, cmd), args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

class Session implements Aarch64Session {
  private out = '';
  private err = '';
  private exited = false;
  private seq = 0;
  private wake: (() => void) | undefined;

  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    const feed = (f: () => void) => () => {
      f();
      this.wake?.();
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => feed(() => (this.out += d))());
    child.stderr.setEncoding('utf8').on('data', (d: string) => feed(() => (this.err += d))());
    child.stdin.on('error', () => undefined);
    child.on('close', feed(() => (this.exited = true)));
  }

  async run(sql: string): Promise<SqlResult> {
    const mark = `__aarch64_session_${++this.seq}__\n`;
    this.child.stdin.write(`${sql}\n\\echo ${mark}\\warn ${mark}`);
    while (!this.exited && !(this.out.includes(mark) && this.err.includes(mark))) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    const split = (text: string): [string, string] => {
      const at = text.indexOf(mark);
      return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + mark.length)];
    };
    const [stdout, restOut] = split(this.out);
    const [stderr, restErr] = split(this.err);
    [this.out, this.err] = [restOut, restErr];
    return { code: this.exited ? (this.child.exitCode ?? 1) : 0, stdout, stderr };
  }

  async close(): Promise<void> {
    if (this.exited) return;
    this.child.stdin.end('\\q\n');
    while (!this.exited) await new Promise<void>((resolve) => (this.wake = resolve));
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

const live = new Set<Cluster>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const stopAll = (): void => {
    for (const c of live) c.stopSync();
  };
  process.once('exit', stopAll);
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      stopAll();
      process.exit(code);
    });
  }
}

class Cluster implements Aarch64Cluster {
  readonly socketDir: string;
  readonly port = 20000 + Math.floor(Math.random() * 40000);
  readonly superuser = OS_USER;
  private readonly sessions = new Set<Session>();
  private stopped = false;

  constructor(readonly dir: string) {
    this.socketDir = dir;
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
      parts.push(`options=${quoteConninfo(settings.map(([k, v]) => `-c ${k}=${String(v).replace(/[\\ ]/g, (c) => `\\${c}`)}`).join(' '))}`);
    }
    return parts.join(' ');
  }

  psqlResult(sql: string, opts?: SqlOptions): Promise<SqlResult> {
    return runClient('psql', ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-f', '-', '-d', this.conninfo(opts)], sql);
  }

  async psql(sql: string, opts?: SqlOptions): Promise<string> {
    const r = await this.psqlResult(sql, opts);
    if (r.code !== 0) throw new PsqlError(sql, r);
    return r.stdout.replace(/\n$/, '');
  }

  async openSession(opts?: SqlOptions): Promise<Aarch64Session> {
    const child = spawn(join(PG_BIN_DIR, 'psql'), ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=0', '-d', this.conninfo(opts)], { stdio: ['pipe', 'pipe', 'pipe'] });
    const session = new Session(child);
    this.sessions.add(session);
    const hello = await session.run('SELECT 1;');
    if (hello.stdout.trim() !== '1') throw new Error(`could not open a session: ${hello.stderr}`);
    return session;
  }

  runClient(name: string, args: string[]): Promise<SqlResult> {
    return runClient(name, args);
  }

  postmasterPid(): number {
    return Number(readFileSync(join(this.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  }

  logText(): string {
    try {
      return readFileSync(join(this.dir, 'server.log'), 'utf8');
    } catch {
      return '';
    }
  }

  async init(settings: Record<string, string | number | boolean>): Promise<void> {
    const initdb = await runScript(['initdb', this.dir, String(this.port)]);
    if (initdb.code !== 0) throw new Error(`aarch64 initdb failed:\n${initdb.stderr}`);
    const conf = Object.entries(settings).map(([k, v]) => `${k} = ${typeof v === 'string' ? `'${v.replace(/'/g, "''")}'` : String(v)}`);
    appendFileSync(join(this.dir, 'data', 'postgresql.conf'), `${conf.join('\n')}\n`);
    const start = await runScript(['start', this.dir]);
    if (start.code !== 0) throw new Error(`aarch64 pg_ctl start failed:\n${start.stderr}\n${this.logText()}`);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    for (const s of this.sessions) s.kill();
    await runScript(['stop', this.dir]);
    this.remove();
  }

  stopSync(): void {
    if (this.stopped) return;
    for (const s of this.sessions) s.kill();
    spawnSync('bash', [SCRIPT, 'stop', this.dir, 'immediate'], { stdio: 'ignore' });
    this.remove();
  }

  private remove(): void {
    this.stopped = true;
    live.delete(this);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * initdb (about 5 s emulated) and start a throwaway arm64 cluster: unix
 * socket only, in a fresh directory; stopped and removed when the process
 * ends, however it ends.
 */
export async function startAarch64Cluster(opts: { settings?: Record<string, string | number | boolean> } = {}): Promise<Aarch64Cluster> {
  await aarch64Environment();
  installExitHooks();
  const cluster = new Cluster(mkdtempSync(join(tmpdir(), 'plrust-pg-aarch64-')));
  live.add(cluster);
  try {
    await cluster.init(opts.settings ?? {});
  } catch (e) {
    cluster.stopSync();
    throw e;
  }
  return cluster;
}
