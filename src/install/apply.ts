/**
 * Carries out an install plan as a transaction: each destination is written
 * beside itself and renamed into place (a loaded .so is never overwritten in
 * place: running backends keep their mapping of the old inode), whatever was
 * there is backed up first, and a failure rolls every step back.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { sha256File } from '../util/sha256.js';
import type { InstalledFile, InstallManifest } from './manifest.js';

export interface PlannedFile {
  dest: string;
  /** Absolute path of the content to install. */
  from: string;
  role: InstalledFile['role'];
  mode: number;
}

export type FileAction = 'create' | 'replace' | 'unchanged';

export interface FileOutcome extends InstalledFile {
  action: FileAction;
}

function tmpBeside(dest: string): string {
  return path.join(
    path.dirname(dest),
    `.${path.basename(dest)}.plrust-${process.pid}-${crypto.randomBytes(4).toString('hex')}`,
  );
}

function saveBackup(file: string, backupDir: string, index: number): string {
  fs.mkdirSync(backupDir, { recursive: true });
  const backup = path.join(backupDir, `${index}-${path.basename(file)}`);
  fs.copyFileSync(file, backup);
  return backup;
}

/** Creates missing parents of `dir`, returning the ones it created, outermost first. */
function mkdirp(dir: string, created: string[]): void {
  if (fs.existsSync(dir)) return;
  mkdirp(path.dirname(dir), created);
  fs.mkdirSync(dir, { mode: 0o755 });
  created.push(dir);
}

export async function applyFiles(opts: {
  files: PlannedFile[];
  previous: InstallManifest | undefined;
  backupDir: string;
}): Promise<{ outcomes: FileOutcome[]; createdDirs: string[] }> {
  const undo: (() => void)[] = [];
  const outcomes: FileOutcome[] = [];
  const createdDirs: string[] = [];
  // Hard links to replaced files, kept until the transaction is over so a failure can put them back.
  const asides: string[] = [];
  const previousByPath = new Map((opts.previous?.files ?? []).map((f) => [f.path, f]));
  try {
    for (const f of opts.files) {
      const sha256 = await sha256File(f.from);
      const size = fs.statSync(f.from).size;
      const prev = previousByPath.get(f.dest);
      const exists = fs.existsSync(f.dest);
      const current = exists ? await sha256File(f.dest) : undefined;
      // A file that is what we installed last time keeps the backup of what was there before us.
      const ours = prev !== undefined && current === prev.sha256;
      let backup = ours ? prev.backup : undefined;
      if (current === sha256 && exists && !ours) {
        // Someone else's identical file: uninstall must leave it, so it is kept like a replaced one.
        backup = saveBackup(f.dest, opts.backupDir, outcomes.length);
      }
      if (current === sha256) {
        outcomes.push({ path: f.dest, role: f.role, sha256, size, ...(backup ? { backup } : {}), action: 'unchanged' });
        continue;
      }
      const dirsBefore = createdDirs.length;
      mkdirp(path.dirname(f.dest), createdDirs);
      if (exists && !ours) backup = saveBackup(f.dest, opts.backupDir, outcomes.length);
      const tmp = tmpBeside(f.dest);
      fs.copyFileSync(f.from, tmp);
      fs.chmodSync(tmp, f.mode);
      if (exists) {
        const aside = tmpBeside(f.dest);
        fs.linkSync(f.dest, aside);
        asides.push(aside);
        fs.renameSync(tmp, f.dest);
        undo.push(() => fs.renameSync(aside, f.dest));
        outcomes.push({ path: f.dest, role: f.role, sha256, size, ...(backup ? { backup } : {}), action: 'replace' });
      } else {
        fs.renameSync(tmp, f.dest);
        undo.push(() => fs.rmSync(f.dest, { force: true }));
        outcomes.push({ path: f.dest, role: f.role, sha256, size, action: 'create' });
      }
      const newDirs = createdDirs.slice(dirsBefore);
      undo.push(() => {
        for (const d of newDirs.reverse()) fs.rmSync(d, { recursive: true, force: true });
      });
    }
  } catch (e) {
    for (const u of undo.reverse()) {
      try {
        u();
      } catch {
        // keep undoing the rest
      }
    }
    for (const a of asides) fs.rmSync(a, { force: true });
    throw e;
  }
  for (const a of asides) fs.rmSync(a, { force: true });
  return { outcomes, createdDirs };
}

/** Uninstall of one recorded file: restore what it replaced, or remove it; leave files changed since. */
export async function revertFile(f: InstalledFile): Promise<'restored' | 'removed' | 'missing' | 'modified'> {
  if (!fs.existsSync(f.path)) return 'missing';
  if ((await sha256File(f.path)) !== f.sha256) return 'modified';
  if (f.backup && fs.existsSync(f.backup)) {
    const tmp = tmpBeside(f.path);
    fs.copyFileSync(f.backup, tmp);
    fs.chmodSync(tmp, fs.statSync(f.path).mode & 0o777);
    fs.renameSync(tmp, f.path);
    return 'restored';
  }
  fs.rmSync(f.path);
  return 'removed';
}
