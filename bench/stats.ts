/** Timing helpers: wall-clock runs of a command, summarised by the median. */
import { spawnSync } from 'node:child_process';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Runs `cmd args` `runs` times (after `warmup` unmeasured runs); returns milliseconds per run. */
export function timeCommand(cmd: string, args: string[], runs: number, opts: { warmup?: number; env?: NodeJS.ProcessEnv; cwd?: string; before?: () => void } = {}): number[] {
  const times: number[] = [];
  for (let i = 0; i < (opts.warmup ?? 1) + runs; i++) {
    opts.before?.();
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr?.toString()}`);
    if (i >= (opts.warmup ?? 1)) times.push(ms);
  }
  return times;
}

export const fmtMs = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
