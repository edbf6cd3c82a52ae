import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  download,
  parseContentRange,
  parseSha256File,
  type DownloadProgress,
  type DownloadRequest,
} from '../../src/util/download.js';
import { PlrustError } from '../../src/util/errors.js';
import { bypassesProxy, proxyForUrl } from '../../src/util/proxy.js';
import { startFileServer, type FileServer } from '../helpers/http-server.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Fast settings so failure paths take milliseconds; no proxy from the runner's environment. */
const FAST = { retries: 2, retryDelayMs: 5, timeoutMs: 2000, env: {} } satisfies Partial<DownloadRequest>;

async function rejectsWith(p: Promise<unknown>, code: string): Promise<PlrustError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof PlrustError, `expected a PlrustError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected ${code}, but the download succeeded`);
}

describe('download', () => {
  const data = randomBytes(300_000);
  const digest = sha(data);
  let server: FileServer;
  let home: string;
  const path = '/dist/rust-src-1.96.0.tar.gz';

  before(async () => {
    server = await startFileServer();
  });
  after(async () => {
    await server.close();
  });
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'plrust-download-'));
    server.serve(path, data);
    server.clearFaults();
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  const fileGets = (): string[] =>
    server
      .requestsFor(path)
      .filter((r) => r.method === 'GET')
      .map((r) => `${r.status} ${r.range ?? '-'}`);
  let seen = 0;
  /** GET requests for the archive since the last call. */
  const newGets = (): string[] => {
    const all = fileGets();
    const fresh = all.slice(seen);
    seen = all.length;
    return fresh;
  };
  beforeEach(() => {
    seen = fileGets().length;
  });

  async function seedPartial(bytes: Buffer): Promise<void> {
    await mkdir(join(home, 'downloads', 'partial'), { recursive: true });
    await writeFile(join(home, 'downloads', 'partial', `${digest}.part`), bytes);
  }

  test('a clean download lands in downloads/<sha256>, verified against <url>.sha256, with progress', async () => {
    const progress: DownloadProgress[] = [];
    const r = await download({ ...FAST, url: server.url(path), home, onProgress: (p) => progress.push(p) });
    assert.equal(r.sha256, digest);
    assert.equal(r.path, join(home, 'downloads', digest));
    assert.equal(r.source, 'network');
    assert.equal(r.size, data.length);
    assert.ok((await readFile(r.path)).equals(data));
    assert.deepEqual(await readdir(join(home, 'downloads', 'partial')), []);
    assert.ok(server.requestsFor(`${path}.sha256`).length >= 1);
    const last = progress.at(-1)!;
    assert.equal(last.transferred, data.length);
    assert.equal(last.total, data.length);
    assert.equal(last.etaSeconds, 0);
    assert.deepEqual(newGets(), ['200 -']);
  });

  test('a cached file is reused without fetching it again', async () => {
    await download({ ...FAST, url: server.url(path), home });
    newGets();
    const before = server.requests.length;
    const again = await download({ ...FAST, url: server.url(path), home });
    assert.equal(again.source, 'cache');
    assert.deepEqual(newGets(), []);
    const known = await download({ ...FAST, url: server.url(path), home, sha256: digest.toUpperCase() });
    assert.equal(known.source, 'cache');
    assert.equal(server.requests.length, before + 1, 'only the .sha256 of the second call, nothing for the third');
  });

  test('a corrupted cache entry is deleted and downloaded again', async () => {
    await mkdir(join(home, 'downloads'), { recursive: true });
    await writeFile(join(home, 'downloads', digest), 'not the archive');
    const r = await download({ ...FAST, url: server.url(path), home });
    assert.equal(r.source, 'network');
    assert.ok((await readFile(r.path)).equals(data));
    assert.deepEqual(newGets(), ['200 -']);
  });

  test('a truncated transfer is resumed with Range and completes correctly', async () => {
    server.truncateAfter(path, 100_000, { times: 1 });
    const r = await download({ ...FAST, url: server.url(path), home });
    assert.ok((await readFile(r.path)).equals(data));
    assert.deepEqual(newGets(), ['200 -', '206 bytes=100000-']);
    assert.equal(r.resumedFrom, 100_000);
  });

  test('a connection that keeps dropping still finishes, as long as each attempt adds bytes', async () => {
    server.truncateAfter(path, 40_000);
    const r = await download({ ...FAST, retries: 1, url: server.url(path), home });
    assert.ok((await readFile(r.path)).equals(data));
    assert.equal(newGets().length, Math.ceil(data.length / 40_000));
  });

  test('a partial file left by an earlier run is resumed', async () => {
    await seedPartial(data.subarray(0, 123_456));
    const r = await download({ ...FAST, url: server.url(path), home, sha256: digest });
    assert.ok((await readFile(r.path)).equals(data));
    assert.equal(r.resumedFrom, 123_456);
    assert.deepEqual(newGets(), ['206 bytes=123456-']);
  });

  test('a server that ignores Range (200) makes the download restart from zero', async () => {
    await seedPartial(data.subarray(0, 50_000));
    server.ignoreRange(path);
    const r = await download({ ...FAST, url: server.url(path), home, sha256: digest });
    assert.ok((await readFile(r.path)).equals(data));
    assert.equal(r.resumedFrom, 0);
    assert.deepEqual(newGets(), ['200 bytes=50000-']);
  });

  test('a damaged partial file is discarded after the mismatch and fetched once in full', async () => {
    await seedPartial(Buffer.alloc(10_000, 7));
    const r = await download({ ...FAST, url: server.url(path), home, sha256: digest });
    assert.ok((await readFile(r.path)).equals(data));
    assert.deepEqual(newGets(), ['206 bytes=10000-', '200 -']);
  });

  test('a partial file longer than the remote one (416) is discarded', async () => {
    await seedPartial(Buffer.concat([data, Buffer.from('extra')]));
    const r = await download({ ...FAST, url: server.url(path), home, sha256: digest });
    assert.ok((await readFile(r.path)).equals(data));
    assert.deepEqual(newGets(), [`416 bytes=${data.length + 5}-`, '200 -']);
  });

  test('5xx twice, then success', async () => {
    server.failFirst(path, 2, 503);
    const retries: number[] = [];
    const r = await download({ ...FAST, url: server.url(path), home, onRetry: (n) => retries.push(n.attempt) });
    assert.ok((await readFile(r.path)).equals(data));
    assert.deepEqual(newGets(), ['503 -', '503 -', '200 -']);
    assert.deepEqual(retries, [1, 2]);
  });

  test('5xx for ever gives HTTP_STATUS after the configured retries, nothing cached', async () => {
    server.failFirst(path, 1000, 500);
    const e = await rejectsWith(download({ ...FAST, retries: 3, url: server.url(path), home }), 'HTTP_STATUS');
    assert.match(e.message, /dist\/rust-src-1\.96\.0\.tar\.gz answered HTTP 500/);
    assert.match(e.message, /4 attempts/);
    assert.equal(e.data?.attempts, 4);
    assert.ok(e.hint);
    assert.equal(newGets().length, 4);
    assert.deepEqual(await readdir(join(home, 'downloads')), ['partial']);
  });

  test('404 is not retried', async () => {
    server.serve('/gone.tar.gz', data);
    server.failFirst('/gone.tar.gz', 1000, 404);
    const e = await rejectsWith(
      download({ ...FAST, url: server.url('/gone.tar.gz'), home, sha256: digest }),
      'HTTP_STATUS',
    );
    assert.equal(e.data?.attempts, 1);
    assert.match(e.hint ?? '', /PLRUST_DIST_SERVER/);
    assert.equal(server.requestsFor('/gone.tar.gz').length, 1);
  });

  test('a stalled body hits the timeout: DOWNLOAD_TIMEOUT', { timeout: 20_000 }, async () => {
    server.stall(path, 'forever');
    const e = await rejectsWith(
      download({ ...FAST, retries: 1, timeoutMs: 300, url: server.url(path), home }),
      'DOWNLOAD_TIMEOUT',
    );
    assert.match(e.message, new RegExp(`${server.url(path)} timed out: no data in time \\(2 attempts\\)`));
    assert.equal(newGets().length, 2);
  });

  test('a refused connection is a network failure: DOWNLOAD_FAILED after retries', async () => {
    const spare = await startFileServer();
    const deadUrl = spare.url('/x.tar.gz');
    await spare.close();
    const e = await rejectsWith(download({ ...FAST, url: deadUrl, home, sha256: digest }), 'DOWNLOAD_FAILED');
    assert.match(e.message, /ECONNREFUSED/);
    assert.match(e.hint ?? '', /HTTPS_PROXY/);
  });

  test('a wrong published checksum gives CHECKSUM_MISMATCH and leaves nothing in downloads/', async () => {
    server.wrongChecksum(path);
    const e = await rejectsWith(download({ ...FAST, url: server.url(path), home }), 'CHECKSUM_MISMATCH');
    assert.equal(e.data?.actual, digest);
    assert.notEqual(e.data?.expected, digest);
    assert.ok(e.message.includes(digest) && e.message.includes(String(e.data?.expected)));
    assert.deepEqual(await readdir(join(home, 'downloads')), ['partial']);
    assert.deepEqual(await readdir(join(home, 'downloads', 'partial')), []);
  });

  test('a missing .sha256 gives CHECKSUM_UNAVAILABLE without fetching the file', async () => {
    server.serve('/unsigned.tar.gz', data, { checksum: false });
    await rejectsWith(download({ ...FAST, url: server.url('/unsigned.tar.gz'), home }), 'CHECKSUM_UNAVAILABLE');
    assert.equal(server.requestsFor('/unsigned.tar.gz').length, 0);
  });

  test('a home that is not a directory gives STORAGE_FAILED naming the path', async () => {
    const notDir = join(home, 'file');
    await writeFile(notDir, '');
    const e = await rejectsWith(
      download({ ...FAST, url: server.url(path), home: notDir, sha256: digest }),
      'STORAGE_FAILED',
    );
    assert.ok(e.message.includes(join(notDir, 'downloads')));
    assert.deepEqual(newGets(), []);
  });

  test('only http and https URLs are accepted', async () => {
    await rejectsWith(download({ ...FAST, url: 'file:///tmp/x.tar.gz', home }), 'INVALID_URL');
    await rejectsWith(download({ ...FAST, url: server.url(path), home, sha256: 'abc' }), 'INVALID_SHA256');
  });

  describe('through a proxy', () => {
    let proxy: Server;
    let proxyUrl: string;
    const tunnels: string[] = [];
    const sockets = new Set<Socket>();

    before(async () => {
      // A forward proxy the way most are used: CONNECT opens a tunnel to the target.
      proxy = createServer((_req, res) => res.writeHead(405).end());
      proxy.on('connect', (req, client: Socket, head: Buffer) => {
        tunnels.push(req.url ?? '');
        const [host, port] = (req.url ?? '').split(':');
        const upstream = connect(Number(port), host, () => {
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          upstream.write(head);
          upstream.pipe(client);
          client.pipe(upstream);
        });
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => undefined);
        }
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    });
    after(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => proxy.close(resolve));
    });

    test('HTTP_PROXY is used for http:// URLs', async () => {
      tunnels.length = 0;
      const r = await download({ ...FAST, url: server.url(path), home, env: { HTTP_PROXY: proxyUrl } });
      assert.ok((await readFile(r.path)).equals(data));
      assert.deepEqual(tunnels, [`127.0.0.1:${server.port}`, `127.0.0.1:${server.port}`]);
    });

    test('NO_PROXY bypasses it', async () => {
      tunnels.length = 0;
      const r = await download({
        ...FAST,
        url: server.url(path),
        home,
        env: { http_proxy: proxyUrl, no_proxy: 'example.com,127.0.0.1' },
      });
      assert.ok((await readFile(r.path)).equals(data));
      assert.deepEqual(tunnels, []);
    });

    test('the test proxy really forwards (sanity check of the fixture)', async () => {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({
          host: '127.0.0.1',
          port: Number(new URL(proxyUrl).port),
          method: 'CONNECT',
          path: `127.0.0.1:${server.port}`,
        });
        req.on('connect', (res, socket) => {
          socket.destroy();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      assert.equal(status, 200);
    });
  });
});

describe('proxy selection', () => {
  const u = (s: string): URL => new URL(s);

  test('NO_PROXY matching', () => {
    const cases: Array<[string, string, boolean]> = [
      ['https://static.rust-lang.org/x', '', false],
      ['https://static.rust-lang.org/x', '*', true],
      ['https://static.rust-lang.org/x', 'rust-lang.org', true],
      ['https://static.rust-lang.org/x', '.rust-lang.org', true],
      ['https://static.rust-lang.org/x', '*.rust-lang.org', true],
      ['https://rust-lang.org/x', '.rust-lang.org', true],
      ['https://evilrust-lang.org/x', 'rust-lang.org', false],
      ['https://static.rust-lang.org/x', 'STATIC.Rust-Lang.org', true],
      ['https://static.rust-lang.org/x', 'example.com, rust-lang.org', true],
      ['https://static.rust-lang.org/x', 'example.com rust-lang.org', true],
      ['https://static.rust-lang.org/x', 'rust-lang.org:443', true],
      ['https://static.rust-lang.org/x', 'rust-lang.org:8443', false],
      ['http://mirror.local:8080/x', 'mirror.local:8080', true],
      ['http://mirror.local/x', 'mirror.local:80', true],
      ['http://10.1.2.3/x', '10.0.0.0/8', true],
      ['http://11.1.2.3/x', '10.0.0.0/8', false],
      ['http://10.1.2.3/x', '10.1.2.3', true],
      ['http://110.1.2.3/x', '10.1.2.3', false],
      ['http://[::1]:8080/x', '::1', true],
      ['http://[::1]:8080/x', '[::1]:8080', true],
      ['http://[::1]:8080/x', '[::1]:9090', false],
    ];
    for (const [url, noProxy, expected] of cases) {
      assert.equal(bypassesProxy(u(url), noProxy), expected, `${url} with NO_PROXY=${noProxy}`);
    }
  });

  test('the variable follows the scheme; lower case wins; NO_PROXY applies', () => {
    const env = { HTTPS_PROXY: 'http://secure:3128', HTTP_PROXY: 'http://plain:3128', http_proxy: 'lower:8080' };
    assert.equal(proxyForUrl(u('https://a.example/x'), env)?.href, 'http://secure:3128/');
    assert.equal(proxyForUrl(u('http://a.example/x'), env)?.href, 'http://lower:8080/');
    assert.equal(proxyForUrl(u('http://a.example/x'), { ...env, NO_PROXY: 'xample' })?.href, 'http://lower:8080/');
    assert.equal(proxyForUrl(u('http://a.example/x'), { ...env, NO_PROXY: 'a.example' }), undefined);
    assert.equal(proxyForUrl(u('https://a.example/x'), {}), undefined);
    assert.throws(() => proxyForUrl(u('https://a.example/x'), { HTTPS_PROXY: 'socks5://p:1080' }), {
      code: 'INVALID_PROXY',
    });
  });
});

describe('checksum and range parsing', () => {
  test('.sha256 files in sha256sum formats', () => {
    const hex = 'ab'.repeat(32);
    assert.equal(parseSha256File(`${hex}  rust-src.tar.gz\n`), hex);
    assert.equal(parseSha256File(`${hex.toUpperCase()} *rust-src.tar.gz`), hex);
    assert.equal(parseSha256File(`${hex}\n`), hex);
    assert.equal(parseSha256File('<html>not found</html>'), undefined);
    assert.equal(parseSha256File(hex.slice(2)), undefined);
  });

  test('Content-Range', () => {
    assert.deepEqual(parseContentRange('bytes 100-199/200'), { start: 100, total: 200 });
    assert.deepEqual(parseContentRange('bytes 0-9/*'), { start: 0, total: undefined });
    assert.equal(parseContentRange('bytes */200'), undefined);
    assert.equal(parseContentRange(undefined), undefined);
  });
});
