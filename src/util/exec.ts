/**
 * Child processes, with the two shapes plrust needs: capture everything
 * (short probes such as `rustc -vV`) or stream lines to a callback while
 * keeping a log (long builds).
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  timeoutMs?: number;
  /** Each line of stdout and stderr as it arrives. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Append both streams to this file. */
  logFile?: string;
}

export function exec(cmd: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const spawnOpts: SpawnOptions = { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] };
    const child = spawn(cmd, args, spawnOpts);
    const log = opts.logFile ? fs.createWriteStream(opts.logFile, { flags: 'a' }) : undefined;
    const chunks: { stdout: Buffer[]; stderr: Buffer[] } = { stdout: [], stderr: [] };
    const partial = { stdout: '', stderr: '' };
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream]!.on('data', (buf: Buffer) => {
        chunks[stream].push(buf);
        log?.write(buf);
        if (opts.onLine) {
          const text = partial[stream] + buf.toString('utf8');
          const lines = text.split(/\r?\n|\r/);
          partial[stream] = lines.pop() ?? '';
          for (const l of lines) opts.onLine(l, stream);
        }
      });
    }
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      log?.end();
      reject(e);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      for (const stream of ['stdout', 'stderr'] as const)
        if (opts.onLine && partial[stream]) opts.onLine(partial[stream], stream);
      const done = () =>
        resolve({
          code,
          signal,
          stdout: Buffer.concat(chunks.stdout).toString('utf8'),
          stderr: Buffer.concat(chunks.stderr).toString('utf8'),
        });
      if (log) log.end(done);
      else done();
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    else child.stdin!.end();
  });
}

/** Resolves a command name through PATH the way a shell would; undefined if absent. */
export function which(name: string, envPath = process.env.PATH ?? ''): string | undefined {
  if (name.includes('/')) return fs.existsSync(name) ? name : undefined;
  for (const dir of envPath.split(':')) {
    if (!dir) continue;
    const candidate = `${dir}/${name}`;
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}
