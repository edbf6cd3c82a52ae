/**
 * The C test host (test/fixtures/host/host.c): built for x86_64 with gcc and
 * for aarch64 with aarch64-linux-gnu-gcc, run natively or under
 * `qemu-aarch64 -L /usr/aarch64-linux-gnu`. One call, one JSON line back.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../src/util/package-root.js';

export type HostArch = 'x86_64' | 'aarch64';

const COMPILERS: Record<HostArch, string> = { x86_64: 'gcc', aarch64: 'aarch64-linux-gnu-gcc' };
const AARCH64_ROOT = '/usr/aarch64-linux-gnu';

export interface HostOptions {
  interruptAfterMs?: number;
  stackLimitKb?: number;
  memLimit?: number;
  repeat?: number;
  noInit?: boolean;
  abiVersion?: number;
  signature?: boolean;
}

/** The host's JSON line (fields depend on `status`). */
export interface HostOutput {
  status: string;
  result?: unknown;
  message?: string;
  location?: string;
  live_bytes?: number;
  signature?: unknown;
}

export interface HostRun {
  output: HostOutput;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Compiles the host for `arch` into `outDir` (once per directory). */
export function buildHost(arch: HostArch, outDir: string): string {
  const out = path.join(outDir, `host-${arch}`);
  if (fs.existsSync(out)) return out;
  fs.mkdirSync(outDir, { recursive: true });
  const root = packageRoot();
  const r = spawnSync(
    COMPILERS[arch],
    [
      '-std=c11',
      '-O1',
      '-Wall',
      '-Werror',
      '-rdynamic',
      '-pthread',
      '-I',
      path.join(root, 'handler'),
      path.join(root, 'test', 'fixtures', 'host', 'host.c'),
      '-o',
      `${out}.partial`,
      '-ldl',
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`building the ${arch} test host failed:\n${r.stderr}`);
  fs.renameSync(`${out}.partial`, out);
  return out;
}

function optionArgs(o: HostOptions): string[] {
  const args: string[] = [];
  if (o.interruptAfterMs !== undefined) args.push('--interrupt-after-ms', String(o.interruptAfterMs));
  if (o.stackLimitKb !== undefined) args.push('--stack-limit-kb', String(o.stackLimitKb));
  if (o.memLimit !== undefined) args.push('--mem-limit', String(o.memLimit));
  if (o.repeat !== undefined) args.push('--repeat', String(o.repeat));
  if (o.abiVersion !== undefined) args.push('--abi-version', String(o.abiVersion));
  if (o.noInit) args.push('--no-init');
  if (o.signature) args.push('--signature');
  return args;
}

/** Runs `host [options] lib args…` for `arch`; throws unless it printed exactly one JSON line. */
export function runHost(arch: HostArch, host: string, lib: string, args: string[], options: HostOptions = {}): HostRun {
  const hostArgs = [...optionArgs(options), lib, ...args];
  const [cmd, argv] = arch === 'aarch64' ? ['qemu-aarch64', ['-L', AARCH64_ROOT, host, ...hostArgs]] : [host, hostArgs];
  const r = spawnSync(cmd as string, argv as string[], { encoding: 'utf8', timeout: 60_000 });
  const lines = r.stdout.split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== 1) {
    throw new Error(
      `host printed ${lines.length} lines (exit ${r.status}, signal ${r.signal}):\n${r.stdout}\nstderr:\n${r.stderr}`,
    );
  }
  return { output: JSON.parse(lines[0]!) as HostOutput, exitCode: r.status, signal: r.signal, stderr: r.stderr };
}
