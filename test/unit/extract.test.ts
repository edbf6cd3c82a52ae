import { gzipSync } from 'node:zlib';
import { existsSync } from 'node:fs';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from 'tar';
import { rawTarGz, type RawEntry } from '../helpers/tar.js';
import { PlrustError } from '../../src/util/errors.js';
import { extractTarGz } from '../../src/util/extract.js';

describe('extractTarGz', () => {
  let work: string;
  let n = 0;
  /** A fresh destination path, not yet created, in its own parent directory. */
  const freshDest = async (): Promise<string> => {
    const parent = join(work, `case-${++n}`);
    await mkdir(parent);
    return join(parent, 'src');
  };
  const archiveOf = async (entries: RawEntry[]): Promise<string> => {
    const file = join(work, `archive-${++n}.tar.gz`);
    await writeFile(file, rawTarGz(entries));
    return file;
  };

  async function refused(entries: RawEntry[], entryName: string, reason: RegExp, strip = 0): Promise<void> {
    const archive = await archiveOf(entries);
    const dest = await freshDest();
    await assert.rejects(extractTarGz(archive, dest, { strip }), (e: unknown) => {
      assert.ok(e instanceof PlrustError);
      assert.equal(e.code, 'UNSAFE_ARCHIVE');
      assert.equal(e.data?.entry, entryName);
      assert.match(String(e.data?.reason), reason);
      assert.ok(e.message.includes(entryName));
      return true;
    });
    assert.equal(existsSync(dest), false, 'destination must not exist');
    assert.deepEqual(await readdir(join(dest, '..')), [], 'no temporary directory left beside it');
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'plrust-extract-'));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  test('extracts a good archive made by tar.create, with strip, modes and inner links', async () => {
    const tree = join(work, 'tree');
    await mkdir(join(tree, 'rust-src-1.96.0', 'library', 'core', 'src'), { recursive: true });
    await writeFile(join(tree, 'rust-src-1.96.0', 'library', 'core', 'src', 'lib.rs'), '#![no_std]\n');
    await writeFile(join(tree, 'rust-src-1.96.0', 'library', 'run.sh'), '#!/bin/sh\n');
    await chmod(join(tree, 'rust-src-1.96.0', 'library', 'run.sh'), 0o755);
    await symlink('core/src/lib.rs', join(tree, 'rust-src-1.96.0', 'library', 'lib-link.rs'));
    const archive = join(work, 'good.tar.gz');
    await create({ gzip: true, file: archive, cwd: tree }, ['rust-src-1.96.0']);

    const dest = await freshDest();
    await extractTarGz(archive, dest, { strip: 1 });
    assert.equal(await readFile(join(dest, 'library', 'core', 'src', 'lib.rs'), 'utf8'), '#![no_std]\n');
    assert.equal((await stat(join(dest, 'library', 'run.sh'))).mode & 0o777, 0o755);
    assert.equal(await readlink(join(dest, 'library', 'lib-link.rs')), 'core/src/lib.rs');
    assert.equal(await readFile(join(dest, 'library', 'lib-link.rs'), 'utf8'), '#![no_std]\n');
    assert.deepEqual(await readdir(join(dest, '..')), ['src']);
  });

  test('refuses an entry with ../', async () => {
    await refused(
      [
        { path: 'ok/a.txt', body: 'a'.repeat(100_000) },
        { path: '../x', body: 'evil' },
      ],
      '../x',
      /'\.\.'/,
    );
    assert.equal(existsSync(join(work, 'x')), false);
  });

  test('refuses a ../ in the middle of a path', async () => {
    await refused([{ path: 'a/../../b', body: 'evil' }], 'a/../../b', /'\.\.'/);
  });

  test('refuses an absolute path', async () => {
    const target = join(work, 'abs-evil');
    await refused([{ path: target, body: 'evil' }], target, /absolute/);
    assert.equal(existsSync(target), false);
  });

  test('refuses a symlink to /etc followed by a file through it', async () => {
    await refused(
      [
        { path: 'etc', type: 'SymbolicLink', linkpath: '/etc' },
        { path: 'etc/plrust-extract-evil', body: 'evil' },
      ],
      'etc',
      /absolute path \/etc/,
    );
    assert.equal(existsSync('/etc/plrust-extract-evil'), false);
  });

  test('refuses a relative symlink that climbs out', async () => {
    await refused([{ path: 'a/up', type: 'SymbolicLink', linkpath: '../../outside' }], 'a/up', /points outside/);
  });

  test('judges links after strip: harmless in place, escaping once the top directory is dropped', async () => {
    const entries: RawEntry[] = [
      { path: 'top/', type: 'Directory', mode: 0o755 },
      { path: 'top/up', type: 'SymbolicLink', linkpath: '../sibling' },
    ];
    const dest = await freshDest();
    await extractTarGz(await archiveOf(entries), dest);
    assert.equal(await readlink(join(dest, 'top', 'up')), '../sibling');
    await refused(entries, 'top/up', /points outside/, 1);
  });

  test('refuses writing through an archive symlink, even one that stays inside', async () => {
    await refused(
      [
        { path: 'real/', type: 'Directory', mode: 0o755 },
        { path: 'alias', type: 'SymbolicLink', linkpath: 'real' },
        { path: 'alias/file', body: 'x' },
      ],
      'alias/file',
      /through the symbolic link alias/,
    );
  });

  test('refuses link chains that escape only when followed on disk', async () => {
    await refused(
      [
        { path: 'here', type: 'SymbolicLink', linkpath: '.' },
        { path: 'out', type: 'SymbolicLink', linkpath: 'here/..' },
      ],
      'out',
      /through other links/,
    );
  });

  test('refuses hard links outside the destination', async () => {
    await refused([{ path: 'passwd', type: 'Link', linkpath: '/etc/passwd' }], 'passwd', /absolute path \/etc\/passwd/);
    await refused([{ path: 'passwd', type: 'Link', linkpath: '../../../../etc/passwd' }], 'passwd', /'\.\.'/);
  });

  test('refuses a hard link to a symbolic link (it would resolve from its new place)', async () => {
    await refused(
      [
        { path: 'd/', type: 'Directory', mode: 0o755 },
        { path: 'd/s', type: 'SymbolicLink', linkpath: '../x' },
        { path: 'copy', type: 'Link', linkpath: 'd/s' },
      ],
      'copy',
      /through a symbolic link/,
    );
  });

  test('refuses device and fifo entries', async () => {
    await refused([{ path: 'fifo', type: 'FIFO' }], 'fifo', /FIFO/);
    await refused([{ path: 'null', type: 'CharacterDevice', devmaj: 1, devmin: 3 }], 'null', /CharacterDevice/);
    await refused([{ path: 'sda', type: 'BlockDevice', devmaj: 8, devmin: 0 }], 'sda', /BlockDevice/);
  });

  test('drops set-id bits and keeps inner hard links', async () => {
    const dest = await freshDest();
    await extractTarGz(
      await archiveOf([
        { path: 'tool', body: 'x', mode: 0o4755 },
        { path: 'tool-again', type: 'Link', linkpath: 'tool' },
      ]),
      dest,
    );
    assert.equal((await stat(join(dest, 'tool'))).mode & 0o7777, 0o755);
    assert.equal((await lstat(join(dest, 'tool-again'))).ino, (await lstat(join(dest, 'tool'))).ino);
  });

  test('a truncated or non-tar file is CORRUPT_ARCHIVE and leaves nothing behind', async () => {
    const whole = rawTarGz([
      { path: 'big', body: 'y'.repeat(300_000) },
      { path: 'small', body: 'z' },
    ]);
    const cases = {
      truncated: whole.subarray(0, Math.floor(whole.length / 2)),
      'not gzip': Buffer.from('definitely not an archive\n'.repeat(100)),
      'gzip of garbage': gzipSync(Buffer.from('garbage '.repeat(1000))),
    };
    for (const [name, bytes] of Object.entries(cases)) {
      const file = join(work, `corrupt-${++n}.tar.gz`);
      await writeFile(file, bytes);
      const dest = await freshDest();
      await assert.rejects(extractTarGz(file, dest), { code: 'CORRUPT_ARCHIVE' }, name);
      assert.equal(existsSync(dest), false, name);
      assert.deepEqual(await readdir(join(dest, '..')), [], name);
    }
  });

  test('a missing archive or an existing destination is refused before extracting', async () => {
    const dest = await freshDest();
    await assert.rejects(extractTarGz(join(work, 'nope.tar.gz'), dest), { code: 'ARCHIVE_NOT_FOUND' });
    await mkdir(dest);
    await assert.rejects(extractTarGz(await archiveOf([{ path: 'a', body: 'a' }]), dest), {
      code: 'EXTRACT_DEST_EXISTS',
    });
  });
});
