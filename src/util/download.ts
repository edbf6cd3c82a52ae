/**
 * The one place plrust fetches files over HTTP(S). A download ends in
 * `<home>/downloads/<sha256>` only after its digest matched; everything in
 * flight lives in `<home>/downloads/partial/<sha256>.part`, which later
 * attempts (and later runs) resume with a byte range.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import got, { TimeoutError, type Agents, type Request as GotRequest, type Response } from 'got';
import { isErrnoException, PlrustError, usageError } from './errors.js';
import { proxyAgentsFor } from './proxy.js';
import { isSha256Hex, sha256File } from './sha256.js';

export interface DownloadProgress {
  /** Bytes of the file on disk so far, including any resumed part. */
  transferred: number;
  /** Size of the whole file, when the server said. */
  total: number | undefined;
  bytesPerSecond: number;
  etaSeconds: number | undefined;
}

export interface RetryNotice {
  /** The attempt that just failed, counting from 1. */
  attempt: number;
  delayMs: number;
  reason: string;
}

export interface DownloadRequest {
  /** An http:// or https:// URL; local files never come through here. */
  url: string;
  /** PLRUST_HOME. */
  home: string;
  /** Expected digest; when absent it is read from `<url>.sha256`. */
  sha256?: string;
  /** Retries after the first attempt; the count restarts whenever an attempt adds bytes. Default 4. */
  retries?: number;
  /** Delay before the first retry, doubled for each further one. Default 1000 ms. */
  retryDelayMs?: number;
  /** Limit for connecting, for the response to start, and for the connection to stay silent. Default 30 s. */
  timeoutMs?: number;
  /** Environment for proxy settings; default process.env. */
  env?: NodeJS.ProcessEnv;
  onProgress?: (progress: DownloadProgress) => void;
  onRetry?: (notice: RetryNotice) => void;
}

export interface DownloadResult {
  path: string;
  sha256: string;
  size: number;
  source: 'cache' | 'network';
  /** Bytes taken from an earlier partial download instead of the network (0 when none). */
  resumedFrom: number;
}

const DEFAULT_RETRIES = 4;
const DEFAULT_RETRY_DELAY_MS = 1000;
const MAX_RETRY_DELAY_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 30_000;
const PROGRESS_INTERVAL_MS = 100;

const NETWORK_HINT =
  'Check the network connection and the proxy settings (HTTPS_PROXY, HTTP_PROXY, NO_PROXY) and PLRUST_DIST_SERVER, ' +
  'or download the file another way and pass it with --rust-src';

type Failure =
  | { kind: 'status'; status: number; statusMessage: string }
  | { kind: 'timeout'; event: string }
  | { kind: 'network'; code: string; message: string };

/** A failed attempt, before deciding whether to retry it. */
class AttemptFailed extends Error {
  constructor(readonly failure: Failure) {
    super(describeFailure(failure));
  }
}

interface Settings {
  url: URL;
  retries: number;
  retryDelayMs: number;
  timeoutMs: number;
  agents: Agents;
  onProgress: ((p: DownloadProgress) => void) | undefined;
  onRetry: ((n: RetryNotice) => void) | undefined;
}

interface Transferred {
  sha256: string;
  size: number;
  resumedFrom: number;
}

export async function download(req: DownloadRequest): Promise<DownloadResult> {
  const url = parseHttpUrl(req.url);
  const proxyAgents = proxyAgentsFor(url, req.env ?? process.env);
  const settings: Settings = {
    url,
    retries: req.retries ?? DEFAULT_RETRIES,
    retryDelayMs: req.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS,
    timeoutMs: req.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    agents: proxyAgents ?? {},
    onProgress: req.onProgress,
    onRetry: req.onRetry,
  };
  try {
    const expected = req.sha256 !== undefined ? checkedSha256(req.sha256) : await fetchPublishedSha256(settings);
    const downloads = join(req.home, 'downloads');
    const finalPath = join(downloads, expected);
    const cached = await reuseCached(finalPath, expected);
    if (cached) return cached;

    const partialDir = join(downloads, 'partial');
    await mkdir(partialDir, { recursive: true }).catch((e: unknown) => {
      throw storageError(partialDir, e);
    });
    const partial = join(partialDir, `${expected}.part`);

    let fetched = await fetchWithRetries(settings, partial);
    if (fetched.sha256 !== expected && fetched.resumedFrom > 0) {
      // The bytes kept from before may be what is wrong (a file replaced on
      // the server, a damaged disk); one clean download settles it.
      await rm(partial, { force: true });
      fetched = await fetchWithRetries(settings, partial);
    }
    if (fetched.sha256 !== expected) {
      await rm(partial, { force: true });
      throw new PlrustError({
        code: 'CHECKSUM_MISMATCH',
        message: `The file downloaded from ${url.href} has sha256 ${fetched.sha256}, expected ${expected}`,
        hint: 'The server or a proxy delivered different content; try again, or use another mirror via PLRUST_DIST_SERVER',
        data: { url: url.href, expected, actual: fetched.sha256 },
      });
    }
    // Same directory tree, same filesystem: the cache entry appears whole or not at all.
    await rename(partial, finalPath).catch((e: unknown) => {
      throw storageError(finalPath, e);
    });
    return {
      path: finalPath,
      sha256: expected,
      size: fetched.size,
      source: 'network',
      resumedFrom: fetched.resumedFrom,
    };
  } finally {
    proxyAgents?.http?.destroy();
    proxyAgents?.https?.destroy();
  }
}

function parseHttpUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw usageError('INVALID_URL', `${raw} is not a valid URL`, 'Give an http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw usageError(
      'INVALID_URL',
      `${raw} is not an http:// or https:// URL`,
      'Local files and directories are used in place, not downloaded',
    );
  }
  return url;
}

function checkedSha256(raw: string): string {
  const hex = raw.trim().toLowerCase();
  if (!isSha256Hex(hex)) {
    throw usageError('INVALID_SHA256', `"${raw}" is not a sha256 digest (64 hexadecimal digits)`);
  }
  return hex;
}

/** `<hex>`, `<hex>  <name>` or `<hex> *<name>` (sha256sum's text and binary forms). */
export function parseSha256File(text: string): string | undefined {
  const first = text.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  return isSha256Hex(first) ? first : undefined;
}

function checksumUrl(url: URL): URL {
  const sum = new URL(url.href);
  sum.pathname += '.sha256';
  return sum;
}

async function fetchPublishedSha256(s: Settings): Promise<string> {
  const sumUrl = checksumUrl(s.url);
  const text = await withRetries(
    s,
    sumUrl,
    async () => {
      const res = await got(sumUrl, { ...requestOptions(s), responseType: 'text' }).catch((e: unknown) => {
        throw asAttemptFailure(e);
      });
      if (res.statusCode === 404 || res.statusCode === 410) {
        throw new PlrustError({
          code: 'CHECKSUM_UNAVAILABLE',
          message: `No checksum published for ${s.url.href}: ${sumUrl.href} answered HTTP ${res.statusCode}`,
          hint: "A mirror must serve each file's .sha256 next to it; check PLRUST_DIST_SERVER, or pass --rust-src with a local file",
          data: { url: s.url.href, checksumUrl: sumUrl.href, status: res.statusCode },
        });
      }
      if (res.statusCode !== 200) throw statusFailure(res);
      return res.body;
    },
    async () => false,
  );
  const hex = parseSha256File(text);
  if (!hex) {
    throw new PlrustError({
      code: 'CHECKSUM_UNAVAILABLE',
      message: `${sumUrl.href} does not contain a sha256 digest (starts with ${JSON.stringify(text.slice(0, 40))})`,
      hint: 'Check PLRUST_DIST_SERVER: it may point at something that is not a Rust dist mirror',
      data: { url: s.url.href, checksumUrl: sumUrl.href },
    });
  }
  return hex;
}

async function reuseCached(path: string, expected: string): Promise<DownloadResult | undefined> {
  let actual: string;
  try {
    actual = await sha256File(path);
  } catch (e) {
    if (isErrnoException(e) && e.code === 'ENOENT') return undefined;
    throw storageError(path, e);
  }
  if (actual !== expected) {
    await rm(path, { force: true });
    return undefined;
  }
  const { size } = await stat(path);
  return { path, sha256: expected, size, source: 'cache', resumedFrom: 0 };
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (e) {
    if (isErrnoException(e) && e.code === 'ENOENT') return 0;
    throw storageError(path, e);
  }
}

async function fetchWithRetries(s: Settings, partial: string): Promise<Transferred> {
  let before = 0;
  return withRetries(
    s,
    s.url,
    async () => {
      before = await sizeOf(partial);
      return transfer(s, partial);
    },
    async () => (await sizeOf(partial)) > before,
  );
}

/**
 * Runs `attempt` until it succeeds, fails for good, or has failed
 * `retries + 1` times in a row without `progressed()`: a slow link that
 * keeps dropping still finishes, a dead one gives up.
 */
async function withRetries<T>(
  s: Settings,
  url: URL,
  attempt: () => Promise<T>,
  progressed: () => Promise<boolean>,
): Promise<T> {
  let attempts = 0;
  let streak = 0;
  for (;;) {
    attempts += 1;
    try {
      return await attempt();
    } catch (e) {
      if (!(e instanceof AttemptFailed)) throw e;
      streak = (await progressed()) ? 1 : streak + 1;
      if (!isRetryable(e.failure) || streak > s.retries) throw finalError(url, e.failure, attempts);
      const delayMs = Math.min(s.retryDelayMs * 2 ** (streak - 1), MAX_RETRY_DELAY_MS);
      s.onRetry?.({ attempt: attempts, delayMs, reason: e.message });
      await sleep(delayMs);
    }
  }
}

function requestOptions(s: Settings) {
  const t = s.timeoutMs;
  return {
    timeout: { lookup: t, connect: t, secureConnect: t, response: t, socket: t },
    // Retries are ours: got's own would restart from byte 0 instead of resuming.
    retry: { limit: 0 },
    throwHttpErrors: false,
    // A byte range of a compressed transfer is meaningless for resuming.
    decompress: false,
    agent: s.agents,
    headers: { 'user-agent': 'plrust' },
  };
}

function openStream(s: Settings, headers: Record<string, string>): Promise<{ stream: GotRequest; response: Response }> {
  return new Promise((resolve, reject) => {
    const base = requestOptions(s);
    const stream = got.stream(s.url, { ...base, headers: { ...base.headers, ...headers } });
    // Stays attached: an error after the response is settled here as a
    // no-op and reported by the pipeline that consumes the stream.
    stream.on('error', reject);
    stream.once('response', (response: Response) => resolve({ stream, response }));
  });
}

/** Start offset of `Content-Range: bytes START-END/TOTAL`, and the total when known. */
export function parseContentRange(
  header: string | undefined,
): { start: number; total: number | undefined } | undefined {
  const m = header === undefined ? null : /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(header.trim());
  if (!m) return undefined;
  return { start: Number(m[1]), total: m[3] === '*' ? undefined : Number(m[3]) };
}

/** One request: appends to the partial file when the server honours the range, else rewrites it. */
async function transfer(s: Settings, partial: string): Promise<Transferred> {
  let offset = await sizeOf(partial);
  for (;;) {
    // Hashed before asking, so nothing is awaited between the response and
    // reading its body: the body could fail unobserved in such a gap.
    const prefix = createHash('sha256');
    if (offset > 0) await hashFile(partial, prefix, offset);
    const { stream, response } = await openStream(s, offset > 0 ? { range: `bytes=${offset}-` } : {}).catch(
      (e: unknown) => {
        throw asAttemptFailure(e);
      },
    );
    const status = response.statusCode;
    const contentLength = Number(response.headers['content-length'] ?? NaN);
    let writeFrom: number;
    let total: number | undefined;
    if (status === 206) {
      const range = parseContentRange(response.headers['content-range']);
      if (range?.start !== offset) {
        stream.destroy();
        if (offset === 0)
          throw new AttemptFailed({
            kind: 'network',
            code: 'BAD_RANGE',
            message: `unexpected partial response (Content-Range: ${response.headers['content-range'] ?? 'none'})`,
          });
        offset = 0;
        continue;
      }
      writeFrom = offset;
      total = range.total ?? (Number.isFinite(contentLength) ? offset + contentLength : undefined);
    } else if (status === 200) {
      writeFrom = 0;
      total = Number.isFinite(contentLength) ? contentLength : undefined;
    } else if (status === 416 && offset > 0) {
      // The partial file is at least as long as the remote one: it cannot be
      // a prefix of it, so start over.
      stream.destroy();
      offset = 0;
      continue;
    } else {
      stream.destroy();
      throw statusFailure(response);
    }

    const hash = writeFrom > 0 ? prefix : createHash('sha256');
    const meter = progressMeter(hash, writeFrom, total, s.onProgress);
    const out = createWriteStream(partial, { flags: writeFrom > 0 ? 'a' : 'w' });
    await drain(stream, meter.transform, out, partial);
    meter.finish();
    return { sha256: hash.digest('hex'), size: writeFrom + meter.received(), resumedFrom: writeFrom };
  }
}

/**
 * Like pipeline(), except that when the network side fails, the bytes that
 * did arrive are still written out before the failure is reported: they
 * are what the next attempt resumes from.
 */
function drain(source: GotRequest, meter: Transform, out: WriteStream, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let networkError: unknown;
    source.on('error', (e: unknown) => {
      networkError ??= e;
      source.unpipe(meter);
      meter.end();
    });
    out.on('error', (e: unknown) => {
      source.destroy();
      reject(storageError(path, e));
    });
    out.on('finish', () => (networkError === undefined ? resolve() : reject(asAttemptFailure(networkError))));
    source.pipe(meter).pipe(out);
  });
}

async function hashFile(path: string, hash: Hash, length: number): Promise<void> {
  for await (const chunk of createReadStream(path, { start: 0, end: length - 1 })) hash.update(chunk as Buffer);
}

function progressMeter(hash: Hash, already: number, total: number | undefined, onProgress: Settings['onProgress']) {
  const started = Date.now();
  let received = 0;
  let lastReport = 0;
  const report = (): void => {
    if (!onProgress) return;
    const elapsed = (Date.now() - started) / 1000;
    const bytesPerSecond = elapsed > 0 ? received / elapsed : 0;
    const transferred = already + received;
    const etaSeconds =
      total !== undefined && bytesPerSecond > 0 ? Math.max(0, total - transferred) / bytesPerSecond : undefined;
    onProgress({ transferred, total, bytesPerSecond, etaSeconds });
  };
  const transform = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      received += chunk.length;
      const now = Date.now();
      if (now - lastReport >= PROGRESS_INTERVAL_MS) {
        lastReport = now;
        report();
      }
      done(null, chunk);
    },
  });
  return { transform, finish: report, received: () => received };
}

function statusFailure(res: Response): AttemptFailed {
  return new AttemptFailed({ kind: 'status', status: res.statusCode, statusMessage: res.statusMessage ?? '' });
}

function asAttemptFailure(e: unknown): AttemptFailed | PlrustError {
  if (e instanceof AttemptFailed || e instanceof PlrustError) return e;
  if (e instanceof TimeoutError) return new AttemptFailed({ kind: 'timeout', event: e.event });
  const err = e instanceof Error ? e : new Error(String(e));
  const code = (err as { code?: unknown }).code;
  return new AttemptFailed({
    kind: 'network',
    code: typeof code === 'string' ? code : 'UNKNOWN',
    message: err.message,
  });
}

function isRetryable(f: Failure): boolean {
  switch (f.kind) {
    case 'status':
      return f.status === 408 || f.status === 429 || f.status >= 500;
    case 'timeout':
      return true;
    case 'network':
      // A certificate problem will not fix itself between attempts.
      return !/CERT|SELF_SIGNED|ERR_TLS|ERR_SSL|BAD_RANGE/.test(f.code);
  }
}

const TIMEOUT_PHASE: Record<string, string> = {
  lookup: 'DNS answer',
  connect: 'connection',
  secureConnect: 'TLS handshake',
  response: 'response',
  socket: 'data',
};

function describeFailure(f: Failure): string {
  switch (f.kind) {
    case 'status':
      return `HTTP ${f.status}${f.statusMessage ? ` ${f.statusMessage}` : ''}`;
    case 'timeout':
      return `no ${TIMEOUT_PHASE[f.event] ?? f.event} in time`;
    case 'network':
      return `${f.message} (${f.code})`;
  }
}

function finalError(url: URL, f: Failure, attempts: number): PlrustError {
  const tries = attempts > 1 ? ` (${attempts} attempts)` : '';
  const data = { url: url.href, attempts, failure: f };
  switch (f.kind) {
    case 'status':
      return new PlrustError({
        code: 'HTTP_STATUS',
        message: `${url.href} answered ${describeFailure(f)}${tries}`,
        hint:
          f.status === 404 || f.status === 410
            ? 'The file is not on that server: check PLRUST_DIST_SERVER (a mirror may lack this version), or pass --rust-src with a local file'
            : NETWORK_HINT,
        data,
      });
    case 'timeout':
      return new PlrustError({
        code: 'DOWNLOAD_TIMEOUT',
        message: `Download of ${url.href} timed out: ${describeFailure(f)}${tries}`,
        hint: NETWORK_HINT,
        data,
      });
    case 'network':
      return new PlrustError({
        code: 'DOWNLOAD_FAILED',
        message: `Download of ${url.href} failed: ${describeFailure(f)}${tries}`,
        hint: NETWORK_HINT,
        data,
      });
  }
}

function storageError(path: string, e: unknown): PlrustError {
  const code = isErrnoException(e) ? e.code : undefined;
  const denied = code === 'EACCES' || code === 'EPERM' || code === 'EROFS';
  return new PlrustError({
    code: denied ? 'HOME_NOT_WRITABLE' : 'STORAGE_FAILED',
    message: `Cannot use the download cache at ${path}: ${e instanceof Error ? e.message : String(e)}`,
    hint: 'PLRUST_HOME (or --home) must be a writable directory with free space',
    data: { path, errno: code },
    cause: e,
  });
}
