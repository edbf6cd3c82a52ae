/**
 * `plrust toolchain install` end to end: real rustc, real cargo, the Debian
 * std source, real downloads from a local HTTP server, real process kills.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { create as tarCreate } from 'tar';
import { PLRUST_BIN, cleanEnv, parseJson, runPlrust, tempDir } from '../helpers/cli.js';
import { DEBIAN_LIBRARY, DEBIAN_RUSTC, sharedToolchain } from '../helpers/toolchain.js';
import { startFileServer, type FileServer } from '../helpers/http-server.js';
import { rawTarGz } from '../helpers/tar.js';
import { PROBE_SOURCE } from '../../src/toolchain/probe.js';

const X86 = ['--rustc', DEBIAN_RUSTC, '--target', 'x86_64'];

interface ErrorDoc {
  ok: false;
  error: { code: string; message: string; hint?: string };
}

function toolchainEntries(home: string): string[] {
  const dir = path.join(home, 'toolchains');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.startsWith('rust-')) : [];
}

function tmpEntries(home: string): string[] {
  const dir = path.join(home, 'tmp');
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

/** Builds the probe cdylib against a sysroot and calls it through a tiny C host (qemu for aarch64). */
function runProbe(work: string, t: { arch: string; spec: string; sysroot: string }): string {
  const src = path.join(work, `probe-${t.arch}.rs`);
  const lib = path.join(work, `libprobe-${t.arch}.so`);
  fs.writeFileSync(src, PROBE_SOURCE);
  const rc = spawnSync(
    DEBIAN_RUSTC,
    ['-Zunstable-options', '--sysroot', t.sysroot, '--target', t.spec, '--crate-type', 'cdylib', '-O', '-o', lib, src],
    {
      env: { ...process.env, RUSTC_BOOTSTRAP: '1' },
      encoding: 'utf8',
    },
  );
  assert.equal(rc.status, 0, rc.stderr);
  const host = path.join(work, `probe-host-${t.arch}`);
  const hostSrc = path.join(work, 'probe-host.c');
  fs.writeFileSync(
    hostSrc,
    `#include <dlfcn.h>
#include <stdio.h>
#include <stdint.h>
#include <stddef.h>
void plrust_host_fatal(const uint8_t *m, size_t n) { fprintf(stderr, "fatal: %.*s\\n", (int) n, (const char *) m); _Exit(70); }
int main(int argc, char **argv) {
  void *h = dlopen(argv[1], RTLD_NOW);
  if (!h) { fprintf(stderr, "%s\\n", dlerror()); return 2; }
  uint64_t (*probe)(uint32_t) = (uint64_t (*)(uint32_t)) dlsym(h, "plrust_probe");
  if (!probe) return 3;
  printf("%llu\\n", (unsigned long long) probe(100));
  return 0;
}
`,
  );
  const cc = t.arch === 'x86_64' ? 'gcc' : 'aarch64-linux-gnu-gcc';
  const cr = spawnSync(cc, ['-rdynamic', '-o', host, hostSrc, '-ldl'], { encoding: 'utf8' });
  assert.equal(cr.status, 0, cr.stderr);
  const run =
    t.arch === 'x86_64'
      ? spawnSync(host, [lib], { encoding: 'utf8' })
      : spawnSync('qemu-aarch64', ['-L', '/usr/aarch64-linux-gnu', host, lib], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout.trim();
}

describe('toolchain install from the Debian std source (both targets)', () => {
  test('installs, lists, shows the generated specs, and the probe library runs on both architectures', async () => {
    const tc = await sharedToolchain();
    assert.match(tc.id, /^rust-1\.96\.0-[0-9a-f]{8}$/);
    assert.deepEqual(tc.targets.map((t) => t.arch).sort(), ['aarch64', 'x86_64']);
    const manifest = JSON.parse(fs.readFileSync(path.join(tc.dir, 'manifest.json'), 'utf8')) as {
      rustc: { version: string; path: string };
      files: { path: string; sha256: string; size: number }[];
      rules: { std: string[]; sourcePrep: string[] };
    };
    assert.equal(manifest.rustc.version, '1.96.0');
    assert.ok(manifest.rules.std.length > 0, 'std restriction rules were applied');
    assert.ok(manifest.rules.sourcePrep.includes('offline-std-dev-dependencies'));
    for (const f of manifest.files.filter((x) => x.path.endsWith('.json')))
      assert.equal(fs.statSync(path.join(tc.dir, f.path)).size, f.size);
    for (const t of tc.targets) {
      const spec = JSON.parse(fs.readFileSync(t.spec, 'utf8')) as Record<string, unknown>;
      assert.equal(spec.vendor, 'postgres', 'generated spec carries the postgres vendor');
      assert.equal(spec.arch, t.arch);
      assert.ok(
        typeof spec['data-layout'] === 'string' && (spec['data-layout'] as string).length > 10,
        'data layout comes from rustc',
      );
      assert.ok(
        fs
          .readdirSync(path.join(t.sysroot, 'lib', 'rustlib', t.triple, 'lib'))
          .some((f) => /^libstd-.*\.rlib$|^libstd\.rlib$/.test(f)),
      );
      assert.ok(fs.existsSync(t.runtime), 'runtime crate built for the target');
    }
    const list = parseJson<{ toolchains: { id: string; default: boolean; targets: string[] }[] }>(
      await runPlrust(['toolchain', 'list', '--json'], { home: tc.home }),
    );
    assert.deepEqual(
      list.toolchains.map((t) => [t.id, t.default]),
      [[tc.id, true]],
    );
    const human = await runPlrust(['toolchain', 'show'], { home: tc.home });
    assert.match(human.stdout, /target spec: .*x86_64-postgres-linux-gnu\.json/);
    assert.match(human.stdout, /target spec: .*aarch64-postgres-linux-gnu\.json/);
    const work = tempDir('probe');
    // sum(0..100) = 4950, computed in Rust through the restricted std, formatted and parsed back.
    for (const t of tc.targets) assert.equal(runProbe(work, t), '4950', `${t.arch} probe result`);
  });

  test('installing an installed toolchain is a no-op', async () => {
    const tc = await sharedToolchain();
    const before = fs.readlinkSync(path.join(tc.home, 'toolchains', tc.id));
    const r = await runPlrust(['toolchain', 'install', '--rustc', DEBIAN_RUSTC, '--target', 'all', '--json'], {
      home: tc.home,
    });
    assert.equal(r.code, 0, r.stderr);
    const doc = parseJson<{ status: string; built: string[] }>(r);
    assert.equal(doc.status, 'unchanged');
    assert.deepEqual(doc.built, []);
    assert.equal(
      fs.readlinkSync(path.join(tc.home, 'toolchains', tc.id)),
      before,
      'the installed tree was not replaced',
    );
  });

  test('a toolchain whose runtime crate predates this plrust gets only its runtime rebuilt', async () => {
    const tc = await sharedToolchain();
    const home = tempDir('rt-refresh');
    fs.cpSync(tc.home, home, { recursive: true, verbatimSymlinks: true });
    const dir = path.join(home, 'toolchains', tc.id);
    const manifestFile = path.join(dir, 'manifest.json');
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as {
      targets: { arch: string; runtimeHash?: string }[];
      files: { path: string; sha256: string }[];
    };
    // As an older plrust left it: a runtime built from other sources.
    for (const t of manifest.targets) t.runtimeHash = 'from-an-older-plrust';
    fs.writeFileSync(manifestFile, JSON.stringify(manifest));
    const stdBefore = manifest.files.filter((f) => f.path.startsWith('sysroot/'));

    const r = await runPlrust(['toolchain', 'install', '--rustc', DEBIAN_RUSTC, '--target', 'all', '--json'], { home });
    assert.equal(r.code, 0, r.stderr);
    const doc = parseJson<{ status: string; built: string[]; runtimeRebuilt: string[] }>(r);
    assert.equal(doc.status, 'updated');
    assert.deepEqual(doc.built, [], 'std was not rebuilt');
    assert.deepEqual([...doc.runtimeRebuilt].sort(), ['aarch64', 'x86_64']);
    const after = JSON.parse(
      fs.readFileSync(path.join(home, 'toolchains', tc.id, 'manifest.json'), 'utf8'),
    ) as typeof manifest;
    assert.ok(
      after.targets.every(
        (t) => t.runtimeHash !== 'from-an-older-plrust' && /^[0-9a-f]{16}$/.test(t.runtimeHash ?? ''),
      ),
    );
    assert.deepEqual(
      after.files.filter((f) => f.path.startsWith('sysroot/')),
      stdBefore,
      'the std rlibs are carried over byte for byte',
    );

    const again = await runPlrust(['toolchain', 'install', '--rustc', DEBIAN_RUSTC, '--target', 'all', '--json'], {
      home,
    });
    assert.equal(parseJson<{ status: string }>(again).status, 'unchanged');
  });
});

describe('toolchain install from an archive on an HTTP server', () => {
  let server: FileServer;
  let archive: string;
  const urlPath = '/dist/rust-src-1.96.0.tar.gz';

  before(async () => {
    // The layout of an official rust-src archive: a top directory with a version file.
    const stage = tempDir('archive');
    const top = path.join(stage, 'rust-src-1.96.0');
    fs.mkdirSync(path.join(top, 'rust-src', 'lib', 'rustlib', 'src', 'rust'), { recursive: true });
    fs.writeFileSync(path.join(top, 'version'), '1.96.0 (ac68faa20 2026-05-25)\n');
    fs.symlinkSync(DEBIAN_LIBRARY, path.join(top, 'rust-src', 'lib', 'rustlib', 'src', 'rust', 'library'));
    archive = path.join(stage, 'rust-src-1.96.0.tar.gz');
    await tarCreate({ gzip: true, file: archive, cwd: stage, follow: true, portable: true }, ['rust-src-1.96.0']);
    server = await startFileServer();
    server.serve(urlPath, archive);
  });
  after(async () => server.close());

  test('a checksum mismatch is refused and nothing is installed', async () => {
    const home = tempDir('sha');
    server.wrongChecksum(urlPath, true);
    const r = await runPlrust(['toolchain', 'install', ...X86, '--rust-src', server.url(urlPath), '--json'], { home });
    server.clearFaults(urlPath);
    assert.equal(r.code, 1);
    assert.equal(parseJson<ErrorDoc>(r).error.code, 'CHECKSUM_MISMATCH');
    assert.deepEqual(toolchainEntries(home), []);
    assert.deepEqual(tmpEntries(home), [], 'no temp directory left behind');
  });

  test('a stalled server hits the timeout with a clear error', async () => {
    const home = tempDir('stall');
    server.stall(urlPath, 'forever');
    const r = await runPlrust(['toolchain', 'install', ...X86, '--rust-src', server.url(urlPath)], {
      home,
      env: { PLRUST_DOWNLOAD_TIMEOUT_MS: '800', PLRUST_DOWNLOAD_RETRIES: '0' },
    });
    server.clearFaults(urlPath);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /timed out|timeout/i);
    assert.match(r.stderr, new RegExp(urlPath.replace(/[.]/g, '\\.')));
    assert.deepEqual(toolchainEntries(home), []);
  });

  test('5xx, then a cut connection, then a resumed download: the install succeeds', async () => {
    const home = tempDir('resume');
    server.failFirst(urlPath, 2, 503);
    server.truncateAfter(urlPath, 1_000_000, { times: 1 });
    const startedAt = server.requests.length;
    const r = await runPlrust(['toolchain', 'install', ...X86, '--rust-src', server.url(urlPath), '--json'], {
      home,
      env: { PLRUST_DOWNLOAD_RETRIES: '5' },
      timeoutMs: 20 * 60_000,
    });
    server.clearFaults(urlPath);
    assert.equal(r.code, 0, r.stderr);
    const doc = parseJson<{ id: string; status: string; source: { kind: string } }>(r);
    assert.equal(doc.status, 'installed');
    assert.equal(doc.source.kind, 'flag-url');
    const gets = server.requests.slice(startedAt).filter((q) => q.path === urlPath && q.method === 'GET');
    assert.ok(
      gets.some((q) => q.status === 503),
      'the server failed first',
    );
    // The cut comes after 1,000,000 bytes were sent; what reached the partial file is at most that.
    const resumedAt = gets
      .filter((q) => q.status === 206)
      .map((q) => Number(q.range?.match(/^bytes=(\d+)-$/)?.[1] ?? 0));
    assert.ok(
      resumedAt.some((n) => n > 0 && n <= 1_000_000),
      `the retry resumed with Range (${JSON.stringify(gets)})`,
    );
    const m = JSON.parse(fs.readFileSync(path.join(home, 'toolchains', doc.id, 'manifest.json'), 'utf8')) as {
      source: { sha256: string };
    };
    const sha = spawnSync('sha256sum', [archive], { encoding: 'utf8' }).stdout.split(' ')[0];
    assert.equal(m.source.sha256, sha, 'the manifest records the archive checksum');
    assert.ok(fs.existsSync(path.join(home, 'downloads', sha!)), 'the archive is cached by its sha256');
  });
});

describe('toolchain install refuses bad input, leaving nothing behind', () => {
  test('a nonexistent --rustc', async () => {
    const home = tempDir('norustc');
    const r = await runPlrust(['toolchain', 'install', '--rustc', '/nonexistent/rustc', '--json'], { home });
    assert.equal(r.code, 2);
    const e = parseJson<ErrorDoc>(r).error;
    assert.equal(e.code, 'RUSTC_NOT_FOUND');
    assert.match(e.message, /\/nonexistent\/rustc/);
    assert.deepEqual(toolchainEntries(home), []);
  });

  test('a std source of another version names both versions', async () => {
    const home = tempDir('othersrc');
    const fake = tempDir('rustc-src');
    fs.mkdirSync(path.join(fake, 'rustc-1.95.0'));
    fs.symlinkSync(DEBIAN_LIBRARY, path.join(fake, 'rustc-1.95.0', 'library'));
    const r = await runPlrust(
      ['toolchain', 'install', ...X86, '--rust-src', path.join(fake, 'rustc-1.95.0', 'library'), '--json'],
      { home },
    );
    assert.equal(r.code, 2);
    const e = parseJson<ErrorDoc>(r).error;
    assert.equal(e.code, 'RUST_SRC_VERSION_MISMATCH');
    assert.match(e.message, /1\.95\.0/);
    assert.match(e.message, /1\.96\.0/);
    assert.deepEqual(toolchainEntries(home), []);
    assert.deepEqual(tmpEntries(home), []);
  });

  test('a std source whose code moved under a rule fails the install, naming the rule; no unrestricted std is built', async () => {
    const home = tempDir('brokenrule');
    const copy = path.join(tempDir('brokensrc'), 'rustc-1.96.0', 'library');
    fs.cpSync(DEBIAN_LIBRARY, copy, { recursive: true });
    const file = path.join(copy, 'std', 'src', 'sys', 'net', 'connection', 'mod.rs');
    const text = fs.readFileSync(file, 'utf8');
    assert.ok(text.includes('not(target_os = "l4re")'));
    fs.writeFileSync(file, text.replace('not(target_os = "l4re")', 'not(target_os = "l4re-moved")'));
    const r = await runPlrust(['toolchain', 'install', ...X86, '--rust-src', copy, '--json'], { home });
    assert.equal(r.code, 1);
    const e = parseJson<ErrorDoc>(r).error;
    assert.equal(e.code, 'STD_RULE_MISMATCH');
    assert.match(e.message, /'net-unsupported'/);
    assert.match(e.message, /std\/src\/sys\/net\/connection\/mod\.rs/);
    assert.deepEqual(toolchainEntries(home), []);
    assert.deepEqual(tmpEntries(home), []);
  });

  test('a corrupt archive', async () => {
    const home = tempDir('corrupt');
    const dir = tempDir('corrupt-archive');
    const file = path.join(dir, 'rust-src-1.96.0.tar.gz');
    fs.writeFileSync(
      file,
      Buffer.concat([
        rawTarGz([{ path: 'rust-src-1.96.0/version', body: '1.96.0\n' }]).subarray(0, 40),
        Buffer.from('garbage'),
      ]),
    );
    const r = await runPlrust(['toolchain', 'install', ...X86, '--rust-src', file, '--json'], { home });
    assert.equal(r.code, 1);
    assert.equal(parseJson<ErrorDoc>(r).error.code, 'CORRUPT_ARCHIVE');
    assert.deepEqual(toolchainEntries(home), []);
    assert.deepEqual(tmpEntries(home), []);
  });

  test('an archive with ../ entries', async () => {
    const home = tempDir('dotdot');
    const dir = tempDir('dotdot-archive');
    const file = path.join(dir, 'rust-src-1.96.0.tar.gz');
    fs.writeFileSync(
      file,
      rawTarGz([
        { path: 'rust-src-1.96.0/version', body: '1.96.0\n' },
        { path: 'rust-src-1.96.0/../../escaped', body: 'x' },
      ]),
    );
    const r = await runPlrust(['toolchain', 'install', ...X86, '--rust-src', file, '--json'], { home });
    assert.equal(r.code, 1);
    const e = parseJson<ErrorDoc>(r).error;
    assert.equal(e.code, 'UNSAFE_ARCHIVE');
    assert.match(e.message, /\.\.\/\.\.\/escaped/);
    assert.equal(fs.existsSync(path.join(dir, '..', 'escaped')), false);
    assert.deepEqual(toolchainEntries(home), []);
  });

  test('a read-only PLRUST_HOME', async () => {
    // Root ignores file modes; an immutable directory is read-only even for root.
    const home = tempDir('readonly');
    const im = spawnSync('chattr', ['+i', home], { encoding: 'utf8' });
    assert.equal(im.status, 0, im.stderr);
    try {
      const r = await runPlrust(['toolchain', 'install', ...X86, '--json'], { home });
      assert.equal(r.code, 1, r.stderr);
      const e = parseJson<ErrorDoc>(r).error;
      assert.equal(e.code, 'HOME_NOT_WRITABLE');
      assert.match(e.message, new RegExp(home));
      assert.match(e.hint ?? '', /--home|PLRUST_HOME/);
      assert.deepEqual(fs.readdirSync(home), []);
    } finally {
      spawnSync('chattr', ['-i', home]);
    }
  });
});

describe('toolchain install under concurrency and kills', () => {
  test('SIGKILL mid-build leaves no toolchain; two concurrent reruns: one builds, one waits, both succeed; --no-wait fails fast', async () => {
    const home = tempDir('kill');
    const env = cleanEnv({ PLRUST_HOME: home });
    const victim = spawn(process.execPath, [PLRUST_BIN, 'toolchain', 'install', ...X86], {
      env,
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      victim.stderr.on('data', (d) => {
        stderr += d;
        if (/building std/.test(stderr)) resolve();
      });
      victim.on('exit', () => reject(new Error(`install ended before the build started:\n${stderr}`)));
    });
    // Let cargo get going, then kill the whole process group (node and cargo with its rustc children).
    await new Promise((r) => setTimeout(r, 3000));
    process.kill(-victim.pid!, 'SIGKILL');
    await new Promise((r) => victim.on('exit', r));
    assert.deepEqual(toolchainEntries(home), [], 'no half toolchain after SIGKILL');
    assert.ok(tmpEntries(home).length > 0, 'the killed run left its temp dirs (cleaned by the next run)');

    const first = runPlrust(['toolchain', 'install', ...X86], { home, timeoutMs: 20 * 60_000 });
    await new Promise((r) => setTimeout(r, 1500));
    const second = runPlrust(['toolchain', 'install', ...X86], { home, timeoutMs: 20 * 60_000 });
    await new Promise((r) => setTimeout(r, 1500));
    const noWait = await runPlrust(['toolchain', 'install', ...X86, '--no-wait', '--json'], { home });
    assert.equal(noWait.code, 3, noWait.stderr);
    assert.equal(parseJson<ErrorDoc>(noWait).error.code, 'LOCKED');
    const [a, b] = await Promise.all([first, second]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const outcomes = [a.stdout, b.stdout]
      .map((o) => (/^installed toolchain/m.test(o) ? 'installed' : /is already installed/.test(o) ? 'unchanged' : o))
      .sort();
    assert.deepEqual(outcomes, ['installed', 'unchanged']);
    assert.match(a.stderr + b.stderr, /waiting for another plrust process/);
    assert.equal(toolchainEntries(home).length, 1);
    assert.deepEqual(
      tmpEntries(home).filter((n) => !n.startsWith('.')),
      [],
      'stale temp dirs of the killed run were cleaned',
    );
  });
});
