import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseElfDynamicInfo, readElfDynamicInfo, type DynamicSymbol } from '../../src/verify/elf.js';
import { PlrustError } from '../../src/util/errors.js';

const run = promisify(execFile);

const HOST_LIBC = '/lib/x86_64-linux-gnu/libc.so.6';
const HOST_LIBM = '/lib/x86_64-linux-gnu/libm.so.6';
const AARCH64_LIBC = '/usr/aarch64-linux-gnu/lib/libc.so.6';

let dir: string;
let rustLib: string;
let cOpenX86: string;
let cOpenA64: string;
let cMemcpyA64: string;

/** `readelf --dyn-syms -W` as the oracle: one row per symbol, entry 0 left out. */
async function readelfSymbols(path: string) {
  const { stdout } = await run('readelf', ['--dyn-syms', '-W', path], { maxBuffer: 64 << 20 });
  const rows = [];
  for (const line of stdout.split('\n')) {
    const m = /^\s*(\d+): ([0-9a-f]+)\s+(\d+|0x[0-9a-f]+) (\w+)\s+(\w+)\s+\w+\s+(\w+) ?(.*)$/.exec(line);
    if (!m || m[1] === '0') continue;
    const full = m[7]!.replace(/ \(\d+\)$/, '');
    const at = full.indexOf('@');
    rows.push({
      index: Number(m[1]),
      value: BigInt(`0x${m[2]}`),
      size: BigInt(m[3]!),
      type: m[4]!.toLowerCase(),
      binding: m[5]!.toLowerCase(),
      undefined: m[6] === 'UND',
      name: at === -1 ? full : full.slice(0, at),
      version: at === -1 ? undefined : full.slice(at).replace(/^@@?/, ''),
      defaultVersion: at === -1 ? undefined : full.startsWith('@@', at),
    });
  }
  return rows;
}

/**
 * readelf prints what it thinks is useful rather than the raw table: a
 * section symbol gets its section's name, and a version-definition symbol
 * (name equal to its version, e.g. `GLIBC_2.10`) no version. Compare those
 * fields on readelf's terms; everything else must match exactly.
 */
function comparable(row: Awaited<ReturnType<typeof readelfSymbols>>[number]) {
  return row.type === 'section' ? { ...row, name: '(section)' } : row;
}

function asOracleRow(s: DynamicSymbol) {
  const versionIsName = !s.undefined && s.version === s.name;
  return comparable({
    index: s.index,
    value: s.value,
    size: s.size,
    type: s.type,
    binding: s.binding,
    undefined: s.undefined,
    name: s.name,
    version: versionIsName ? undefined : s.version,
    // readelf marks a default version with @@ only on definitions.
    defaultVersion: s.version === undefined || versionIsName ? undefined : !s.undefined && s.versionHidden === false,
  });
}

async function readelfNeeded(path: string): Promise<string[]> {
  const { stdout } = await run('readelf', ['-d', '-W', path]);
  return [...stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]!);
}

async function expectElfError(bytes: Uint8Array, code: string, pattern: RegExp): Promise<void> {
  assert.throws(
    () => parseElfDynamicInfo(bytes, 'sample.so'),
    (e: unknown) =>
      e instanceof PlrustError && e.code === code && pattern.test(e.message) && e.message.includes('sample.so'),
  );
}

/** Offset of the section header of the given type, read the plain way (test-side, independent of the parser). */
function sectionHeaderOffset(bytes: Buffer, type: number): number {
  const shoff = Number(bytes.readBigUInt64LE(40));
  const shnum = bytes.readUInt16LE(60);
  for (let i = 0; i < shnum; i++) {
    if (bytes.readUInt32LE(shoff + i * 64 + 4) === type) return shoff + i * 64;
  }
  throw new Error(`no section of type ${type}`);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plrust-elf-test-'));
  await writeFile(
    join(dir, 'lib.rs'),
    '#[no_mangle] pub extern "C" fn probe() -> i32 { std::fs::File::open("/nonexistent").is_ok() as i32 }\n',
  );
  await writeFile(join(dir, 'open.c'), '#include <fcntl.h>\nint probe(const char *p) { return open(p, O_RDONLY); }\n');
  await writeFile(
    join(dir, 'copy.c'),
    '#include <string.h>\nvoid probe(char *d, const char *s, size_t n) { memcpy(d, s, n); }\n',
  );
  rustLib = join(dir, 'librust.so');
  cOpenX86 = join(dir, 'libopen-x86_64.so');
  cOpenA64 = join(dir, 'libopen-aarch64.so');
  cMemcpyA64 = join(dir, 'libcopy-aarch64.so');
  const cc = ['-shared', '-fPIC', '-O0', '-fno-builtin'];
  await Promise.all([
    run('/usr/bin/rustc', ['--crate-type', 'cdylib', '-O', join(dir, 'lib.rs'), '-o', rustLib]),
    run('gcc', [...cc, join(dir, 'open.c'), '-o', cOpenX86]),
    run('aarch64-linux-gnu-gcc', [...cc, join(dir, 'open.c'), '-o', cOpenA64]),
    run('aarch64-linux-gnu-gcc', [...cc, join(dir, 'copy.c'), '-o', cMemcpyA64]),
  ]);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ELF dynamic symbols agree with readelf', () => {
  const cases: [string, () => string][] = [
    ['x86_64 glibc (versioned definitions and imports)', () => HOST_LIBC],
    ['x86_64 libm', () => HOST_LIBM],
    ['aarch64 glibc', () => AARCH64_LIBC],
    ['a Rust cdylib built against the host std', () => rustLib],
    ['an aarch64 C shared library', () => cOpenA64],
  ];
  for (const [label, file] of cases) {
    test(label, async () => {
      const path = file();
      const [info, oracle, needed] = await Promise.all([
        readElfDynamicInfo(path),
        readelfSymbols(path),
        readelfNeeded(path),
      ]);
      assert.ok(oracle.length > 0, 'readelf printed symbols');
      assert.equal(info.symbols.length, oracle.length);
      for (let i = 0; i < oracle.length; i++) assert.deepEqual(asOracleRow(info.symbols[i]!), comparable(oracle[i]!));
      assert.deepEqual(info.needed, needed);
    });
  }
});

describe('ELF facts the verifier relies on', () => {
  test('machine, type, versioned import and its library (x86_64)', async () => {
    const info = await readElfDynamicInfo(cOpenX86);
    assert.equal(info.machine, 'x86_64');
    assert.equal(info.type, 'shared');
    assert.deepEqual(info.needed, ['libc.so.6']);
    const open = info.symbols.find((s) => s.name === 'open');
    assert.ok(open, 'open is imported');
    assert.equal(open.undefined, true);
    assert.equal(open.version, 'GLIBC_2.2.5');
    assert.equal(open.versionLibrary, 'libc.so.6');
    const probe = info.symbols.find((s) => s.name === 'probe');
    assert.ok(probe && !probe.undefined && probe.type === 'func' && probe.binding === 'global');
  });

  test('aarch64 objects are recognised, with their own symbol versions', async () => {
    const [withOpen, withMemcpy] = await Promise.all([readElfDynamicInfo(cOpenA64), readElfDynamicInfo(cMemcpyA64)]);
    assert.equal(withOpen.machine, 'aarch64');
    assert.equal(withMemcpy.machine, 'aarch64');
    assert.equal(withOpen.symbols.find((s) => s.name === 'open')?.version, 'GLIBC_2.17');
    const imports = withMemcpy.symbols.filter((s) => s.undefined).map((s) => s.name);
    assert.ok(imports.includes('memcpy'));
    assert.ok(!imports.includes('open'));
  });

  test('the Rust host std imports open64 with its version', async () => {
    const info = await readElfDynamicInfo(rustLib);
    const open64 = info.symbols.find((s) => s.name === 'open64' && s.undefined);
    assert.equal(open64?.version, 'GLIBC_2.2.5');
    assert.ok(info.needed.includes('libc.so.6'));
  });

  test('DT_RUNPATH and DT_SONAME are reported', async () => {
    const out = join(dir, 'librunpath.so');
    await run('gcc', [
      '-shared',
      '-fPIC',
      join(dir, 'copy.c'),
      '-o',
      out,
      '-Wl,-rpath,/tmp/elsewhere',
      '-Wl,--enable-new-dtags',
      '-Wl,-soname,libcopy.so.1',
    ]);
    const info = await readElfDynamicInfo(out);
    assert.deepEqual(info.searchPaths, [{ tag: 'DT_RUNPATH', value: '/tmp/elsewhere' }]);
    assert.equal(info.soname, 'libcopy.so.1');
  });
});

describe('bad input is a clear error, not a crash', () => {
  test('a text file is NOT_ELF', async () => {
    await expectElfError(Buffer.from('#!/bin/sh\necho hello\n'), 'NOT_ELF', /not an ELF file/);
  });

  test('an empty file is NOT_ELF', async () => {
    await expectElfError(new Uint8Array(0), 'NOT_ELF', /not an ELF file/);
  });

  test('a file cut inside the ELF header is ELF_MALFORMED', async () => {
    const bytes = await readFile(cOpenX86);
    await expectElfError(bytes.subarray(0, 40), 'ELF_MALFORMED', /truncated/);
  });

  test('a file cut before its section headers is ELF_MALFORMED', async () => {
    const bytes = await readFile(cOpenX86);
    await expectElfError(bytes.subarray(0, Math.floor(bytes.length / 2)), 'ELF_MALFORMED', /outside the file/);
  });

  test('every truncation point of a real library is refused with a PlrustError', async () => {
    const bytes = await readFile(cOpenX86);
    // the section header table ends the file, so every proper prefix lacks part of it
    for (let cut = 0; cut < bytes.length; cut += 97) {
      assert.throws(
        () => parseElfDynamicInfo(bytes.subarray(0, cut), 'cut.so'),
        (e) => e instanceof PlrustError,
        `a file cut at ${cut} of ${bytes.length} bytes was accepted or raised another kind of error`,
      );
    }
    assert.throws(() => parseElfDynamicInfo(bytes.subarray(0, bytes.length - 1), 'cut.so'), PlrustError);
    parseElfDynamicInfo(bytes, 'whole.so');
  });

  test('corrupted headers and tables give a PlrustError, never an exception of another kind', async () => {
    const original = await readFile(cOpenX86);
    const shoff = Number(original.readBigUInt64LE(40));
    let seed = 1;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const rejected = new Set<string>();
    for (let round = 0; round < 3000; round++) {
      const bytes = Buffer.from(original);
      for (let k = 0; k < 3; k++) {
        // Aim at the ELF/program headers and the section header table, where a bad value changes what is parsed.
        const at =
          random() < 0.5 ? Math.floor(random() * 0x800) : shoff + Math.floor(random() * (bytes.length - shoff));
        bytes[at] = Math.floor(random() * 256);
      }
      try {
        parseElfDynamicInfo(bytes, 'corrupt.so');
      } catch (e) {
        assert.ok(e instanceof PlrustError, `round ${round}: ${String(e)}`);
        rejected.add(e.code);
      }
    }
    assert.ok(rejected.has('ELF_MALFORMED') && rejected.has('ELF_INCONSISTENT'), [...rejected].join());
  });

  test('a 32-bit object is ELF_UNSUPPORTED', async () => {
    const bytes = Buffer.from(await readFile(cOpenX86));
    bytes[4] = 1;
    await expectElfError(bytes, 'ELF_UNSUPPORTED', /32-bit/);
  });

  test('a big-endian object is ELF_UNSUPPORTED', async () => {
    const bytes = Buffer.from(await readFile(cOpenX86));
    bytes[5] = 2;
    await expectElfError(bytes, 'ELF_UNSUPPORTED', /big-endian/);
  });

  test('another machine is ELF_UNSUPPORTED', async () => {
    const bytes = Buffer.from(await readFile(cOpenX86));
    bytes.writeUInt16LE(40, 18);
    await expectElfError(bytes, 'ELF_UNSUPPORTED', /machine 40/);
  });

  test('a missing file is LIBRARY_NOT_READABLE', async () => {
    await assert.rejects(
      readElfDynamicInfo(join(dir, 'nope.so')),
      (e: unknown) => e instanceof PlrustError && e.code === 'LIBRARY_NOT_READABLE',
    );
  });
});

describe('section headers must describe what the loader reads', () => {
  test('a .dynsym header pointing elsewhere than DT_SYMTAB is rejected', async () => {
    const bytes = Buffer.from(await readFile(cOpenX86));
    const dynsym = sectionHeaderOffset(bytes, 11);
    bytes.writeBigUInt64LE(bytes.readBigUInt64LE(dynsym + 16) + 24n, dynsym + 16);
    await expectElfError(bytes, 'ELF_INCONSISTENT', /DT_SYMTAB/);
  });

  test('a .dynsym header hiding entries that relocations use is rejected', async () => {
    const bytes = Buffer.from(await readFile(cOpenX86));
    const dynsym = sectionHeaderOffset(bytes, 11);
    bytes.writeBigUInt64LE(24n, dynsym + 32);
    await expectElfError(bytes, 'ELF_INCONSISTENT', /beyond the 1 entries/);
  });

  test('a .dynamic header away from PT_DYNAMIC is rejected', async () => {
    const bytes = Buffer.from(await readFile(cOpenX86));
    const dynamic = sectionHeaderOffset(bytes, 6);
    bytes.writeBigUInt64LE(bytes.readBigUInt64LE(dynamic + 24) + 16n, dynamic + 24);
    await expectElfError(bytes, 'ELF_INCONSISTENT', /PT_DYNAMIC/);
  });
});
