import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runPlrust } from '../helpers/cli.js';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { verifyLibrary, untrustedError, assertLibraryTrusted, type VerifyReport } from '../../src/verify/verify.js';
import { loadAllowlist, parseAllowlist, judgeSymbol, DEFAULT_ALLOWLIST_PATH } from '../../src/verify/allowlist.js';
import { ExitCode, PlrustError } from '../../src/util/errors.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

let dir: string;
const lib = (name: string) => join(dir, name);

/** Functions that each reach the OS through the ordinary host std. */
const RUST_PROBES: Record<string, string> = {
  fs: 'std::fs::File::open("/etc/hostname").is_ok() as i32',
  net: 'std::net::TcpStream::connect("127.0.0.1:9").is_ok() as i32',
  env: 'std::env::var("HOME").is_ok() as i32',
  process: 'std::process::Command::new("true").status().is_ok() as i32',
};

const C_SOURCES: Record<string, string> = {
  'allowed.c':
    '#include <stdlib.h>\n#include <string.h>\n#include <math.h>\n' +
    'double probe(const char *s, size_t n, double x) { char *p = malloc(n); memcpy(p, s, n); free(p); return sqrt(x); }\n',
  'open.c': '#include <fcntl.h>\nint probe(const char *p) { return open(p, O_RDONLY); }\n',
  'copy.c': '#include <string.h>\nvoid probe(char *d, const char *s, size_t n) { memcpy(d, s, n); }\n',
};

function deniedNames(report: VerifyReport): string[] {
  return report.denied.map((s) => s.name);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plrust-verify-test-'));
  for (const [name, body] of Object.entries(RUST_PROBES)) {
    await writeFile(lib(`${name}.rs`), `#[no_mangle] pub extern "C" fn probe() -> i32 { ${body} }\n`);
  }
  for (const [name, text] of Object.entries(C_SOURCES)) await writeFile(lib(name), text);
  // -fno-builtin keeps memcpy/sqrt as real calls instead of inlined instructions.
  const cc = ['-shared', '-fPIC', '-O0', '-fno-builtin'];
  await Promise.all([
    ...Object.keys(RUST_PROBES).map((name) =>
      run('/usr/bin/rustc', [
        '--crate-type',
        'cdylib',
        '-O',
        '-C',
        'strip=symbols',
        lib(`${name}.rs`),
        '-o',
        lib(`lib${name}.so`),
      ]),
    ),
    run('gcc', [...cc, lib('allowed.c'), '-o', lib('liballowed.so'), '-lm']),
    // By path: glibc 2.34+ ships no libdl.so development link, only the runtime stub.
    run('gcc', [
      ...cc,
      lib('copy.c'),
      '-o',
      lib('libneeds-dl.so'),
      '-Wl,--no-as-needed',
      '/lib/x86_64-linux-gnu/libdl.so.2',
    ]),
    run('gcc', [...cc, lib('copy.c'), '-o', lib('librunpath.so'), '-Wl,-rpath,/tmp/elsewhere']),
    run('aarch64-linux-gnu-gcc', [...cc, lib('open.c'), '-o', lib('libopen-aarch64.so')]),
    run('aarch64-linux-gnu-gcc', [...cc, lib('copy.c'), '-o', lib('libcopy-aarch64.so')]),
  ]);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('libraries linked against the ordinary host std are rejected', () => {
  test('File::open imports open64', async () => {
    const report = await verifyLibrary(lib('libfs.so'));
    assert.equal(report.ok, false);
    assert.equal(report.machine, 'x86_64');
    const open64 = report.denied.find((s) => s.name === 'open64');
    assert.deepEqual(open64 && { name: open64.name, version: open64.version }, {
      name: 'open64',
      version: 'GLIBC_2.2.5',
    });
    assert.match(open64!.reason, /opens a file/);
  });

  test('TcpStream::connect imports socket and connect', async () => {
    const names = deniedNames(await verifyLibrary(lib('libnet.so')));
    for (const name of ['socket', 'connect', 'getaddrinfo']) assert.ok(names.includes(name), `${name} denied`);
  });

  test('env::var imports getenv', async () => {
    const names = deniedNames(await verifyLibrary(lib('libenv.so')));
    assert.ok(names.includes('getenv'));
  });

  test('Command imports fork, execvp and posix_spawnp', async () => {
    const names = deniedNames(await verifyLibrary(lib('libprocess.so')));
    for (const name of ['fork', 'execvp', 'posix_spawnp', 'waitpid']) {
      assert.ok(names.includes(name), `${name} denied`);
    }
  });

  test('every host-std library also needs the generic syscall gateway and abort, both denied', async () => {
    for (const name of Object.keys(RUST_PROBES)) {
      const names = deniedNames(await verifyLibrary(lib(`lib${name}.so`)));
      assert.ok(names.includes('syscall'), `${name}: syscall denied`);
      assert.ok(names.includes('abort'), `${name}: abort denied`);
    }
  });

  test('the error names each offending symbol and carries the Untrusted exit code', async () => {
    const report = await verifyLibrary(lib('libnet.so'));
    const error = untrustedError(report);
    assert.equal(error.code, 'UNTRUSTED_SYMBOLS');
    assert.equal(error.exitCode, ExitCode.Untrusted);
    for (const s of report.denied)
      assert.ok(error.message.includes(s.version ? `${s.name}@${s.version}` : s.name), s.name);
    assert.ok(error.message.includes('socket@GLIBC_2.2.5'));
    assert.ok(error.message.includes(lib('libnet.so')));
    await assert.rejects(
      assertLibraryTrusted(lib('libnet.so')),
      (e: unknown) => e instanceof PlrustError && e.code === 'UNTRUSTED_SYMBOLS',
    );
  });
});

describe('libraries that import only allowlisted symbols are accepted', () => {
  test('a C library calling memcpy, malloc, free and sqrt', async () => {
    const report = await verifyLibrary(lib('liballowed.so'));
    assert.deepEqual(report.denied, []);
    assert.deepEqual(report.deniedLibraries, []);
    assert.equal(report.ok, true);
    const names = report.imported.map((s) => s.name);
    for (const name of ['memcpy', 'malloc', 'free', 'sqrt']) assert.ok(names.includes(name), `${name} imported`);
    assert.deepEqual(report.needed, ['libm.so.6', 'libc.so.6']);
    assert.equal((await assertLibraryTrusted(lib('liballowed.so'))).ok, true);
  });

  test('aarch64: memcpy only is accepted, open is rejected', async () => {
    const [copy, open] = await Promise.all([
      verifyLibrary(lib('libcopy-aarch64.so')),
      verifyLibrary(lib('libopen-aarch64.so')),
    ]);
    assert.equal(copy.machine, 'aarch64');
    assert.equal(copy.ok, true);
    assert.ok(copy.imported.some((s) => s.name === 'memcpy' && s.version === 'GLIBC_2.17'));
    assert.equal(open.machine, 'aarch64');
    assert.equal(open.ok, false);
    assert.deepEqual(
      open.denied.map((s) => `${s.name}@${s.version}`),
      ['open@GLIBC_2.17'],
    );
  });
});

describe('what the library asks the loader to load is checked too', () => {
  test('a DT_NEEDED library outside the list is denied', async () => {
    const report = await verifyLibrary(lib('libneeds-dl.so'));
    assert.equal(report.ok, false);
    assert.deepEqual(report.denied, []);
    assert.deepEqual(
      report.deniedLibraries.map((l) => l.name),
      ['libdl.so.2'],
    );
    assert.match(untrustedError(report).message, /libdl\.so\.2/);
  });

  test('a library search path is denied', async () => {
    const report = await verifyLibrary(lib('librunpath.so'));
    assert.equal(report.ok, false);
    assert.equal(report.deniedLibraries.length, 1);
    assert.match(report.deniedLibraries[0]!.name, /^DT_(RUN|R)PATH=\/tmp\/elsewhere$/);
  });
});

describe('the allowlist file', () => {
  test('denies the gateways and OS reach debated in its design', async () => {
    const list = await loadAllowlist();
    for (const name of [
      'syscall',
      'abort',
      'open',
      'open64',
      'read',
      'write',
      'getenv',
      'socket',
      'connect',
      'execve',
      'execvp',
      'fork',
      'posix_spawnp',
      'dlopen',
      'dlsym',
      'dl_iterate_phdr',
      'mmap',
      'mmap64',
      'mprotect',
      'ioctl',
      'kill',
      'signal',
      'poll',
      'exit',
    ]) {
      const verdict = judgeSymbol(list, name);
      assert.equal(verdict.allowed, false, name);
      assert.notEqual(verdict.reason, 'not on the symbol allowlist', `${name} has a specific reason`);
    }
    assert.equal(judgeSymbol(list, 'SPI_execute').allowed, false, 'symbols of the host program are denied by default');
  });

  test('allows the runtime primitives std needs', async () => {
    const list = await loadAllowlist();
    for (const name of [
      'memcpy',
      'malloc',
      'sin',
      'powf',
      '_Unwind_RaiseException',
      '__tls_get_addr',
      '__cxa_thread_atexit_impl',
      'pthread_key_create',
      '__errno_location',
      'clock_gettime',
      'getrandom',
      'getauxval',
    ]) {
      assert.equal(judgeSymbol(list, name).allowed, true, name);
    }
    assert.ok(list.libraries.has('libc.so.6'));
    assert.ok(!list.libraries.has('libdl.so.2'));
  });

  test('every entry has a reason (the schema requires it)', async () => {
    const json = JSON.parse(await readFile(DEFAULT_ALLOWLIST_PATH, 'utf8')) as {
      allow: { symbols: { reason: string }[] }[];
      deny: { symbols: { reason: string }[] }[];
    };
    assert.equal(DEFAULT_ALLOWLIST_PATH, join(ROOT, 'targets', 'symbol-allowlist.json'));
    for (const g of [...json.allow, ...json.deny]) for (const s of g.symbols) assert.ok(s.reason.trim().length > 5);
  });

  test('a symbol listed twice, in both lists, or without a reason is rejected', () => {
    const base = { schema: 1, libraries: [], deny: [] as unknown[] };
    const entry = (name: string, reason = 'a reason') => ({ name, reason });
    const invalid = (doc: unknown, pattern: RegExp) =>
      assert.throws(
        () => parseAllowlist(JSON.stringify(doc), 'test.json'),
        (e: unknown) => e instanceof PlrustError && e.code === 'ALLOWLIST_INVALID' && pattern.test(e.message),
      );
    invalid(
      { ...base, allow: [{ group: 'a', reason: 'r', symbols: [entry('memcpy'), entry('memcpy')] }] },
      /memcpy is listed twice/,
    );
    invalid(
      {
        ...base,
        allow: [{ group: 'a', reason: 'r', symbols: [entry('open')] }],
        deny: [{ group: 'd', reason: 'r', symbols: [entry('open')] }],
      },
      /open is listed twice/,
    );
    invalid({ ...base, allow: [{ group: 'a', reason: 'r', symbols: [entry('memcpy', ' ')] }] }, /reason/);
    invalid({ ...base, allow: [{ group: 'a', reason: 'r', symbols: [{ name: 'memcpy' }] }] }, /reason/);
    invalid('not json', /invalid/);
  });
});

describe('plrust verify', () => {
  /** Runs the built `bin/plrust` in a real process, as a user would. */
  async function cli(args: string[]): Promise<{ code: number; stdout: string }> {
    const r = await runPlrust(args);
    return { code: r.code ?? -1, stdout: r.stdout };
  }

  test('--json prints exactly one document and exits 4 when a library is untrusted', async () => {
    const { code, stdout } = await cli(['verify', lib('liballowed.so'), lib('libfs.so'), '--json']);
    assert.equal(code, ExitCode.Untrusted);
    const doc = JSON.parse(stdout) as { ok: boolean; libraries: VerifyReport[] };
    assert.equal(doc.ok, false);
    assert.deepEqual(
      doc.libraries.map((r) => r.ok),
      [true, false],
    );
    assert.ok(doc.libraries[1]!.denied.some((s) => s.name === 'open64'));
  });

  test('the global --json before the command works the same', async () => {
    const { code, stdout } = await cli(['--json', 'verify', lib('liballowed.so')]);
    assert.equal(code, 0);
    assert.equal((JSON.parse(stdout) as { ok: boolean }).ok, true);
  });

  test('human output lists the denied symbols', async () => {
    const { code, stdout } = await cli(['verify', lib('libnet.so')]);
    assert.equal(code, ExitCode.Untrusted);
    assert.match(stdout, /^untrusted: .*libnet\.so \(x86_64\)$/m);
    assert.match(stdout, /^ {2}socket@GLIBC_2\.2\.5: creates a network socket/m);
    assert.match(stdout, /^ {2}connect@GLIBC_2\.2\.5: /m);
  });

  test('a file that is not ELF is reported with its code and exit 1', async () => {
    const { code, stdout } = await cli(['verify', lib('copy.c'), '--json']);
    assert.equal(code, ExitCode.Failed);
    const doc = JSON.parse(stdout) as { libraries: { error: { code: string } }[] };
    assert.equal(doc.libraries[0]!.error.code, 'NOT_ELF');
  });
});
