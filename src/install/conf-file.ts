/** postgresql.conf on disk: backup, then the marked block in or out, atomically. */
import fs from 'node:fs';
import path from 'node:path';
import { PlrustError, ExitCode } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { applyBlock, needsRestart, removeBlock, type ConfChange, type ConfSettings } from './conf.js';

export interface ConfOutcome {
  pgdata: string;
  file: string;
  backup: string;
  change: ConfChange;
  /** What the server needs to see the change. */
  takeEffect: 'nothing' | 'reload' | 'restart';
}

function confPath(pgdata: string): string {
  const file = path.join(path.resolve(pgdata), 'postgresql.conf');
  if (!fs.existsSync(file)) {
    throw new PlrustError({
      code: 'PGDATA_INVALID',
      message: `${pgdata} has no postgresql.conf`,
      hint: 'pass --pgdata with the data directory of a cluster',
      exitCode: ExitCode.Usage,
    });
  }
  return file;
}

function keepOwner(file: string): { uid: number; gid: number; mode: number } {
  const st = fs.statSync(file);
  return { uid: st.uid, gid: st.gid, mode: st.mode & 0o777 };
}

function writeKeepingOwner(file: string, text: string, owner: { uid: number; gid: number; mode: number }): void {
  writeFileAtomic(file, text, owner.mode);
  // The server owns its configuration; a root-run install must not take it over.
  if (typeof process.getuid === 'function' && process.getuid() === 0) fs.chownSync(file, owner.uid, owner.gid);
}

export function applyConf(pgdata: string, settings: ConfSettings, backupDir: string): ConfOutcome {
  const file = confPath(pgdata);
  const owner = keepOwner(file);
  const before = fs.readFileSync(file, 'utf8');
  const result = applyBlock(before, settings);
  fs.mkdirSync(backupDir, { recursive: true });
  const backup = path.join(backupDir, `postgresql.conf.${path.basename(path.resolve(pgdata))}.${Date.now()}`);
  if (result.change !== 'unchanged') {
    fs.writeFileSync(backup, before);
    writeKeepingOwner(file, result.text, owner);
  }
  return {
    pgdata: path.resolve(pgdata),
    file,
    backup,
    change: result.change,
    takeEffect: result.change === 'unchanged' ? 'nothing' : needsRestart(result.changedKeys) ? 'restart' : 'reload',
  };
}

export function removeConf(pgdata: string): ConfOutcome {
  const file = confPath(pgdata);
  const owner = keepOwner(file);
  const before = fs.readFileSync(file, 'utf8');
  const result = removeBlock(before);
  if (result.change === 'removed') writeKeepingOwner(file, result.text, owner);
  return {
    pgdata: path.resolve(pgdata),
    file,
    backup: '',
    change: result.change,
    takeEffect: result.change === 'removed' ? (needsRestart(result.changedKeys) ? 'restart' : 'reload') : 'nothing',
  };
}
