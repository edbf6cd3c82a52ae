/**
 * A local file server for download tests: real HTTP on 127.0.0.1 with an
 * OS-chosen port, byte ranges, and faults injected per path at run time.
 *
 * Every registered file `P` also gets a checksum file `P.sha256`
 * (`<hex>  <basename>`) unless one is registered explicitly or
 * `{ checksum: false }` is passed.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { posix } from 'node:path';
import { Readable } from 'node:stream';

export type Stall = number | 'forever';

export interface RecordedRequest {
  method: string;
  path: string;
  /** The raw `Range` header, if the client sent one. */
  range: string | undefined;
  /** The status the server answered with (0 until headers are sent). */
  status: number;
}

export interface ServeOptions {
  /** Also serve `<path>.sha256`; default true. */
  checksum?: boolean;
}

export interface FaultOptions {
  /** How many requests the fault applies to; default: until cleared. */
  times?: number;
}

export interface FileServerOptions {
  files?: Record<string, string | Buffer>;
}

export interface FileServer {
  readonly origin: string;
  readonly port: number;
  /** Every request received so far, in arrival order. */
  readonly requests: readonly RecordedRequest[];
  url(path: string): string;
  serve(urlPath: string, source: string | Buffer, opts?: ServeOptions): void;
  /** Send full headers, then destroy the socket after `bytes` body bytes. */
  truncateAfter(urlPath: string, bytes: number, opts?: FaultOptions): void;
  /** Answer the next `count` requests with `status` and no file. */
  failFirst(urlPath: string, count: number, status?: number): void;
  /** Send headers, then hold the body back for `ms` (or for ever). */
  stall(urlPath: string, duration: Stall, opts?: FaultOptions): void;
  /** Answer 200 with the whole file even when a Range was asked for. */
  ignoreRange(urlPath: string, on?: boolean): void;
  /** Make `<urlPath>.sha256` name a digest that does not match the file. */
  wrongChecksum(urlPath: string, on?: boolean): void;
  clearFaults(urlPath?: string): void;
  requestsFor(urlPath: string): RecordedRequest[];
  close(): Promise<void>;
}

interface Counted<T> {
  value: T;
  remaining: number;
}

interface Faults {
  truncate?: Counted<number>;
  fail?: Counted<number>;
  stall?: Counted<Stall>;
  ignoreRange?: boolean;
  wrongChecksum?: boolean;
}

type Route = { kind: 'file'; source: string | Buffer } | { kind: 'checksum'; of: string };

interface ByteRange {
  start: number;
  end: number;
}

/** `bytes=N-`, `bytes=N-M` or `bytes=-S`; anything else is treated as absent, as RFC 9110 allows. */
function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  const m = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  if (start >= size) return 'unsatisfiable';
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  return end < start ? undefined : { start, end };
}

function takeOne<T>(c: Counted<T> | undefined): T | undefined {
  if (!c || c.remaining <= 0) return undefined;
  c.remaining -= 1;
  return c.value;
}

export async function startFileServer(opts: FileServerOptions = {}): Promise<FileServer> {
  const routes = new Map<string, Route>();
  const faults = new Map<string, Faults>();
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const digests = new Map<string, string>();

  const faultsOf = (p: string): Faults => {
    let f = faults.get(p);
    if (!f) faults.set(p, (f = {}));
    return f;
  };

  async function sizeOf(source: string | Buffer): Promise<number> {
    return typeof source === 'string' ? (await stat(source)).size : source.length;
  }

  function bodyOf(source: string | Buffer, start: number, length: number): Readable {
    if (length === 0) return Readable.from([]);
    return typeof source === 'string'
      ? createReadStream(source, { start, end: start + length - 1 })
      : Readable.from([source.subarray(start, start + length)]);
  }

  async function checksumBody(filePath: string, source: string | Buffer, wrong: boolean): Promise<Buffer> {
    let hex = digests.get(filePath);
    if (hex === undefined) {
      const content = typeof source === 'string' ? await readFile(source) : source;
      hex = createHash('sha256').update(content).digest('hex');
      digests.set(filePath, hex);
    }
    if (wrong) hex = createHash('sha256').update(`not ${hex}`).digest('hex');
    return Buffer.from(`${hex}  ${posix.basename(filePath)}\n`);
  }

  function delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });
  }

  /** Writes chunk by chunk so that a truncation cuts at an exact byte count. */
  async function sendBody(res: ServerResponse, body: Readable, truncated: boolean): Promise<void> {
    for await (const chunk of body) {
      if (res.destroyed) {
        body.destroy();
        return;
      }
      await new Promise<void>((resolve) => res.write(chunk, () => resolve()));
    }
    if (truncated) res.socket?.destroy();
    else res.end();
  }

  async function handle(req: IncomingMessage, res: ServerResponse, record: RecordedRequest): Promise<void> {
    const path = record.path;
    const route = routes.get(path);
    const f = faults.get(path) ?? {};
    const answer = (status: number, headers: Record<string, string | number>): void => {
      record.status = status;
      res.writeHead(status, headers);
    };

    const failStatus = takeOne(f.fail);
    if (failStatus !== undefined) {
      answer(failStatus, { 'content-type': 'text/plain' });
      res.end(req.method === 'HEAD' ? undefined : 'injected failure\n');
      return;
    }
    if (!route || (req.method !== 'GET' && req.method !== 'HEAD')) {
      answer(route ? 405 : 404, { 'content-type': 'text/plain' });
      res.end();
      return;
    }

    let source: string | Buffer;
    if (route.kind === 'checksum') {
      const target = routes.get(route.of);
      if (!target || target.kind !== 'file') throw new Error(`checksum route without file: ${route.of}`);
      source = await checksumBody(route.of, target.source, faults.get(route.of)?.wrongChecksum === true);
    } else {
      source = route.source;
    }

    const size = await sizeOf(source);
    const range = f.ignoreRange ? undefined : parseRange(req.headers.range, size);
    if (range === 'unsatisfiable') {
      answer(416, { 'content-range': `bytes */${size}` });
      res.end();
      return;
    }
    const start = range?.start ?? 0;
    const length = range ? range.end - range.start + 1 : size;
    const headers: Record<string, string | number> = {
      'content-type': 'application/octet-stream',
      'content-length': length,
      'accept-ranges': 'bytes',
    };
    if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`;
    answer(range ? 206 : 200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }

    const stallFor = takeOne(f.stall);
    if (stallFor !== undefined) {
      res.flushHeaders();
      if (stallFor === 'forever') return;
      await delay(stallFor);
      if (res.destroyed) return;
    }
    const cut = takeOne(f.truncate);
    const sendLength = cut === undefined ? length : Math.min(cut, length);
    await sendBody(res, bodyOf(source, start, sendLength), sendLength < length);
  }

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const record: RecordedRequest = { method: req.method ?? '', path, range: req.headers.range, status: 0 };
    requests.push(record);
    handle(req, res, record).catch((e: unknown) => {
      if (!res.headersSent) {
        record.status = 500;
        res.writeHead(500, { 'content-type': 'text/plain' });
      }
      res.end(String(e));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  const fs: FileServer = {
    origin,
    port,
    requests,
    url: (path) => origin + (path.startsWith('/') ? path : `/${path}`),
    serve(urlPath, source, serveOpts = {}) {
      routes.set(urlPath, { kind: 'file', source });
      digests.delete(urlPath);
      const sumPath = `${urlPath}.sha256`;
      const existing = routes.get(sumPath);
      if (serveOpts.checksum === false) {
        if (existing?.kind === 'checksum') routes.delete(sumPath);
      } else if (!existing || existing.kind === 'checksum') {
        routes.set(sumPath, { kind: 'checksum', of: urlPath });
      }
    },
    truncateAfter(urlPath, bytes, o = {}) {
      faultsOf(urlPath).truncate = { value: bytes, remaining: o.times ?? Infinity };
    },
    failFirst(urlPath, count, status = 503) {
      faultsOf(urlPath).fail = { value: status, remaining: count };
    },
    stall(urlPath, duration, o = {}) {
      faultsOf(urlPath).stall = { value: duration, remaining: o.times ?? Infinity };
    },
    ignoreRange(urlPath, on = true) {
      faultsOf(urlPath).ignoreRange = on;
    },
    wrongChecksum(urlPath, on = true) {
      faultsOf(urlPath).wrongChecksum = on;
    },
    clearFaults(urlPath) {
      if (urlPath === undefined) faults.clear();
      else faults.delete(urlPath);
    },
    requestsFor: (urlPath) => requests.filter((r) => r.path === urlPath),
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await closed;
    },
  };
  for (const [p, src] of Object.entries(opts.files ?? {})) fs.serve(p, src);
  return fs;
}
