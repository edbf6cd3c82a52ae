/** Timing helpers: wall-clock (and, where GNU time exists, CPU) runs of a command, summarised by the median. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function median(xs: number[]): number {
  if (xs.length === 0) throw new Error('median of no values');
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Runs `cmd args` `runs` times (after `warmup` unmeasured runs); returns milliseconds per run. */
export function timeCommand(
  cmd: string,
  args: string[],
  runs: number,
  opts: { warmup?: number; env?: NodeJS.ProcessEnv; cwd?: string; before?: () => void } = {},
): number[] {
  return measureRuns(cmd, args, runs, opts).map((m) => m.wallMs);
}

export interface Measurement {
  wallMs: number;
  /** User + system CPU time of the command and everything it waited for; undefined without GNU time. */
  cpuMs: number | undefined;
  stdout: string;
  stderr: string;
}

export interface MeasureOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
  timeoutMs?: number;
}

const GNU_TIME = '/usr/bin/time';
const hasGnuTime = fs.existsSync(GNU_TIME);

/**
 * One timed run. The machine is shared, so wall time alone says little about
 * a command's own cost: CPU time (from GNU time, which sees the whole process
 * tree that the command waits for) is reported beside it.
 */
export function measure(cmd: string, args: string[], opts: MeasureOptions = {}): Measurement {
  const cpuFile = hasGnuTime
    ? path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'plrust-bench-time-')), 'cpu')
    : undefined;
  const [file, argv] = cpuFile ? [GNU_TIME, ['-f', '%U %S', '-o', cpuFile, cmd, ...args]] : [cmd, args];
  try {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(file, argv, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      input: opts.input ?? '',
      encoding: 'utf8',
      maxBuffer: 256 << 20,
      ...(opts.timeoutMs ? { timeout: opts.timeoutMs, killSignal: 'SIGKILL' as const } : {}),
    });
    const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
    if (r.status !== 0) {
      const why = r.signal
        ? `killed by ${r.signal}${opts.timeoutMs ? ` (timeout ${opts.timeoutMs / 1000} s)` : ''}`
        : `exit ${r.status}`;
      // plrust --json repeats its error on stdout and stderr: show each text once.
      const texts = [...new Set([r.stderr.trim(), r.stdout.trim()].filter(Boolean))];
      const tail = texts.join('\n').split('\n').slice(-25).join('\n');
      throw new Error(`${cmd} ${args.join(' ')} failed (${why}):\n${tail}`);
    }
    let cpuMs: number | undefined;
    if (cpuFile) {
      const [user, sys] = fs.readFileSync(cpuFile, 'utf8').trim().split('\n').pop()!.split(/\s+/).map(Number);
      if (Number.isFinite(user) && Number.isFinite(sys)) cpuMs = (user! + sys!) * 1000;
    }
    return { wallMs, cpuMs, stdout: r.stdout, stderr: r.stderr };
  } finally {
    if (cpuFile) fs.rmSync(path.dirname(cpuFile), { recursive: true, force: true });
  }
}

/** `runs` measured runs after `warmup` unmeasured ones; `before` runs (untimed) ahead of each. */
export function measureRuns(
  cmd: string,
  args: string[],
  runs: number,
  opts: MeasureOptions & { warmup?: number; before?: () => void } = {},
): Measurement[] {
  const out: Measurement[] = [];
  const warmup = opts.warmup ?? 1;
  for (let i = 0; i < warmup + runs; i++) {
    opts.before?.();
    const m = measure(cmd, args, opts);
    if (i >= warmup) out.push(m);
  }
  return out;
}

export interface Summary {
  runs: number;
  wallMs: number;
  cpuMs: number | undefined;
  minMs: number;
  maxMs: number;
}

export function summarise(ms: Measurement[]): Summary {
  const walls = ms.map((m) => m.wallMs);
  const cpus = ms.map((m) => m.cpuMs).filter((c): c is number => c !== undefined);
  return {
    runs: ms.length,
    wallMs: median(walls),
    cpuMs: cpus.length === ms.length ? median(cpus) : undefined,
    minMs: Math.min(...walls),
    maxMs: Math.max(...walls),
  };
}

export const fmtMs = (ms: number) =>
  ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : ms >= 10 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(1)} ms`;
export const fmtCpu = (ms: number | undefined) => (ms === undefined ? 'n/a' : fmtMs(ms));
export const fmtRatio = (x: number) => `${x.toFixed(2)}×`;
export const fmtPct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;
export const fmtBytes = (n: number) =>
  n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`;
export const goal = (met: boolean) => (met ? 'met' : '**not met**');

/** The 1-minute load average, printed with figures taken on a shared machine. */
export const loadAverage = () => os.loadavg()[0]!.toFixed(2);

/** A markdown table from a header row and body rows. */
export function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/** The note every section on this shared machine carries; `cpu` when the section reports CPU time. */
export function sharedMachineNote(opts: { cpu: boolean }): string {
  const cpu = opts.cpu
    ? ' CPU time is user + system time of the measured process tree, less sensitive to other jobs than wall time.'
    : '';
  return `Figures from one run on a shared machine (other jobs were running; 1-minute load average ${loadAverage()} when this section finished).${cpu}`;
}

export interface Variant {
  name: string;
  cmd: string;
  args: string[];
  opts?: MeasureOptions;
  /** Untimed, before every run of this variant (clear a cache, edit a file). */
  before?: () => void;
  /** Checks each run's output; throws when the run did not do what the variant claims. */
  check?: (m: Measurement) => void;
}

/**
 * Runs the variants round-robin (`warmup` unmeasured rounds, then `runs`
 * measured ones), so that a change in the machine's load during the run
 * affects every variant alike instead of whichever ran at that time.
 */
export function interleave(variants: Variant[], runs: number, warmup = 1): Map<string, Summary> {
  const results = new Map<string, Measurement[]>(variants.map((v) => [v.name, []]));
  for (let round = 0; round < warmup + runs; round++) {
    for (const v of variants) {
      v.before?.();
      let m: Measurement;
      try {
        m = measure(v.cmd, v.args, v.opts);
        v.check?.(m);
      } catch (e) {
        throw new Error(`${v.name} (round ${round + 1}): ${e instanceof Error ? e.message : String(e)}`);
      }
      if (round >= warmup) results.get(v.name)!.push(m);
    }
  }
  return new Map([...results].map(([k, ms]) => [k, summarise(ms)]));
}

/** A section's number of runs; PLRUST_BENCH_RUNS overrides it for a quick smoke run (the text reports the number used). */
export function runCount(wanted: number): number {
  const n = Number(process.env.PLRUST_BENCH_RUNS);
  return Number.isInteger(n) && n > 0 ? n : wanted;
}
