/**
 * plrust's lines in a cluster's postgresql.conf: one marked block that plrust
 * adds, replaces and removes, never touching anything else in the file.
 * Pure text transformations; conf-file.ts does the I/O with a backup.
 */
export const BEGIN_MARK = '# --- plrust settings (managed by `plrust install`; edit with care) ---';
export const END_MARK = '# --- end of plrust settings ---';

export type ConfSettings = Record<string, string>;

/** Settings that need a server restart to change, not just a reload. */
const RESTART_KEYS = new Set(['shared_preload_libraries']);

function quote(v: string): string {
  return `'${v.replace(/'/g, "''")}'`;
}

function renderBlock(settings: ConfSettings): string {
  const lines = Object.keys(settings)
    .sort()
    .map((k) => `${k} = ${quote(settings[k]!)}`);
  return [BEGIN_MARK, ...lines, END_MARK].join('\n');
}

/** Splits a file into what is outside plrust's block and the block's settings. */
export function readBlock(text: string): { before: string; after: string; settings: ConfSettings | undefined } {
  const b = text.indexOf(BEGIN_MARK);
  const e = text.indexOf(END_MARK);
  if (b < 0 || e < b) return { before: text, after: '', settings: undefined };
  const settings: ConfSettings = {};
  for (const line of text.slice(b + BEGIN_MARK.length, e).split('\n')) {
    const m = line.match(/^\s*([\w.]+)\s*=\s*'((?:[^']|'')*)'\s*$/);
    if (m) settings[m[1]!] = m[2]!.replace(/''/g, "'");
  }
  let after = text.slice(e + END_MARK.length);
  if (after.startsWith('\n')) after = after.slice(1);
  return { before: text.slice(0, b), after, settings };
}

export type ConfChange = 'added' | 'updated' | 'unchanged' | 'removed' | 'absent';

export function applyBlock(
  text: string,
  settings: ConfSettings,
): { text: string; change: ConfChange; changedKeys: string[] } {
  const cur = readBlock(text);
  const block = renderBlock(settings);
  if (cur.settings === undefined) {
    const sep = text === '' || text.endsWith('\n') ? '' : '\n';
    return { text: `${text}${sep}\n${block}\n`, change: 'added', changedKeys: Object.keys(settings) };
  }
  const keys = new Set([...Object.keys(cur.settings), ...Object.keys(settings)]);
  const changedKeys = [...keys].filter((k) => cur.settings![k] !== settings[k]);
  if (changedKeys.length === 0) return { text, change: 'unchanged', changedKeys };
  return { text: `${cur.before}${block}\n${cur.after}`, change: 'updated', changedKeys };
}

export function removeBlock(text: string): { text: string; change: ConfChange; changedKeys: string[] } {
  const cur = readBlock(text);
  if (cur.settings === undefined) return { text, change: 'absent', changedKeys: [] };
  // Undo the blank line applyBlock put in front of the block.
  const before = cur.before.endsWith('\n\n') ? cur.before.slice(0, -1) : cur.before;
  return { text: `${before}${cur.after}`, change: 'removed', changedKeys: Object.keys(cur.settings) };
}

export function needsRestart(changedKeys: string[]): boolean {
  return changedKeys.some((k) => RESTART_KEYS.has(k));
}
