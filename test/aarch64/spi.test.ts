/**
 * Issue 15 on arm64, a lean subset: functions that query (SPI), log, raise
 * with a SQLSTATE, return a set, call another function and fire as a
 * trigger are compiled by an x86_64 server for both targets, dumped, and
 * restored into an arm64 server (emulated) without a compiler; they answer
 * there as on x86_64.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { join } from 'node:path';
import { parseJson, runPlrust } from '../helpers/cli.js';
import { sharedToolchain } from '../helpers/toolchain.js';
import { PG_CONFIG, startCluster, type PgCluster } from '../helpers/pg-cluster.js';
import {
  aarch64Environment,
  aarch64SkipReason,
  freshServerWorkDir,
  startAarch64Cluster,
  type Aarch64Cluster,
} from '../helpers/aarch64-pg.js';

const SETUP = `CREATE EXTENSION plrust;
CREATE TABLE t (id int PRIMARY KEY, name text, hits int NOT NULL DEFAULT 0);
INSERT INTO t VALUES (1, 'one'), (2, 'two');
CREATE FUNCTION s_name(id int) RETURNS text STRICT LANGUAGE plrust AS $$
    notice!("looking up {id}");
    Ok(Spi::get_one_with_args("SELECT name FROM t WHERE id = $1", vec![(PgBuiltInOids::INT4OID.oid(), id.into_datum())])?)
$$;
CREATE FUNCTION s_caught() RETURNS text STRICT LANGUAGE plrust AS $$
    Ok(Some(match Spi::run("INSERT INTO t (id) VALUES (1)") {
        Ok(()) => "inserted".to_string(),
        Err(e) => format!("{}", e.sqlstate().unwrap_or("?")),
    }))
$$;
CREATE FUNCTION s_raise() RETURNS int STRICT LANGUAGE plrust AS $$
    ereport!(PgLogLevel::ERROR, PgSqlErrorCode::ERRCODE_CHECK_VIOLATION, "checked on this architecture");
$$;
CREATE FUNCTION s_series(n int8) RETURNS TABLE (i int8, sq int8) STRICT LANGUAGE plrust AS $$
    Ok(Some(TableIterator::new((1..=n).map(|i| (Some(i), Some(i * i))))))
$$;
CREATE FUNCTION s_call() RETURNS text STRICT LANGUAGE plrust AS $$
    Ok(fn_call("s_name", &[&Arg::Value(2i32)])?)
$$;
CREATE FUNCTION s_hit() RETURNS trigger LANGUAGE plrust AS $$
    let mut row = trigger.new().ok_or("no new row")?;
    let hits = row.get_by_name::<i32>("hits")?.unwrap_or(0);
    row.set_by_name("hits", hits + 10)?;
    Ok(Some(row))
$$;
CREATE TRIGGER s_hit BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION s_hit();`;

const QUERY = `UPDATE t SET name = name || '!' WHERE id = 2;
SELECT s_name(1), s_caught(), s_call(), (SELECT sum(sq) FROM s_series(1000)), (SELECT hits FROM t WHERE id = 2);`;

describe(
  'SPI, logging, SETOF/TABLE, fn_call and triggers from an x86_64 server run on an arm64 server',
  { skip: aarch64SkipReason() ?? false },
  () => {
    let x86: PgCluster;
    let arm: Aarch64Cluster;
    let dump: string;

    before(async () => {
      const [env, { home }] = await Promise.all([aarch64Environment(), sharedToolchain()]);
      const installs = await Promise.all(
        [PG_CONFIG, env.pgConfig].map(async (pgConfig) => {
          const r = await runPlrust(['install', '--pg-config', pgConfig, '--json'], { home, timeoutMs: 5 * 60_000 });
          assert.equal(r.code, 0, `plrust install --pg-config ${pgConfig}: ${r.stderr}`);
          return parseJson<{ serverHome?: string; compiler: string[] }>(r);
        }),
      );
      const host = installs[0]!;
      [x86, arm] = await Promise.all([
        startCluster({
          settings: {
            'plrust.targets': 'x86_64,aarch64',
            'plrust.compiler': host.compiler.join(','),
            'plrust.home': host.serverHome ?? '',
            'plrust.work_dir': freshServerWorkDir(),
          },
        }),
        startAarch64Cluster({ settings: { 'plrust.compiler': '', 'plrust.home': '' } }),
      ]);
      dump = join(x86.dir, 'spi.dump');
      fs.rmSync(dump, { force: true });
    });

    after(async () => {
      await Promise.all([x86?.stop(), arm?.stop()]);
    });

    test('the same answers, notices and SQLSTATEs on both architectures', async () => {
      await x86.psql(SETUP);
      const dumped = await x86.runProgram('pg_dump', ['-Fc', '-f', dump, '-d', x86.conninfo()]);
      assert.equal(dumped.code, 0, dumped.stderr);
      const restored = await arm.runProgram('pg_restore', ['-d', arm.conninfo(), dump]);
      assert.equal(restored.code, 0, restored.stderr);
      for (const pg of [x86, arm]) {
        const r = await pg.psqlResult(QUERY);
        assert.equal(r.stdout.trim(), 'one|23505|two!|333833500|10', r.stderr);
        assert.match(r.stderr, /NOTICE: {2}looking up 1\n/);
        const raised = await pg.psqlResult(`\\set VERBOSITY verbose\nSELECT s_raise();`);
        assert.match(raised.stderr, /ERROR: {2}23514: checked on this architecture\n/);
      }
    });
  },
);
