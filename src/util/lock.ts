/**
 * Cross-process locks (proper-lockfile: a lock directory refreshed while
 * held, so a holder killed with SIGKILL goes stale instead of blocking
 * forever). A second process waits with a message, or fails at once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PlrustError, ExitCode, isErrnoException } from './errors.js';

export type Release = () => Promise<void>;

export interface LockOptions {
  /** Fail at once instead of waiting. */
  noWait: boolean;
  /** Told once when we start waiting. */
  onWait?: (message: string) => void;
  /** What the lock protects, for messages. */
  what: string;
  staleMs?: number;
}

export async function acquireLock(lockDir: string, name: string, opts: LockOptions): Promise<Release> {
  const lockfile = await import('proper-lockfile');
  fs.mkdirSync(lockDir, { recursive: true });
  const target = path.join(lockDir, name);
  fs.closeSync(fs.openSync(target, 'a'));
  const stale = opts.staleMs ?? 15_000;
  const attempt = (retries: number) =>
    lockfile.lock(target, {
      stale,
      update: Math.floor(stale / 3),
      retries: retries === 0 ? 0 : { retries, minTimeout: 200, maxTimeout: 1000, factor: 1.3 },
      realpath: false,
    });
  try {
    return await attempt(0);
  } catch (e) {
    if (!isErrnoException(e) || e.code !== 'ELOCKED') throw e;
  }
  if (opts.noWait) {
    throw new PlrustError({
      code: 'LOCKED',
      message: `another plrust process is busy with ${opts.what} (lock ${target}.lock)`,
      hint: 'wait for it to finish, or run again without --no-wait to wait automatically',
      exitCode: ExitCode.Locked,
    });
  }
  opts.onWait?.(`waiting for another plrust process to finish ${opts.what}…`);
  // About an hour of patience: a std build on a slow machine takes minutes, not hours.
  return attempt(4000);
}
