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

export function lookup(cacheRoot: string, key: CacheKey): CachedArtifact | undefined {
  const dir = path.join(cacheRoot, key);
  const library = path.join(dir, LIBRARY_NAME);
  return fs.existsSync(library) ? { dir, library } : undefined;
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
