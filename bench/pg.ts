/**
 * A throwaway PostgreSQL 15 cluster with PL/Rust installed by the real
 * `plrust install` (into the system installation, using the suite's shared
 * toolchain home), and psql sessions whose statements are timed by psql's
 * own \timing (the server round trip, without connection set-up).
 */
import fs from 'node:fs';
import path from 'node:path';
import { homeLayout } from '../src/util/home.js';
import { installDir } from '../src/install/manifest.js';
import { PG_CONFIG, startCluster, type PgCluster, type PgSession } from '../test/helpers/pg-cluster.js';
import { BIN, plrustEnv, sharedInfo, type SharedInfo } from './common.js';
import { measure } from './stats.js';
import { step } from './scratch.js';

export interface PlrustCluster {
  pg: PgCluster;
  tc: SharedInfo;
}

/**
 * Installs PL/Rust (idempotent), starts a cluster with `settings`, runs `fn`,
 * and always stops the cluster. An install that was not there before the
 * benchmark is uninstalled again afterwards; one that was is left in place.
 */
export async function withPlrustCluster<T>(
  settings: Record<string, string | number | boolean>,
  fn: (c: PlrustCluster) => Promise<T>,
): Promise<T> {
  const tc = await step('the shared toolchain', sharedInfo);
  const manifest = path.join(installDir(homeLayout(tc.home), PG_CONFIG), 'manifest.json');
  const wasInstalled = fs.existsSync(manifest);
  await step('plrust install', () =>
    measure(process.execPath, [BIN, 'install', '--pg-config', PG_CONFIG, '--json'], {
      env: plrustEnv(tc.home),
      timeoutMs: 10 * 60_000,
    }),
  );
  let pg: PgCluster | undefined;
  try {
    pg = await step('starting a PostgreSQL cluster', () => startCluster({ settings }));
    await step('CREATE EXTENSION plrust', () => pg!.psql('CREATE EXTENSION plrust;'));
    return await fn({ pg, tc });
  } finally {
    await pg?.stop();
    if (!wasInstalled) {
      try {
        measure(process.execPath, [BIN, 'uninstall', '--pg-config', PG_CONFIG, '--json'], { env: plrustEnv(tc.home) });
      } catch (e) {
        // Reported, not thrown: it must not hide the benchmark's own failure.
        console.error(
          `bench: plrust uninstall after the benchmark failed: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    }
  }
}

const STATEMENT_TIMEOUT_MS = 10 * 60_000;

export interface Timed {
  ms: number;
  out: string;
}

export interface TimedSession {
  /** Runs one statement; returns psql's \timing figure and the output rows. Throws on an ERROR. */
  time(sql: string): Promise<Timed>;
  run(sql: string): Promise<string>;
  close(): Promise<void>;
}

export async function timedSession(pg: PgCluster): Promise<TimedSession> {
  const s: PgSession = await pg.openSession();
  const raw = async (sql: string): Promise<string> => {
    // A statement psql cannot finish reading (an unclosed quote) would wait forever.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`no answer after ${STATEMENT_TIMEOUT_MS / 60_000} minutes to: ${sql.trim().split('\n')[0]}`),
          ),
        STATEMENT_TIMEOUT_MS,
      );
    });
    const r = await Promise.race([s.run(sql), timeout]).finally(() => clearTimeout(timer));
    if (s.closed || /\b(ERROR|FATAL|PANIC):/.test(r.stderr))
      throw new Error(`${sql.trim().split('\n')[0]}: ${r.stderr.trim() || 'the session ended'}`);
    return r.stdout;
  };
  await raw('\\timing on');
  return {
    run: async (sql) => (await raw(sql)).replace(/^Time: .*\n?/gm, ''),
    async time(sql: string): Promise<Timed> {
      // psql runs a statement only once it sees the semicolon.
      const stdout = await raw(/;\s*$/.test(sql) ? sql : `${sql};`);
      const times = [...stdout.matchAll(/^Time: ([\d.]+) ms/gm)].map((m) => Number(m[1]));
      if (times.length !== 1)
        throw new Error(`expected one \\timing line for ${sql.trim().split('\n')[0]}, got:\n${stdout}`);
      return { ms: times[0]!, out: stdout.replace(/^Time: .*\n?/gm, '').trim() };
    },
    close: () => s.close(),
  };
}

/** Wall time of an async action. */
export async function wall<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, value };
}
