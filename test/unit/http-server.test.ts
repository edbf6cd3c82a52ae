import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFileServer, type FileServer } from '../helpers/http-server.js';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The connection ended before the announced Content-Length arrived. */
  cut: boolean;
}

/** A bare client (no keep-alive, no retries) so the test sees exactly what the server sent. */
function fetchRaw(url: string, opts: { method?: string; range?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = opts.range ? { range: opts.range } : {};
    const req = request(url, { method: opts.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let cut = false;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('aborted', () => (cut = true));
      res.on('error', () => (cut = true));
      res.on('close', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), cut }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('local file server', () => {
  const data = randomBytes(200_000);
  let server: FileServer;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'plrust-http-server-'));
    await writeFile(join(dir, 'on-disk.bin'), data);
    server = await startFileServer({ files: { '/mem.bin': data } });
    server.serve('/disk/on-disk.bin', join(dir, 'on-disk.bin'));
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('serves buffers and files with Content-Length, and HEAD without a body', async () => {
    for (const path of ['/mem.bin', '/disk/on-disk.bin']) {
      const r = await fetchRaw(server.url(path));
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-length'], String(data.length));
      assert.ok(r.body.equals(data));
    }
    const head = await fetchRaw(server.url('/mem.bin'), { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String(data.length));
    assert.equal(head.body.length, 0);
    assert.equal((await fetchRaw(server.url('/missing'))).status, 404);
  });

  test('publishes <path>.sha256 unless told not to', async () => {
    const r = await fetchRaw(server.url('/disk/on-disk.bin.sha256'));
    assert.equal(r.body.toString(), `${sha(data)}  on-disk.bin\n`);
    server.serve('/no-sum.bin', data, { checksum: false });
    assert.equal((await fetchRaw(server.url('/no-sum.bin.sha256'))).status, 404);
  });

  test('answers byte ranges with 206 and Content-Range, and 416 past the end', async () => {
    const r = await fetchRaw(server.url('/disk/on-disk.bin'), { range: 'bytes=150000-' });
    assert.equal(r.status, 206);
    assert.equal(r.headers['content-range'], `bytes 150000-199999/${data.length}`);
    assert.equal(r.headers['content-length'], '50000');
    assert.ok(r.body.equals(data.subarray(150_000)));
    const mid = await fetchRaw(server.url('/mem.bin'), { range: 'bytes=10-19' });
    assert.ok(mid.body.equals(data.subarray(10, 20)));
    const past = await fetchRaw(server.url('/mem.bin'), { range: `bytes=${data.length}-` });
    assert.equal(past.status, 416);
    assert.equal(past.headers['content-range'], `bytes */${data.length}`);
  });

  test('truncateAfter cuts the body after exactly N bytes, for as many requests as asked', async () => {
    server.truncateAfter('/mem.bin', 1234, { times: 1 });
    const cut = await fetchRaw(server.url('/mem.bin'));
    assert.equal(cut.headers['content-length'], String(data.length));
    assert.equal(cut.body.length, 1234);
    assert.ok(cut.body.equals(data.subarray(0, 1234)));
    assert.equal(cut.cut, true);
    const whole = await fetchRaw(server.url('/mem.bin'));
    assert.equal(whole.cut, false);
    assert.ok(whole.body.equals(data));
  });

  test('failFirst answers the first K requests with the given status', async () => {
    server.failFirst('/disk/on-disk.bin', 2, 502);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetchRaw(server.url('/disk/on-disk.bin'))).status);
    assert.deepEqual(statuses, [502, 502, 200]);
  });

  test('stall sends headers and holds the body back; close() ends a stall that never finishes', async () => {
    server.stall('/mem.bin', 50, { times: 1 });
    const late = await fetchRaw(server.url('/mem.bin'));
    assert.ok(late.body.equals(data));

    const s2 = await startFileServer({ files: { '/f': data } });
    s2.stall('/f', 'forever');
    const headers = new Promise<number>((resolve, reject) => {
      const req = request(s2.url('/f'), { agent: false }, (res) => {
        resolve(res.statusCode ?? 0);
        res.on('error', () => undefined);
        res.resume();
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(await headers, 200);
    await s2.close();
    assert.equal(s2.requestsFor('/f').length, 1);
  });

  test('ignoreRange answers 200 with the whole file', async () => {
    server.ignoreRange('/mem.bin');
    const r = await fetchRaw(server.url('/mem.bin'), { range: 'bytes=100-' });
    assert.equal(r.status, 200);
    assert.ok(r.body.equals(data));
    server.clearFaults('/mem.bin');
    assert.equal((await fetchRaw(server.url('/mem.bin'), { range: 'bytes=100-' })).status, 206);
  });

  test('wrongChecksum publishes a digest that does not match', async () => {
    server.wrongChecksum('/mem.bin');
    const wrong = (await fetchRaw(server.url('/mem.bin.sha256'))).body.toString();
    assert.match(wrong, /^[0-9a-f]{64} {2}mem\.bin\n$/);
    assert.notEqual(wrong.slice(0, 64), sha(data));
    server.wrongChecksum('/mem.bin', false);
    assert.equal((await fetchRaw(server.url('/mem.bin.sha256'))).body.toString().slice(0, 64), sha(data));
  });

  test('records method, path, Range header and status of every request', async () => {
    const s = await startFileServer({ files: { '/r': data } });
    try {
      await fetchRaw(s.url('/r'), { range: 'bytes=5-' });
      await fetchRaw(s.url('/r?x=1'), { method: 'HEAD' });
      await fetchRaw(s.url('/nope'));
      assert.deepEqual(s.requests, [
        { method: 'GET', path: '/r', range: 'bytes=5-', status: 206 },
        { method: 'HEAD', path: '/r', range: undefined, status: 200 },
        { method: 'GET', path: '/nope', range: undefined, status: 404 },
      ]);
    } finally {
      await s.close();
    }
  });
});
