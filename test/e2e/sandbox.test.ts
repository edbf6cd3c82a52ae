/**
 * `plrust sandbox`: a throwaway PostgreSQL 15 cluster with PL/Rust, living
 * under a fresh PLRUST_HOME (the suite's shared toolchain linked in, so its
 * functions compile). The tests run in order: run → status → stop → destroy.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseJson, runPlrust, tempDir, type RunResult } from '../helpers/cli.js';
import { PG_BIN_DIR, PG_CONFIG } from '../helpers/pg-cluster.js';
import { tempHome, uninstallPlrust } from '../helpers/plrust-install.js';

interface Connection {
  host: string;
  port: number;
  user: string;
  database: string;
  dataDir: string;
}

interface Status {
  ok: boolean;
  initialised: boolean;
  running: boolean;
  connection: Connection;
}

const FIRST_SQL = `CREATE FUNCTION sandbox_add(a int, b int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(a + b)) $$;
SELECT sandbox_add(20, 22) AS answer;
CREATE TABLE sandbox_marker (note text);
INSERT INTO sandbox_marker VALUES ('from the first file');
`;

/** psql as a script would run it: only the connection parameters that status printed. */
function plainPsql(c: Connection, sql: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(
    path.join(PG_BIN_DIR, 'psql'),
    ['-X', '-A', '-t', '-h', c.host, '-p', String(c.port), '-U', c.user, '-d', c.database, '-c', sql],
    {
      encoding: 'utf8',
      env: { ...process.env, PGCONNECT_TIMEOUT: '5' },
    },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('plrust sandbox', () => {
  let home: string;
  let work: string;
  const sandbox = (args: string[]): Promise<RunResult> =>
    runPlrust(['sandbox', ...args, '--pg-config', PG_CONFIG], { home, cwd: work, timeoutMs: 5 * 60_000 });
  const status = async (): Promise<Status> => {
    const r = await sandbox(['status', '--json']);
    assert.equal(r.code, 0, r.stderr);
    return parseJson<Status>(r);
  };

  before(async () => {
    home = await tempHome('sandbox', { toolchain: true });
    work = tempDir('sandbox-sql');
    fs.writeFileSync(path.join(work, 'first.sql'), FIRST_SQL);
    fs.writeFileSync(
      path.join(work, 'second.sql'),
      'SELECT count(*) AS markers, sandbox_add(1, 1) AS two FROM sandbox_marker;\n',
    );
  });

  after(async () => {
    // Whatever the tests left: the cluster stopped and removed, plrust uninstalled from the installation.
    await sandbox(['destroy']);
    await uninstallPlrust(home).catch(() => undefined);
  });

  test('run creates the cluster, installs plrust and runs the SQL file', async () => {
    assert.equal((await status()).initialised, false, 'no sandbox before the first run');
    const r = await sandbox(['run', 'first.sql', '--json']);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const doc = parseJson<{ ok: boolean; results: { file: string; output: string }[]; connection: Connection }>(r);
    assert.equal(doc.results.length, 1);
    assert.match(doc.results[0]!.output, /^ +42$/m, 'the PL/Rust function ran');
    assert.ok(
      fs.realpathSync(doc.connection.dataDir).startsWith(fs.realpathSync(home)),
      `the cluster lives under PLRUST_HOME: ${doc.connection.dataDir}`,
    );
    assert.ok(fs.existsSync(path.join(doc.connection.dataDir, 'PG_VERSION')));
  });

  test('run again reuses the same cluster', async () => {
    const r = await sandbox(['run', 'second.sql']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ +1 \| +2$/m, 'the first file’s table and function are still there');
  });

  test('status --json gives the connection parameters, and a plain psql with them connects', async () => {
    const s = await status();
    assert.equal(s.running, true);
    assert.equal(s.initialised, true);
    const c = s.connection;
    assert.ok(path.isAbsolute(c.host) && fs.statSync(c.host).isDirectory(), `the socket directory: ${c.host}`);
    assert.equal(typeof c.port, 'number');
    assert.ok(fs.existsSync(path.join(c.host, `.s.PGSQL.${c.port}`)), 'the socket is there');
    const r = plainPsql(c, `SELECT note, sandbox_add(2, 3), current_user, current_database() FROM sandbox_marker`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), `from the first file|5|${c.user}|${c.database}`);
  });

  test('stop, then status says stopped', async () => {
    const before = await status();
    const r = await sandbox(['stop']);
    assert.equal(r.code, 0, r.stderr);
    const s = await status();
    assert.equal(s.running, false);
    assert.equal(s.initialised, true, 'stopping keeps the data');
    const text = await sandbox(['status']);
    assert.match(text.stdout, /: stopped$/m);
    assert.notEqual(plainPsql(before.connection, 'SELECT 1').status, 0, 'nothing answers on the socket any more');
  });

  test('destroy removes the data', async () => {
    const { connection } = await status();
    const r = await sandbox(['destroy']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.existsSync(connection.dataDir), false);
    const s = await status();
    assert.equal(s.initialised, false);
    assert.equal(s.running, false);
    assert.match((await sandbox(['status'])).stdout, /: not created$/m);
  });
});
