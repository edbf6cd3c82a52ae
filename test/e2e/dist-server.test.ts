/**
 * `plrust toolchain install <version> --download`: a compiler fetched the
 * way rustup fetches one, from a local dist server (test/helpers/
 * http-server.ts) serving archives repacked from the machine's rustup
 * stable (test/helpers/dist-fixture.ts), with the server's faults: a
 * manifest or package whose sha256 does not match, a server that answers
 * 5xx, a connection cut mid-file that the next attempt resumes. Every
 * failure leaves PLRUST_HOME without a compiler or toolchain and without
 * leftovers; the successful install builds the sysroot with the fetched
 * compiler and records where it came from.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseJson, runPlrust, tempDir, type RunResult } from '../helpers/cli.js';
import { testCacheDir } from '../helpers/toolchain.js';
import { startFileServer, type FileServer } from '../helpers/http-server.js';
import { buildDistFixture, type DistFixture } from '../helpers/dist-fixture.js';
import { stdSourceOf } from '../helpers/rust-sources.js';
import { HOST_TRIPLE, machineRustupStable } from '../helpers/rustup-fixture.js';

interface ErrorDoc {
  ok: false;
  error: { code: string; message: string; hint?: string };
}

const stable = machineRustupStable();
let fixture: DistFixture;
let server: FileServer;
let home: string;
let version: string;

function manifestPath(v: string, prefix = ''): string {
  return `${prefix}/dist/channel-rust-${v}.toml`;
}

function serveRelease(prefix: string, manifest: string): void {
  server.serve(manifestPath(version, prefix), Buffer.from(manifest));
  for (const [p, file] of fixture.files) server.serve(`${prefix}${p}`, file);
}

function fetchCompiler(extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return runPlrust(['toolchain', 'install', version, '--download', '--target', 'x86_64', '--json', ...extra], {
    home,
    env: { PLRUST_DIST_SERVER: server.origin, PLRUST_DOWNLOAD_RETRIES: '2', ...env },
    timeoutMs: 15 * 60_000,
  });
}

/** Nothing installed and nothing left over by a failed run. */
function assertNothingInstalled(): void {
  const compilers = path.join(home, 'compilers');
  const entries = fs.existsSync(compilers) ? fs.readdirSync(compilers).filter((n) => n !== '.store') : [];
  assert.deepEqual(entries, [], 'no compiler is published');
  const store = path.join(compilers, '.store');
  assert.deepEqual(fs.existsSync(store) ? fs.readdirSync(store) : [], [], 'no half-published compiler');
  const tc = path.join(home, 'toolchains');
  assert.deepEqual(fs.existsSync(tc) ? fs.readdirSync(tc).filter((n) => n.startsWith('rust-')) : [], []);
  const tmp = path.join(home, 'tmp');
  assert.deepEqual(fs.existsSync(tmp) ? fs.readdirSync(tmp) : [], [], 'no work directory is left behind');
}

before(async () => {
  assert.ok(stable, "the machine's rustup stable is the compiler the dist fixture is made from");
  version = stable.version;
  fixture = await buildDistFixture({
    toolchain: stable.dir,
    host: HOST_TRIPLE,
    version,
    rustSrc: stdSourceOf(version),
    out: path.join(testCacheDir(), `dist-${version}`),
  });
  server = await startFileServer();
  serveRelease('', fixture.manifest);
  home = tempDir('dist-home');
});

after(async () => {
  await server?.close();
});

describe('fetching a compiler from a dist server', () => {
  test('--download needs a version, and conflicts with --rustc', async () => {
    const a = await runPlrust(['toolchain', 'install', '--download'], { home });
    assert.equal(a.code, 2);
    assert.match(a.stderr, /--download needs the Rust version/);
    const b = await runPlrust(['toolchain', 'install', '1.95.0', '--download', '--rustc', '/usr/bin/rustc'], {
      home,
    });
    assert.equal(b.code, 2);
    assert.match(b.stderr, /leave out --rustc/);
    const c = await runPlrust(['toolchain', 'install', 'stable', '--download'], { home });
    assert.equal(c.code, 2);
    assert.match(c.stderr, /'stable' is not a Rust release version/);
  });

  test('a channel manifest whose published sha256 does not match is refused', async () => {
    server.wrongChecksum(manifestPath(version));
    try {
      const r = await fetchCompiler();
      assert.equal(r.code, 1, r.stdout);
      const err = parseJson<ErrorDoc>(r).error;
      assert.equal(err.code, 'CHECKSUM_MISMATCH');
      assert.match(err.message, new RegExp(`channel-rust-${version.replace(/\./g, '\\.')}\\.toml`));
      assert.equal(server.requestsFor(fixture.paths.rustc).length, 0, 'no package is fetched on a bad manifest');
      assertNothingInstalled();
    } finally {
      server.clearFaults();
    }
  });

  test("a package whose sha256 differs from the manifest's is refused", async () => {
    // A mirror whose manifest names another digest for rustc than the archive it serves.
    const bad = fixture.manifest.replace(
      new RegExp(`(\\[pkg\\.rustc\\.target\\.${HOST_TRIPLE}\\][^[]*?\\nhash = ")[0-9a-f]{64}`),
      `$1${'0'.repeat(64)}`,
    );
    assert.notEqual(bad, fixture.manifest);
    serveRelease('/tampered', bad);
    const r = await fetchCompiler([], { PLRUST_DIST_SERVER: `${server.origin}/tampered` });
    assert.equal(r.code, 1, r.stdout);
    const err = parseJson<ErrorDoc>(r).error;
    assert.equal(err.code, 'CHECKSUM_MISMATCH');
    assert.match(err.message, /\/tampered\/dist\/.*rustc-.*\.tar\.gz/);
    assert.match(err.message, /expected 0{64}/);
    assert.ok(!fs.existsSync(path.join(home, 'downloads', '0'.repeat(64))), 'the wrong file is not cached');
    assertNothingInstalled();
  });

  test('a server that keeps answering 503 is given up on, naming the file', async () => {
    server.failFirst(fixture.paths['rust-std'], 100, 503);
    try {
      // Two attempts, one retry: rustc and cargo arrive, rust-std never does.
      const r = await fetchCompiler([], { PLRUST_DOWNLOAD_RETRIES: '1' });
      assert.equal(r.code, 1, r.stdout);
      const err = parseJson<ErrorDoc>(r).error;
      assert.equal(err.code, 'HTTP_STATUS');
      assert.match(err.message, /rust-std-.*\.tar\.gz answered HTTP 503 .*\(2 attempts\)/);
      assertNothingInstalled();
    } finally {
      server.clearFaults();
    }
  });

  test('through a 503 and a cut connection (resumed), the compiler is fetched and a toolchain built with it', async () => {
    // rustc and cargo were verified and cached by the run that failed on rust-std: they are not fetched again.
    server.failFirst(fixture.paths['rust-std'], 1, 503);
    server.truncateAfter(fixture.paths['rust-src'], 1 << 20, { times: 1 });
    const before = server.requests.length;
    const r = await fetchCompiler();
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const doc = parseJson<{
      status: string;
      id: string;
      compiler: { path: string; version: string; origin: { kind: string } };
      ruleSet: string;
      source: { kind: string };
    }>(r);
    const dir = path.join(home, 'compilers', `rust-${version}-${HOST_TRIPLE}`);
    assert.equal(doc.status, 'installed');
    assert.equal(doc.compiler.version, version);
    assert.equal(doc.compiler.path, path.join(dir, 'bin', 'rustc'));
    assert.equal(doc.compiler.origin.kind, 'downloaded');
    assert.equal(doc.source.kind, 'rustup-component', "the fetched rust-src is the compiler's own");
    assert.match(doc.ruleSet, /^postgrestd\.json /);

    const mine = server.requests.slice(before);
    assert.deepEqual(
      mine.filter((q) => q.path === fixture.paths.rustc || q.path === fixture.paths.cargo),
      [],
      'archives verified by an earlier, failed run come from the download cache',
    );
    const std = mine.filter((q) => q.path === fixture.paths['rust-std']).map((q) => q.status);
    assert.deepEqual(std, [503, 200], 'the 503 was retried');
    const srcRequests = mine.filter((q) => q.path === fixture.paths['rust-src']);
    assert.ok(
      // The client may have lost the last chunk in flight when the connection was cut, so the
      // resume point is at most where the server stopped, never zero.
      srcRequests.some((q) => {
        const from = /^bytes=(\d+)-$/.exec(q.range ?? '')?.[1];
        return q.status === 206 && from !== undefined && Number(from) > 0 && Number(from) <= 1 << 20;
      }),
      `the cut rust-src download resumed from where it stopped: ${JSON.stringify(srcRequests)}`,
    );

    const marker = JSON.parse(fs.readFileSync(path.join(dir, 'plrust-compiler.json'), 'utf8')) as {
      manifest: { sha256: string };
      packages: { pkg: string; sha256: string }[];
    };
    assert.deepEqual(
      marker.packages.map((p) => p.pkg),
      ['rustc', 'cargo', 'rust-std', 'rust-src'],
    );
    assert.ok(fs.existsSync(path.join(dir, 'lib', 'rustlib', 'src', 'rust', 'library', 'std', 'Cargo.toml')));
    assert.deepEqual(fs.readdirSync(path.join(home, 'tmp')), [], 'no work directory is left behind');

    const list = await runPlrust(['toolchain', 'list'], { home });
    assert.match(
      list.stdout,
      new RegExp(`${doc.id} \\(default\\)\\s+x86_64\\s+origin: downloaded\\s+rules: postgrestd`),
    );

    // The toolchain compiles functions.
    const src = path.join(tempDir('dist-fn'), 'f.rs');
    fs.writeFileSync(src, 'pub fn twice(x: i32) -> Option<i32> { x.checked_mul(2) }\n');
    const build = await runPlrust(
      ['build', src, '--target', 'x86_64', '--out-dir', path.join(path.dirname(src), 'out')],
      {
        home,
      },
    );
    assert.equal(build.code, 0, `${build.stdout}\n${build.stderr}`);
    assert.ok(fs.existsSync(path.join(path.dirname(src), 'out', 'twice', 'x86_64-postgres-linux-gnu.so')));
  });

  test('fetching the same version again downloads nothing', async () => {
    const before = server.requests.length;
    const r = await fetchCompiler();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(parseJson<{ status: string }>(r).status, 'unchanged');
    assert.deepEqual(server.requests.slice(before), [], 'the installed compiler is reused without asking the server');
  });
});
