/**
 * Unpacks a (gzipped) tar archive so that nothing lands outside the
 * destination and nothing half-extracted is ever visible: entries go into a
 * fresh sibling directory that is renamed to `dest` only when the whole
 * archive was read and checked.
 *
 * tar@7 on its own drops a leading `/` and skips `..` entries with a
 * warning, which would quietly turn a hostile archive into a plausible
 * tree. Here such an archive is refused as a whole.
 */
import { createReadStream } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readlink, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import { Unpack, type ReadEntry } from 'tar';
import { isErrnoException, PlrustError } from './errors.js';

export interface ExtractOptions {
  /** Leading path components to drop from every entry, like `tar --strip-components`. */
  strip?: number;
}

/** Entry types that are plain files, directories or links; everything else is refused. */
const ALLOWED_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'GNUDumpDir', 'SymbolicLink', 'Link']);

/** Longest chain of symbolic links followed when checking where one points. */
const MAX_LINK_HOPS = 40;

interface Refusal {
  entry: string;
  reason: string;
}

type Verdict = 'extract' | 'skip' | Refusal;

function escapes(relPath: string): boolean {
  return relPath === '..' || relPath.startsWith('../');
}

/**
 * Decides entry by entry, remembering the symbolic links seen so far so
 * that no later entry is written through one. Paths are judged after
 * `strip`, as tar will place them.
 */
class EntryGuard {
  private readonly symlinks = new Set<string>();
  /** Extracted paths that are links, to be checked on disk once all exist. */
  readonly links: string[] = [];

  constructor(private readonly strip: number) {}

  judge(entry: ReadEntry): Verdict {
    const raw = entry.path;
    const refuse = (reason: string): Refusal => ({ entry: raw, reason });
    if (raw.startsWith('/')) return refuse('absolute path');
    const parts = raw.split('/');
    if (parts.includes('..')) return refuse("path contains '..'");
    if (!ALLOWED_TYPES.has(entry.type)) return refuse(`${entry.type} entries are not allowed`);
    if (parts.length < this.strip) return 'skip';
    const rel = posix.normalize(parts.slice(this.strip).join('/') || '.').replace(/\/$/, '');

    const through = this.symlinkPrefix(rel);
    if (through !== undefined) return refuse(`would be written through the symbolic link ${through}`);

    if (entry.type === 'SymbolicLink') {
      const target = entry.linkpath ?? '';
      if (posix.isAbsolute(target)) return refuse(`symbolic link to the absolute path ${target}`);
      if (escapes(posix.normalize(posix.join(posix.dirname(rel), target)))) {
        return refuse(`symbolic link to ${target} points outside the destination`);
      }
      this.symlinks.add(rel);
      this.links.push(rel);
    } else if (entry.type === 'Link') {
      const target = entry.linkpath ?? '';
      const targetParts = target.split('/');
      if (posix.isAbsolute(target)) return refuse(`hard link to the absolute path ${target}`);
      if (targetParts.includes('..')) return refuse(`hard link to ${target} contains '..'`);
      if (targetParts.length < this.strip) return 'skip';
      const targetRel = posix.normalize(targetParts.slice(this.strip).join('/'));
      // A hard link to a symbolic link is a copy of the link that resolves
      // relative to its new place, and one through a link leaves the tree.
      if (this.symlinks.has(targetRel) || this.symlinkPrefix(targetRel) !== undefined) {
        return refuse(`hard link to ${target} goes through a symbolic link`);
      }
      this.links.push(rel);
    }
    if (entry.mode !== undefined) {
      // Set-id and sticky bits from a downloaded archive are never wanted.
      entry.mode &= 0o777;
    }
    return 'extract';
  }

  private symlinkPrefix(rel: string): string | undefined {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (this.symlinks.has(prefix)) return prefix;
    }
    return undefined;
  }
}

/**
 * Follows `rel` inside `root` the way the kernel would, one component at a
 * time, reading links from disk. Catches chains such as `a -> .` plus
 * `b -> a/..` that look harmless link by link.
 */
async function staysInside(root: string, rel: string): Promise<boolean> {
  const resolved: string[] = [];
  const pending = rel.split('/');
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (resolved.length === 0) return false;
      resolved.pop();
      continue;
    }
    resolved.push(part);
    const here = join(root, ...resolved);
    const st = await lstat(here).catch(() => undefined);
    if (!st?.isSymbolicLink()) continue;
    if (++hops > MAX_LINK_HOPS) return false;
    const target = await readlink(here);
    if (posix.isAbsolute(target)) return false;
    resolved.pop();
    pending.unshift(...target.split('/'));
  }
  return true;
}

function unsafe(archive: string, r: Refusal): PlrustError {
  return new PlrustError({
    code: 'UNSAFE_ARCHIVE',
    message: `Refusing to extract ${archive}: entry "${r.entry}": ${r.reason}`,
    hint: 'The archive tries to write outside its destination; obtain it from a trusted source',
    data: { archive, entry: r.entry, reason: r.reason },
  });
}

function failure(archive: string, e: unknown): PlrustError {
  const err = e instanceof Error ? e : new Error(String(e));
  if (isErrnoException(err) && err.syscall !== undefined) {
    return new PlrustError({
      code: 'EXTRACT_FAILED',
      message: `Extracting ${archive} failed: ${err.message}`,
      hint: 'Check free disk space and write access to the destination',
      cause: err,
    });
  }
  return new PlrustError({
    code: 'CORRUPT_ARCHIVE',
    message: `${archive} is not a readable .tar.gz: ${err.message}`,
    hint: 'The file is damaged or incomplete: delete it and download again, or check the file given to --rust-src',
    data: { archive },
    cause: err,
  });
}

/** Runs tar over `archive` into `dir`; resolves once every write has finished. */
function unpackInto(
  archive: string,
  dir: string,
  strip: number,
  guard: EntryGuard,
  refused: (r: Refusal) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (e?: unknown): void => {
      if (settled) return;
      settled = true;
      if (e === undefined) resolve();
      else reject(e);
    };
    const unpack: Unpack = new Unpack({
      cwd: dir,
      strip,
      // Every tar warning (bad header, truncated input, …) becomes an error.
      strict: true,
      // Running as root must not hand files to whatever uid the archive names.
      preserveOwner: false,
      filter: (_path, entry) => {
        const verdict = guard.judge(entry as ReadEntry);
        if (verdict === 'extract') return true;
        if (verdict !== 'skip') {
          refused(verdict);
          unpack.abort(new Error(verdict.reason));
        }
        return false;
      },
    });
    const input = createReadStream(archive, { highWaterMark: 1 << 20 });
    input.on('error', (e) => {
      unpack.abort(e);
      settle(e);
    });
    unpack.on('error', (e: unknown) => {
      input.destroy();
      settle(e);
    });
    unpack.on('close', () => settle());
    input.pipe(unpack);
  });
}

export async function extractTarGz(archive: string, dest: string, opts: ExtractOptions = {}): Promise<void> {
  try {
    await stat(archive);
  } catch (e) {
    throw new PlrustError({
      code: 'ARCHIVE_NOT_FOUND',
      message: `Cannot read ${archive}: ${e instanceof Error ? e.message : String(e)}`,
      hint: 'Check the path given to --rust-src',
      cause: e,
    });
  }
  const destExists = await lstat(dest).then(
    () => true,
    (e: unknown) => !(isErrnoException(e) && e.code === 'ENOENT'),
  );
  if (destExists) {
    throw new PlrustError({
      code: 'EXTRACT_DEST_EXISTS',
      message: `Cannot extract ${archive} to ${dest}: it already exists`,
      hint: 'Remove it first, or extract somewhere else',
    });
  }

  await mkdir(dirname(dest), { recursive: true });
  // A sibling of dest: same filesystem, so the final rename is atomic.
  const tmp = await mkdtemp(join(dirname(dest), `.${basename(dest)}.partial-`));
  try {
    // mkdtemp creates 0700; the result should look like any directory we made.
    await chmod(tmp, 0o755);
    const strip = opts.strip ?? 0;
    const guard = new EntryGuard(strip);
    let refusal: Refusal | undefined;
    try {
      await unpackInto(archive, tmp, strip, guard, (r) => {
        refusal ??= r;
      });
    } catch (e) {
      throw refusal ? unsafe(archive, refusal) : failure(archive, e);
    }
    for (const link of guard.links) {
      if (!(await staysInside(tmp, link))) {
        throw unsafe(archive, { entry: link, reason: 'link resolves outside the destination through other links' });
      }
    }
    await rename(tmp, dest);
  } catch (e) {
    // tar may still be finishing writes it began before the failure; it
    // never recreates tmp itself, so retrying a racing rm is enough.
    await rm(tmp, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    throw e;
  }
}
