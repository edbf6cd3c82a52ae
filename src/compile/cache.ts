/**
 * The content-addressed artifact cache: cache/<key>/ holds one compiled
 * library and its metadata. The key covers everything that can change the
 * bytes (generated source, toolchain and runtime, target spec, compiler
 * flags, plrust and checker versions), so a hit is always safe to reuse.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sha256Buffer } from '../util/sha256.js';
import { makeTempDir } from '../util/fs-atomic.js';

export type CacheKey = string & { readonly __brand: 'CacheKey' };

export function cacheKey(parts: Record<string, unknown>): CacheKey {
  // Sorted keys: the same inputs give the same key whatever order they were listed in.
  const canonical = JSON.stringify(parts, Object.keys(parts).sort());
  return sha256Buffer(canonical) as CacheKey;
}

export interface CachedArtifact {
  dir: string;
  library: string;
}

export const LIBRARY_NAME = 'lib.so';
/** The definition hash the entry was compiled from: the server drops entries no function has any more. */
export const DEFINITION_FILE = 'definition';
/** Scratch directories of compiles that were killed are removed once they are this old. */
const STALE_TMP_MS = 60 * 60 * 1000;

/** A hit refreshes the entry's time, which orders eviction (least recently used first). */
export function lookup(cacheRoot: string, key: CacheKey): CachedArtifact | undefined {
  const dir = path.join(cacheRoot, key);
  const library = path.join(dir, LIBRARY_NAME);
  if (!fs.existsSync(library)) return undefined;
  const now = new Date();
  try {
    fs.utimesSync(dir, now, now);
  } catch {
    // a read-only cache still serves hits; it just cannot order them
  }
  return { dir, library };
}

function entrySize(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? entrySize(p) : fs.lstatSync(p).size;
  }
  return total;
}

export interface PruneResult {
  removed: number;
  freedBytes: number;
  keptBytes: number;
}

/**
 * Keeps the cache under maxBytes by removing the least recently used
 * entries, and removes scratch directories left by killed compiles. Every
 * entry can be rebuilt, so removing one only costs a compile.
 */
export function pruneCache(cacheRoot: string, tmpRoot: string, maxBytes: number, now = Date.now()): PruneResult {
  if (fs.existsSync(tmpRoot)) {
    for (const name of fs.readdirSync(tmpRoot).filter((n) => n.startsWith('cache-'))) {
      const p = path.join(tmpRoot, name);
      try {
        if (now - fs.statSync(p).mtimeMs > STALE_TMP_MS) fs.rmSync(p, { recursive: true, force: true });
      } catch {
        // removed by its own compile meanwhile
      }
    }
  }
  const result: PruneResult = { removed: 0, freedBytes: 0, keptBytes: 0 };
  if (!fs.existsSync(cacheRoot)) return result;
  const entries = fs
    .readdirSync(cacheRoot, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) => {
      const dir = path.join(cacheRoot, e.name);
      try {
        return [{ dir, used: fs.statSync(dir).mtimeMs, size: entrySize(dir) }];
      } catch {
        return [];
      }
    })
    .sort((a, b) => b.used - a.used);
  for (const e of entries) {
    if (result.keptBytes + e.size <= maxBytes) {
      result.keptBytes += e.size;
      continue;
    }
    fs.rmSync(e.dir, { recursive: true, force: true });
    result.removed++;
    result.freedBytes += e.size;
  }
  return result;
}

/** Fills an entry through a temp dir and one rename; a concurrent identical fill just loses the race. */
export async function store(
  cacheRoot: string,
  tmpRoot: string,
  key: CacheKey,
  fill: (dir: string) => Promise<void>,
): Promise<CachedArtifact> {
  const tmp = makeTempDir(tmpRoot, `cache-${key.slice(0, 12)}`);
  try {
    await fill(tmp);
    fs.mkdirSync(cacheRoot, { recursive: true });
    const dir = path.join(cacheRoot, key);
    try {
      fs.renameSync(tmp, dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
    }
    return { dir, library: path.join(dir, LIBRARY_NAME) };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
