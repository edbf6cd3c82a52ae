/**
 * Writes that are either complete or absent. Temporary paths live under
 * PLRUST_HOME/tmp (same filesystem, so rename() is atomic) and carry the
 * owner's pid, so a later run can remove what a killed run left behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

export function writeFileAtomic(file: string, data: string | Buffer, mode?: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  try {
    fs.writeFileSync(tmp, data, mode === undefined ? undefined : { mode });
    const fd = fs.openSync(tmp, 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** A fresh directory `<tmpRoot>/<prefix>-<pid>-<random>`. */
export function makeTempDir(tmpRoot: string, prefix: string): string {
  fs.mkdirSync(tmpRoot, { recursive: true });
  const dir = path.join(tmpRoot, `${prefix}-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
  fs.mkdirSync(dir);
  return dir;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temp entries whose owning process is gone; returns what was removed. */
export function cleanStaleTemp(tmpRoot: string): string[] {
  if (!fs.existsSync(tmpRoot)) return [];
  const removed: string[] = [];
  for (const name of fs.readdirSync(tmpRoot)) {
    const m = name.match(/-(\d+)-[0-9a-f]{8}$/);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    fs.rmSync(path.join(tmpRoot, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/**
 * Publishes `staged` as `link` (a symlink into `storeDir`), replacing what
 * `link` pointed to with one atomic rename of a symlink: at every instant
 * `link` is the complete old tree or the complete new one, even across a
 * SIGKILL. Returns the store entry that `link` pointed to before, if any, for
 * the caller to delete once it no longer matters.
 */
export function publishDir(staged: string, link: string, storeDir: string): string | undefined {
  fs.mkdirSync(storeDir, { recursive: true });
  const entry = path.join(storeDir, `${path.basename(link)}-${crypto.randomBytes(6).toString('hex')}`);
  fs.renameSync(staged, entry);
  let previous: string | undefined;
  try {
    previous = path.resolve(path.dirname(link), fs.readlinkSync(link));
  } catch {
    previous = undefined;
  }
  const tmpLink = `${link}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  fs.symlinkSync(path.relative(path.dirname(link), entry), tmpLink);
  fs.renameSync(tmpLink, link);
  return previous;
}

/** Store entries no link in `linkDir` points to: leftovers of interrupted publishes. */
export function orphanedStoreEntries(storeDir: string, linkDir: string): string[] {
  if (!fs.existsSync(storeDir)) return [];
  const referenced = new Set<string>();
  for (const name of fs.readdirSync(linkDir)) {
    const p = path.join(linkDir, name);
    try {
      if (fs.lstatSync(p).isSymbolicLink()) referenced.add(path.resolve(linkDir, fs.readlinkSync(p)));
    } catch {
      // raced with a removal; nothing to protect
    }
  }
  return fs
    .readdirSync(storeDir)
    .map((n) => path.join(storeDir, n))
    .filter((p) => !referenced.has(p));
}
