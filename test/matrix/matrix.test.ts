/**
 * PL/Rust on every PostgreSQL major the matrix covers (13, the host's 15,
 * 17, 18, 19: test/helpers/pg-versions.ts), each as a user would run it:
 * its own pg_config for `plrust doctor`, `plrust install` and a -Wall -Werror
 * build of the handler, its own initdb/postgres and clients. On each: CREATE
 * EXTENSION as an unprivileged role, functions over a representative set of
 * types, NULLs, Err and panic as ERRORs, two faults, pg_dump/restore, a hot
 * standby that runs every function without a compiler, and (17, 18) a 15
 * dump restored and run. Lean on purpose: few round trips per major.
 */
import { ALLOWLIST_HEADER, allowlistHeader } from '../../src/install/handler-build.js';
import { loadAllowlist } from '../../src/verify/allowlist.js';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, parseJson, runPlrust, tempDir } from '../helpers/cli.js';
import { PG_CONFIG, giveToServer, startCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { matrixMajors, pgVersion, type VersionedInstallation } from '../helpers/pg-versions.js';
import { tempHome, treeChecksums, treeDiff, type InstallJson } from '../helpers/plrust-install.js';

/** Function name → [CREATE FUNCTION body after the name, calls and their expected text results]. */
const IDENTITIES: Record<string, { body: string; values: string[] }> = {
  bool: { body: 'Ok(x)', values: ['true', 'NULL'] },
  int2: { body: 'Ok(x)', values: ['-32768'] },
  int4: { body: 'Ok(x)', values: ['2147483647', 'NULL'] },
  int8: { body: 'Ok(x)', values: ['-9223372036854775808'] },
  float4: { body: 'Ok(x)', values: ['1.5', `'NaN'`] },
  float8: { body: 'Ok(x)', values: ['-0.5', `'Infinity'`] },
  text: { body: 'Ok(x.map(String::from))', values: [`'héllo ✓'`, `''`, 'NULL'] },
  bytea: { body: 'Ok(x.map(|b| b.to_vec()))', values: [`'\\x00ff10'`] },
  'int4[]': { body: 'Ok(x.map(|v| v.into_iter().collect()))', values: [`'{1,NULL,3}'`, `'{}'`] },
  'text[]': {
    body: 'Ok(x.map(|v| v.into_iter().map(|e| e.map(String::from)).collect()))',
    values: [`'{"a b",NULL,"ü"}'`],
  },
};

const identName = (type: string): string => `ident_${type.replace('[]', '_arr')}`;

const FUNCTIONS = [
  ...Object.entries(IDENTITIES).map(
    ([type, { body }]) =>
      `CREATE FUNCTION ${identName(type)}(x ${type}) RETURNS ${type} LANGUAGE plrust AS $$ ${body} $$;`,
  ),
  `CREATE FUNCTION add(a int4, b int4) RETURNS int4 STRICT LANGUAGE plrust AS $$ Ok(a.checked_add(b)) $$;`,
  `CREATE FUNCTION rev(t text) RETURNS text STRICT LANGUAGE plrust AS $$ Ok(Some(t.chars().rev().collect::<String>())) $$;`,
  `CREATE FUNCTION checked_div(a int8, b int8) RETURNS int8 STRICT LANGUAGE plrust AS $$
    if b == 0 {
        return Err("division by zero is not allowed here".into());
    }
    Ok(Some(a / b))
$$;`,
  `CREATE FUNCTION boom(a int4) RETURNS int4 STRICT LANGUAGE plrust AS $$
    if a > 2 { panic!("boom {}", a); }
    Ok(Some(a))
$$;`,
  `CREATE FUNCTION bottomless(n int8) RETURNS int8 STRICT LANGUAGE plrust AS $$
    fn down(depth: i64) -> i64 {
        let pad = std::hint::black_box([depth; 8]);
        down(depth + 1) + pad[(depth % 8) as usize]
    }
    Ok(Some(down(n)))
$$;`,
  `CREATE FUNCTION spin() RETURNS int4 LANGUAGE plrust AS $$
    loop {}
$$;`,
].join('\n');

/** One SELECT per identity value, each printing 'same' or what differed. */
const IDENTITY_CHECKS = Object.entries(IDENTITIES).flatMap(([type, { values }]) =>
  values.map((v) => {
    const [got, want] = [`${identName(type)}((${v})::${type})::text`, `((${v})::${type})::text`];
    return (
      `SELECT format('%s %s -> %s', '${type}', '${v.replace(/'/g, "''")}', CASE WHEN ${got} IS NOT DISTINCT FROM ${want} ` +
      `THEN 'same' ELSE coalesce(${got}, 'NULL') || ' instead of ' || coalesce(${want}, 'NULL') END);`
    );
  }),
);

/** Every function that returns normally, called once: what a restored or replicated database must still answer. */
const RUN_ALL = `SELECT add(40, 2), add(NULL, 1) IS NULL, rev('abc'), checked_div(7, 2), boom(2);`;
const RUN_ALL_RESULT = '42|t|cba|3|2';

async function assertIdentities(pg: PgCluster, db = 'postgres', settings: Record<string, string> = {}): Promise<void> {
  const lines = (await pg.psql(IDENTITY_CHECKS.join('\n'), { db, settings })).split('\n');
  assert.equal(lines.length, IDENTITY_CHECKS.length);
  for (const line of lines) assert.match(line, / -> same$/, line);
}

/** Blocks until the standby has replayed everything the primary has written so far. */
async function caughtUp(primary: PgCluster, standby: PgCluster): Promise<void> {
  const lsn = await primary.psql('SELECT pg_current_wal_lsn();');
  const deadline = Date.now() + 60_000;
  while ((await standby.psql(`SELECT pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn;`)) !== 't') {
    if (Date.now() > deadline) assert.fail(`the standby did not replay up to ${lsn} within a minute`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** pg_dump -Fc of the host major's database after its tests, for the upgrade tests of the newer majors. */
let dumpFrom15: string | undefined;
const NO_COMPILER = { 'plrust.compiler': '' };
/** One private PLRUST_HOME (with the suite's shared toolchain) for every major's install record. */
let sharedHome: Promise<string> | undefined;

describe('a PostgreSQL major outside 13 to 19', () => {
  for (const version of ['12.22', '20.1']) {
    test(`plrust doctor and plrust install name ${version} and the supported range`, async () => {
      const home = await tempHome('matrix-unsupported', { toolchain: false });
      // The host's own pg_config, reporting another version: everything else about the installation is real.
      const fake = join(tempDir('pg-other'), 'pg_config');
      const script = `#!/bin/sh\n'${PG_CONFIG}' "$@" | sed 's/PostgreSQL [0-9][0-9]*[.0-9]*/PostgreSQL ${version}/'\n`;
      fs.writeFileSync(fake, script, { mode: 0o755 });
      const doctor = await runPlrust(['doctor', '--pg-config', fake, '--json'], { home });
      const finding = parseJson<{ findings: { id: string; status: string; detail: string; fix?: string }[] }>(
        doctor,
      ).findings.find((f) => f.id === 'pg_config');
      assert.equal(finding?.status, 'fail');
      assert.equal(
        finding?.detail,
        `PostgreSQL ${version} (${fake}) is not supported: plrust supports PostgreSQL 13 to 19`,
      );
      assert.match(finding?.fix ?? '', /PostgreSQL 13 to 19 installation/);
      const install = await runPlrust(['install', '--pg-config', fake, '--json'], { home });
      assert.equal(install.code, 2);
      assert.equal(parseJson<{ error: { code: string } }>(install).error.code, 'PG_UNSUPPORTED');
    });
  }
});

for (const major of matrixMajors()) {
  describe(`PL/Rust on PostgreSQL ${major}`, () => {
    let pgi: VersionedInstallation;
    let home: string;
    let install: InstallJson;
    let pg: PgCluster;
    let postmaster: number;
    /** The handler and extension directory, and their state before plrust install. */
    let installed: string[];
    let beforeInstall: Map<string, string>;

    before(async () => {
      sharedHome ??= tempHome('matrix', { toolchain: true });
      [pgi, home] = await Promise.all([pgVersion(major), sharedHome]);
    });

    after(async () => {
      await pg?.stop();
    });

    test('the handler builds against its headers with -Wall -Werror', async () => {
      const dir = join(tempDir(`handler-${major}`), 'handler');
      fs.cpSync(join(REPO_ROOT, 'handler'), dir, { recursive: true });
      // The allowlist header is generated at install time, as buildHandler does.
      fs.writeFileSync(join(dir, ALLOWLIST_HEADER), allowlistHeader(await loadAllowlist()));
      const r = spawnSync('make', ['-C', dir, `PG_CONFIG=${pgi.pgConfig}`, 'COPT=-Wall -Werror'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stdout + r.stderr, /warning:/);
      assert.ok(fs.existsSync(join(dir, 'plrust.so')));
    });

    test('plrust doctor recognises the installation', async () => {
      const r = await runPlrust(['doctor', '--pg-config', pgi.pgConfig, '--json'], { home });
      const { findings } = parseJson<{ findings: { id: string; status: string; detail: string }[] }>(r);
      const byId = new Map(findings.map((f) => [f.id, f]));
      assert.equal(byId.get('pg_config')?.status, 'ok', byId.get('pg_config')?.detail);
      assert.match(byId.get('pg_config')!.detail, new RegExp(`^PostgreSQL ${major}(\\.\\d+|rc\\d+|beta\\d+)? at `));
      assert.equal(byId.get('pgxs')?.status, 'ok', byId.get('pgxs')?.detail);
    });

    test("plrust install puts the handler where the installation's pg_config says", async () => {
      const [pkglibdir, sharedir] = spawnSync(pgi.pgConfig, ['--pkglibdir', '--sharedir'], { encoding: 'utf8' })
        .stdout.trim()
        .split('\n');
      installed = [join(pkglibdir!, 'plrust.so'), join(sharedir!, 'extension')];
      beforeInstall = treeChecksums(installed);
      const r = await runPlrust(['install', '--pg-config', pgi.pgConfig, '--json'], { home, timeoutMs: 5 * 60_000 });
      assert.equal(r.code, 0, r.stderr);
      install = parseJson<InstallJson>(r);
      assert.equal(install.pg.pkglibdir, pkglibdir);
      assert.equal(install.files.find((f) => f.role === 'handler')?.path, installed[0]);
      if (pgi.root) for (const f of install.files) if (f.path) assert.ok(f.path.startsWith(`${pgi.root}/`), f.path);
    });

    test('the server loads it; an unprivileged role creates the extension and its functions', async () => {
      const work = tempDir(`work-${major}`);
      giveToServer(work);
      pg = await startCluster({
        installation: pgi,
        settings: { 'plrust.targets': 'x86_64', 'plrust.work_dir': work },
      });
      postmaster = pg.postmasterPid();
      const [version, pkglibdir] = (
        await pg.psql(
          `SELECT current_setting('server_version_num')::int / 10000;
           SELECT setting FROM pg_config WHERE name = 'PKGLIBDIR';
           CREATE ROLE alice LOGIN; GRANT CREATE ON DATABASE postgres TO alice; GRANT CREATE ON SCHEMA public TO alice;`,
        )
      ).split('\n');
      assert.equal(Number(version), major);
      assert.equal(pkglibdir, install.pg.pkglibdir);
      await pg.psql('CREATE EXTENSION plrust;', { user: 'alice' });
      await pg.psql(FUNCTIONS, { user: 'alice' });
      assert.equal(await pg.psql(RUN_ALL), RUN_ALL_RESULT);
    });

    test('every type goes in and comes out, NULLs included', async () => {
      await assertIdentities(pg);
    });

    test('infinite intervals as the major has them: PostgreSQL 17+ infinity, face-value extremes before', async () => {
      const infinite = major >= 17;
      // The extreme fields: ±infinity from 17 on, a finite interval PostgreSQL prints as numbers before.
      // PostgreSQL 13 and 14 can neither read nor print an hour field this large: there, the values are made by
      // arithmetic and compared by their fields (interval_send's order) rather than by their text.
      const fields = major < 15;
      const text = (x: string): string => (fields ? `encode(interval_send(${x}), 'hex')` : `(${x})::text`);
      const texts = (x: string): string =>
        fields ? `(SELECT string_agg(${text('e')}, ',') FROM unnest(${x}) e)` : `(${x})::text`;
      const hours = `'1 hour'::interval * 2562047788`;
      const [top, bottom] = infinite
        ? [`'infinity'::interval`, `'-infinity'::interval`]
        : [
            `('178956970 years 7 mons 2147483647 days'::interval + ${hours}) + '54.775807 seconds'`,
            `(('-178956970 years -8 mons -1073741824 days'::interval + '-1073741824 days') - ${hours}) + '-54.775808 seconds'`,
          ];
      // Generated ones too (seeded, the seed in the failure message): fields up to 2e9, mixed signs.
      const seed = Date.now() % 2147483646 || 1;
      let state = seed;
      const rand = (): number => (state = (state * 48271) % 2147483647) / 2147483647;
      const big = (): number => Math.floor(10 ** (rand() * 9.3)) * (rand() < 0.5 ? -1 : 1);
      const generated = Array.from({ length: 8 }, () => {
        const [m, d, h] = [big(), big(), big()];
        const [mi, se, us] = [rand() * 60, rand() * 60, rand() * 1e6].map((x) =>
          String(Math.floor(x)).padStart(2, '0'),
        );
        return `'${m} mons ${d} days ${h < 0 ? '-' : ''}${Math.abs(h)}:${mi}:${se}.${us!.padStart(6, '0')}'::interval`;
      });
      const ivs = `ARRAY[${top}, ${bottom}, '1 day 02:00', '-1 mon +2 days', ${hours} + '54.775807 seconds', '-178956970 years -8 mons', '0', ${generated.join(', ')}]`;
      await pg.psql(
        `CREATE FUNCTION iv_probe(ivs interval[], ts timestamp) RETURNS text[] STRICT LANGUAGE plrust AS $$
    const FIELDS: bool = ${fields};
    let text = |v: Interval| if FIELDS {
        format!("{:016x}{:08x}{:08x}", v.micros() as u64, v.days() as u32, v.months() as u32)
    } else {
        v.to_string()
    };
    let show = |r: Option<String>| r.unwrap_or_else(|| "ERR".to_string());
    let mut out = Vec::new();
    for a in ivs.iter().flatten() {
        out.push(Some(format!("{} {} {}", text(a), a.is_infinite(), a.is_finite())));
        out.push(Some(show(ts.checked_add(a).map(|t| t.to_string()))));
        out.push(Some(show(ts.checked_sub(a).map(|t| t.to_string()))));
        out.push(Some(show(Timestamp::INFINITY.checked_add(a).map(|t| t.to_string()))));
        out.push(Some(show(TimestampWithTimeZone::from(ts).checked_sub(a).map(|t| t.to_string()))));
        out.push(Some(show(a.checked_neg().map(text))));
        for b in ivs.iter().flatten() {
            out.push(Some(show(a.checked_add(b).map(text))));
            out.push(Some(show(a.checked_sub(b).map(text))));
        }
    }
    Ok(Some(out))
$$;
CREATE FUNCTION iv_made(a timestamp, b timestamp) RETURNS interval[] STRICT LANGUAGE plrust AS $$
    Ok(Some(vec![Some(Interval::INFINITY), Some(Interval::NEG_INFINITY), Some(a - b)]))
$$;
CREATE FUNCTION iv_attempt(q text, ts timestamp, a interval, b interval) RETURNS text LANGUAGE plpgsql AS $q$
DECLARE r text;
BEGIN
    EXECUTE q INTO r USING ts, a, b;
    RETURN r;
EXCEPTION WHEN OTHERS THEN
    RETURN CASE WHEN SQLSTATE = '22008' THEN 'ERR' ELSE SQLSTATE || ' ' || SQLERRM END;
END $q$;`,
        { user: 'alice' },
      );
      const ops = [
        `${text('$2')} || ' ' || (NOT isfinite($2)) || ' ' || isfinite($2)`,
        '($1 + $2)::text',
        '($1 - $2)::text',
        `('infinity'::timestamp + $2)::text`,
        '($1::timestamptz - $2)::text',
        text('-$2'),
      ];
      const [[got, want]] = (await pg.query(`
        WITH v(i, a) AS (SELECT i, a FROM unnest(${ivs}) WITH ORDINALITY u(a, i))
        SELECT iv_probe(${ivs}, '2024-02-29 12:00'),
          (SELECT array_agg(r ORDER BY a.i, k) FROM v a, LATERAL (
            SELECT k, iv_attempt(q, '2024-02-29 12:00', a.a, NULL)
              FROM unnest(ARRAY[${ops.map((o) => `$o$SELECT ${o}$o$`).join(', ')}]) WITH ORDINALITY o(q, k)
            UNION ALL
            SELECT 10 + b.i * 2 + m, iv_attempt(q, NULL, a.a, b.a) FROM v b, unnest(ARRAY[$o$SELECT ${text('$2 + $3')}$o$, $o$SELECT ${text('$2 - $3')}$o$]) WITH ORDINALITY o(q, m)
          ) x(k, r))`)) as [[string, string]];
      assert.equal(got, want, `seed ${seed}`);
      const first = infinite
        ? 'infinity true false",infinity,-infinity,infinity,-infinity,-infinity,'
        : `${fields ? '7fffffffffffffff7fffffff7fffffff' : '178956970 years 7 mons 2147483647 days 2562047788:00:54.775807'} false true",ERR,`;
      assert.ok(got.startsWith(`{"${first}`), got.slice(0, 300));
      const diffs = [
        ['2024-01-01', '2023-01-01 00:00:00.5'],
        ['infinity', '2023-01-01'],
        ['2023-01-01', 'infinity'],
        ['-infinity', 'infinity'],
        ['infinity', 'infinity'],
      ];
      const rows = await pg.query(
        diffs
          .map(
            ([a, b]) =>
              `SELECT iv_attempt($m$SELECT ${texts(`iv_made('${a}', '${b}')`)}$m$, NULL, NULL, NULL),
                iv_attempt($m$SELECT ${texts(`ARRAY[${top}, ${bottom}, '${a}'::timestamp - '${b}'::timestamp]`)}$m$, NULL, NULL, NULL)`,
          )
          .join(' UNION ALL '),
      );
      assert.equal(rows.length, diffs.length);
      for (const [rust, sql] of rows) assert.equal(rust, sql);
      await pg.psql('DROP FUNCTION iv_probe, iv_made, iv_attempt;', { user: 'alice' });
    });

    test('an Err and a panic raise an ERROR and roll back; the session carries on', async () => {
      await pg.psql('CREATE TABLE rollback_probe (x int); GRANT INSERT, SELECT ON rollback_probe TO alice;');
      const s = await pg.openSession({ user: 'alice' });
      const err = await s.run(`BEGIN; INSERT INTO rollback_probe VALUES (1); SELECT checked_div(1, 0); COMMIT;`);
      assert.match(
        err.stderr,
        /ERROR: {2}division by zero is not allowed here\nCONTEXT: {2}PL\/Rust function "checked_div"\n/,
      );
      const panic = await s.run(`BEGIN; INSERT INTO rollback_probe VALUES (2); SELECT boom(3); COMMIT;`);
      assert.match(
        panic.stderr,
        /ERROR: {2}boom 3\nDETAIL: {2}The function panicked at \S*:2:\d+\.\nCONTEXT: {2}PL\/Rust function "boom"\n/,
      );
      const rest = await s.run('SELECT count(*) FROM rollback_probe; SELECT boom(2), add(20, 22);');
      assert.equal(rest.stderr, '');
      assert.deepEqual(rest.stdout.trim().split('\n'), ['0', '2|42']);
      await s.close();
    });

    test('unbounded recursion and a runaway loop end as ERRORs, not crashes', async () => {
      const s = await pg.openSession({ user: 'alice' });
      const deep = await s.run(`SELECT bottomless(0);`);
      assert.match(
        deep.stderr,
        /ERROR: {2}stack depth limit exceeded\n(.*\n)*CONTEXT: {2}PL\/Rust function "bottomless"\n/,
      );
      const spin = await s.run(`SET statement_timeout = '1s'; SELECT spin();`);
      assert.match(spin.stderr, /ERROR: {2}canceling statement due to statement timeout/);
      assert.equal((await s.run('RESET statement_timeout; SELECT add(1, 1);')).stdout.trim(), '2');
      await s.close();
    });

    test('CREATE OR REPLACE in one session is seen by the next call in another', async () => {
      const other = await pg.openSession({ user: 'alice' });
      assert.equal((await other.run(`SELECT rev('xyz');`)).stdout.trim(), 'zyx');
      await pg.psql(
        `CREATE OR REPLACE FUNCTION rev(t text) RETURNS text STRICT LANGUAGE plrust AS $$ Ok(Some(t.chars().rev().collect::<String>().to_uppercase())) $$;`,
        { user: 'alice' },
      );
      assert.equal((await other.run(`SELECT rev('xyz');`)).stdout.trim(), 'ZYX');
      await other.close();
      await pg.psql(FUNCTIONS.split('\n')[0]!.replace('CREATE FUNCTION', 'CREATE OR REPLACE FUNCTION'));
      await pg.psql(
        `CREATE OR REPLACE FUNCTION rev(t text) RETURNS text STRICT LANGUAGE plrust AS $$ Ok(Some(t.chars().rev().collect::<String>())) $$;`,
        { user: 'alice' },
      );
    });

    test('pg_dump and pg_restore carry the functions; the restored database runs them without a compiler', async () => {
      const dump = join(tempDir(`dump-${major}`), 'plrust.dump');
      giveToServer(join(dump, '..'));
      const dumped = await pg.runProgram('pg_dump', ['-Fc', '-f', dump, '-d', pg.conninfo()]);
      assert.equal(dumped.code, 0, dumped.stderr);
      await pg.psql('CREATE DATABASE restored;');
      const restored = await pg.runProgram('pg_restore', ['-d', pg.conninfo({ db: 'restored' }), dump]);
      assert.equal(restored.code, 0, restored.stderr);
      assert.equal(await pg.psql(RUN_ALL, { db: 'restored', settings: NO_COMPILER }), RUN_ALL_RESULT);
      await assertIdentities(pg, 'restored', NO_COMPILER);
      if (pgi.root === undefined) dumpFrom15 = dump;
    });

    test('a hot standby runs every function without a compiler, sees CREATE OR REPLACE, refuses CREATE', async () => {
      const standby = await startCluster({ installation: pgi, standbyOf: pg, settings: NO_COMPILER });
      try {
        assert.equal(await standby.psql('SELECT pg_is_in_recovery();'), 't');
        assert.equal(await standby.psql(`SHOW plrust.compiler;`), '');
        assert.equal(await standby.psql(RUN_ALL), RUN_ALL_RESULT);
        await assertIdentities(standby);
        const s = await standby.openSession({ user: 'alice' });
        assert.equal((await s.run(`SELECT add(2, 3);`)).stdout.trim(), '5');
        await pg.psql(
          `CREATE OR REPLACE FUNCTION add(a int4, b int4) RETURNS int4 STRICT LANGUAGE plrust AS $$ Ok(a.checked_mul(b)) $$;`,
          { user: 'alice' },
        );
        await caughtUp(pg, standby);
        assert.equal((await s.run(`SELECT add(2, 3);`)).stdout.trim(), '6');
        // Created unchecked on the primary: no library yet, and the standby cannot make one.
        await pg.psql(`CREATE FUNCTION later() RETURNS int4 LANGUAGE plrust AS $$ Ok(Some(7)) $$;`, {
          user: 'alice',
          settings: { check_function_bodies: 'off' },
        });
        await caughtUp(pg, standby);
        const none = await s.run(`SELECT later();`);
        assert.match(
          none.stderr,
          /ERROR: {2}no compiled library for x86_64\n(.*\n)*DETAIL: .*plrust\.compiler is not set\.\n(.*\n)*CONTEXT: {2}PL\/Rust function "later"/,
        );
        // The primary's first call compiles and stores it; the standby's next call runs it.
        assert.equal(await pg.psql(`SELECT later();`, { user: 'alice' }), '7');
        await caughtUp(pg, standby);
        assert.equal((await s.run(`SELECT later();`)).stdout.trim(), '7');
        const created = await s.run(`CREATE FUNCTION on_standby() RETURNS int4 LANGUAGE plrust AS $$ Ok(Some(1)) $$;`);
        assert.match(created.stderr, /ERROR: {2}cannot execute CREATE FUNCTION in a read-only transaction/);
        await s.close();
        assert.doesNotMatch(standby.logText(), /terminated by signal|server process .* was terminated/);
      } finally {
        await standby.stop();
        await pg.psql(
          `CREATE OR REPLACE FUNCTION add(a int4, b int4) RETURNS int4 STRICT LANGUAGE plrust AS $$ Ok(a.checked_add(b)) $$;`,
          { user: 'alice' },
        );
      }
    });

    if (major === 17 || major === 18) {
      test('a database dumped from PostgreSQL 15 restores and runs: stored artifacts, or a recompile where the ABI differs', async (t) => {
        if (!dumpFrom15) return t.skip('PostgreSQL 15 is not part of this run (PLRUST_TEST_PG_MAJORS)');
        await pg.psql('CREATE DATABASE from15;');
        const restored = await pg.runProgram('pg_restore', ['-d', pg.conninfo({ db: 'from15' }), dumpFrom15]);
        assert.equal(restored.code, 0, restored.stderr);
        assert.equal(await pg.psql(RUN_ALL, { db: 'from15', settings: NO_COMPILER }), RUN_ALL_RESULT);
        await assertIdentities(pg, 'from15', NO_COMPILER);
        // An artifact whose ABI version the handler does not speak is compiled again, and replaced.
        const stale = `UPDATE plrust.artifacts SET abi_version = abi_version + 1000
                        WHERE definition_hash = plrust.definition_hash('rev(text)');`;
        await pg.psql(stale, { db: 'from15' });
        const without = await pg.psqlResult(`SELECT rev('abc');`, { db: 'from15', settings: NO_COMPILER });
        assert.match(
          without.stderr,
          /ERROR: {2}the artifact of PL\/Rust function "rev" was built for ABI version \d+, this handler speaks version \d+/,
        );
        assert.equal(await pg.psql(`SELECT rev('abc');`, { db: 'from15' }), 'cba');
        assert.equal(
          await pg.psql(
            `SELECT count(*) FROM plrust.artifacts WHERE definition_hash = plrust.definition_hash('rev(text)')
               AND abi_version > 1000;`,
            { db: 'from15' },
          ),
          '0',
        );
      });
    }

    test('plrust sandbox --pg-config runs a PL/Rust function in a throwaway cluster of this major', async () => {
      const work = tempDir(`sandbox-${major}`);
      fs.writeFileSync(
        join(work, 'first.sql'),
        `CREATE FUNCTION sandbox_add(a int, b int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(a + b)) $$;
SELECT sandbox_add(20, 22) AS answer, current_setting('server_version_num')::int / 10000 AS major;\n`,
      );
      const sandbox = (args: string[]) =>
        runPlrust(['sandbox', ...args, '--pg-config', pgi.pgConfig], { home, cwd: work, timeoutMs: 5 * 60_000 });
      try {
        const r = await sandbox(['run', 'first.sql', '--json']);
        assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
        const doc = parseJson<{ results: { output: string }[] }>(r);
        assert.match(doc.results[0]!.output, new RegExp(`^ +42 \\| +${major}$`, 'm'));
      } finally {
        const destroyed = await sandbox(['destroy']);
        assert.equal(destroyed.code, 0, destroyed.stderr);
      }
    });

    test('no function took the server down; plrust uninstall puts back what was there before install', async () => {
      assert.equal(pg.postmasterPid(), postmaster);
      assert.doesNotMatch(pg.logText(), /terminated by signal|server process .* was terminated/);
      await pg.stop();
      const r = await runPlrust(['uninstall', '--pg-config', pgi.pgConfig, '--json'], { home, timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(treeDiff(beforeInstall, treeChecksums(installed)), []);
    });
  });
}
