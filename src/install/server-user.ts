/**
 * The OS account PostgreSQL runs as must read the toolchain and run the
 * compiler. Whether it can is asked of the kernel (as that user), not
 * guessed from mode bits along the path.
 */
import { exec } from '../util/exec.js';

export const DEFAULT_SERVER_USER = 'postgres';

export function runningAsRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Can `user` read (and, for directories, enter) every path? Only answerable as root; otherwise assumes yes. */
export async function userCanRead(user: string, paths: string[]): Promise<{ ok: boolean; unreadable: string[] }> {
  if (!runningAsRoot()) return { ok: true, unreadable: [] };
  const unreadable: string[] = [];
  for (const p of paths) {
    const r = await exec('runuser', ['-u', user, '--', 'test', '-r', p]);
    if (r.code !== 0) unreadable.push(p);
  }
  return { ok: unreadable.length === 0, unreadable };
}

export async function userExists(user: string): Promise<boolean> {
  const r = await exec('id', ['-u', user]);
  return r.code === 0;
}
