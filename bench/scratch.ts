/**
 * Scratch space for benchmarks under /tmp/plrust-bench: every directory made
 * here is removed when the run ends, whether it ends normally, by an error or
 * by Ctrl-C, and a section removes its own as soon as it is done.
 */
import fs from 'node:fs';
import path from 'node:path';

const SCRATCH_ROOT = '/tmp/plrust-bench';

const live = new Set<string>();
let hooked = false;

function removeAll(): void {
  for (const dir of live) fs.rmSync(dir, { recursive: true, force: true });
  live.clear();
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', removeAll);
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    // Leaves via process.exit so that every 'exit' hook (clusters included) runs.
    process.once(signal, () => process.exit(code));
  }
}

/** A fresh directory (mode 0755: the PostgreSQL server may have to read it). */
export function scratchDir(name: string): string {
  hook();
  fs.mkdirSync(SCRATCH_ROOT, { recursive: true, mode: 0o755 });
  const dir = fs.mkdtempSync(path.join(SCRATCH_ROOT, `${name}-`));
  fs.chmodSync(dir, 0o755);
  live.add(dir);
  return dir;
}

export function removeScratch(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  live.delete(dir);
}

/** Wraps a failure with the step that failed, so a broken benchmark says where it broke. */
export async function step<T>(what: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const err = new Error(`${what}: ${e instanceof Error ? e.message : String(e)}`);
    // The original frames, without the original message (which may span lines).
    const frames = e instanceof Error && e.stack ? e.stack.split('\n').filter((l) => /^\s+at /.test(l)) : [];
    err.stack = [err.message, ...frames].join('\n');
    throw err;
  }
}
