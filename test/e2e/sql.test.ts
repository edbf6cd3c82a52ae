/**
 * PL/Rust as its users see it: a real PostgreSQL 15 cluster with plrust put
 * in place by the real `plrust install`, functions created with CREATE
 * FUNCTION … LANGUAGE plrust (upstream PL/Rust's body semantics), compiled
 * by the server through `plrust compile` with the suite's shared toolchain.
 *
 * Most databases compile for x86_64 only (plrust.targets) to halve the
 * compile time; the examples database keeps the default, both targets.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, runPlrust, tempDir } from '../helpers/cli.js';
import { startCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { installPlrust, tempHome, uninstallPlrust } from '../helpers/plrust-install.js';

interface TypeCase {
  sql: string;
  /** The Rust type of a result (arguments are borrowed for text and bytea). */
  rust: string;
  /** Non-NULL SQL literals; the first three are used. */
  values: [string, string, string];
}

const TYPES: TypeCase[] = [
  { sql: 'bool', rust: 'bool', values: ['true', 'false', 'true'] },
  { sql: 'int2', rust: 'i16', values: ["'-32768'", '32767', '0'] },
  { sql: 'int4', rust: 'i32', values: ["'-2147483648'", '2147483647', '7'] },
  { sql: 'int8', rust: 'i64', values: ["'-9223372036854775808'", '9223372036854775807', "'-1'"] },
  { sql: 'float4', rust: 'f32', values: ["'-3.4028235e+38'", "'NaN'", "'Infinity'"] },
  { sql: 'float8', rust: 'f64', values: ["'4.9e-324'", "'-Infinity'", "'1.7976931348623157e+308'"] },
  { sql: 'text', rust: 'String', values: [`'héllo, wörld ✓ 🦀'`, `''`, `'it''s "quoted"\\n'`] },
  { sql: 'varchar', rust: 'String', values: [`'plain'`, `''`, `'ünïcödé'`] },
  { sql: 'bytea', rust: 'Vec<u8>', values: [`'\\x00ff7f'`, `'\\x'`, `'\\x0a'`] },
];

/** STRICT, scalar and array in, array out: the array followed by the scalar. */
function echoFunction(t: TypeCase): string {
  return `CREATE FUNCTION echo_${t.sql}(x ${t.sql}, xs ${t.sql}[]) RETURNS ${t.sql}[] STRICT LANGUAGE plrust AS $$
    let mut v: Vec<Option<${t.rust}>> = xs.into_iter().map(|e| e.map(<${t.rust}>::from)).collect();
    v.push(Some(<${t.rust}>::from(x)));
    Ok(Some(v))
$$;`;
}

/** Not STRICT, scalar out: x, else the first non-NULL element of xs, else NULL. */
function pickFunction(t: TypeCase): string {
  return `CREATE FUNCTION pick_${t.sql}(x ${t.sql}, xs ${t.sql}[]) RETURNS ${t.sql} LANGUAGE plrust AS $$
    Ok(x.or_else(|| xs.and_then(|v| v.into_iter().flatten().next())).map(<${t.rust}>::from))
$$;`;
}

const ALL_ARGS =
  'b bool, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, t text, vc varchar, by bytea, ab bool[], ai2 int2[], ai4 int4[], ai8 int8[], af4 float4[], af8 float8[], at text[], avc varchar[], aby bytea[]';
const DEBUG_ALL =
  '{b:?}|{i2:?}|{i4:?}|{i8:?}|{f4:?}|{f8:?}|{t:?}|{vc:?}|{by:?}|{ab:?}|{ai2:?}|{ai4:?}|{ai8:?}|{af4:?}|{af8:?}|{at:?}|{avc:?}|{aby:?}';
/** Rust's own view of every argument (its Debug text), independent of the result conversions. */
const DESCRIBE_FUNCTIONS = `
CREATE FUNCTION describe_all(${ALL_ARGS}) RETURNS text LANGUAGE plrust AS $$
    Ok(Some(format!("${DEBUG_ALL}")))
$$;
CREATE FUNCTION describe_all_strict(${ALL_ARGS}) RETURNS text STRICT LANGUAGE plrust AS $$
    Ok(Some(format!("${DEBUG_ALL}")))
$$;`;
const DESCRIBE_VALUES = `true, '-32768'::int2, 2147483647, '-9223372036854775808'::int8, 1.5::float4, '-0.25'::float8, E'h\\u00e9llo "q"\\n', 'v', '\\x00ff',
  '{t,NULL,f}', '{1,NULL}', '{}', '{NULL}', '{2.5}', '{NaN,NULL}', '{a,NULL,"b c"}', '{""}', '{"\\\\x01",NULL}'`;
const DESCRIBED = [
  'true',
  '-32768',
  '2147483647',
  '-9223372036854775808',
  '1.5',
  '-0.25',
  '"héllo \\"q\\"\\n"',
  '"v"',
  '[0, 255]',
  '[Some(true), None, Some(false)]',
  '[Some(1), None]',
  '[]',
  '[None]',
  '[Some(2.5)]',
  '[Some(NaN), None]',
  '[Some("a"), None, Some("b c")]',
  '[Some("")]',
  '[Some([1]), None]',
];

const OTHER_FUNCTIONS = `
CREATE FUNCTION touch(a int) RETURNS void STRICT LANGUAGE plrust AS $$
    if a < 0 {
        return Err("negative input".into());
    }
    Ok(Some(()))
$$;
CREATE FUNCTION require_value(a int) RETURNS void LANGUAGE plrust AS $$
    match a {
        None => Err("got a NULL argument".into()),
        Some(_) => Ok(None),
    }
$$;
CREATE FUNCTION fail_err(a int) RETURNS int STRICT LANGUAGE plrust AS $$
    if a < 0 {
        return Err(format!("negative input {a}").into());
    }
    Ok(Some(a * 2))
$$;
CREATE FUNCTION fail_panic(a int) RETURNS int STRICT LANGUAGE plrust AS $$
    let items = vec![10, 20, 30];
    if a > 100 {
        panic!("too big: {a}");
    }
    Ok(Some(items[a as usize]))
$$;
CREATE FUNCTION add(a int, b int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(a + b)) $$;
CREATE TABLE ledger (id int);`;

function lit(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

describe('PL/Rust functions in PostgreSQL 15, installed by plrust install', () => {
  let home: string;
  let pg: PgCluster;

  before(async () => {
    home = await tempHome('sql', { toolchain: true });
    await installPlrust(home);
    pg = await startCluster();
    await pg.psql(`ALTER DATABASE postgres SET plrust.targets = 'x86_64'; CREATE EXTENSION plrust;`);
    await pg.psql(
      TYPES.map((t) => `${echoFunction(t)}\n${pickFunction(t)}`).join('\n') + DESCRIBE_FUNCTIONS + OTHER_FUNCTIONS,
    );
  });

  after(async () => {
    await pg?.stop();
    if (home) await uninstallPlrust(home);
  });

  describe('every supported type in and out', () => {
    for (const t of TYPES) {
      test(`${t.sql}: STRICT function, scalar and array (with NULL elements) in, array out`, async () => {
        const [a, b, c] = t.values.map((v) => `${v}::${t.sql}`);
        const xs = `ARRAY[${b}, NULL, ${c}]::${t.sql}[]`;
        const [row] = await pg.query(
          `SELECT format('%L', echo_${t.sql}(${a}, ${xs})), format('%L', ${xs} || ${a}),
                  format('%L', echo_${t.sql}(${a}, '{}')), format('%L', ARRAY[${a}]),
                  echo_${t.sql}(NULL, ${xs}) IS NULL, echo_${t.sql}(${a}, NULL) IS NULL`,
        );
        assert.equal(row![0], row![1], 'the array comes back with its NULL element and the scalar appended');
        assert.equal(row![2], row![3], 'an empty array in');
        assert.deepEqual(row!.slice(4), ['t', 't'], 'a NULL argument of a STRICT function gives NULL');
      });

      test(`${t.sql}: non-STRICT function, NULL scalar and arrays in, scalar or NULL out`, async () => {
        const [a, b] = t.values.map((v) => `${v}::${t.sql}`);
        const [row] = await pg.query(
          `SELECT format('%L', pick_${t.sql}(${a}, NULL)), format('%L', ${a}),
                  format('%L', pick_${t.sql}(NULL, ARRAY[NULL, ${b}]::${t.sql}[])), format('%L', ${b}),
                  format('%L', pick_${t.sql}(NULL, NULL)), format('%L', pick_${t.sql}(NULL, '{}')),
                  format('%L', pick_${t.sql}(NULL, ARRAY[NULL]::${t.sql}[]))`,
        );
        assert.equal(row![0], row![1], 'the scalar argument comes back');
        assert.equal(row![2], row![3], 'the first non-NULL array element comes back');
        assert.deepEqual(row!.slice(4), ['NULL', 'NULL', 'NULL'], 'NULL in, NULL out');
      });
    }

    test('the function sees every argument as upstream PL/Rust types it (Option<T> unless STRICT)', async () => {
      const [strict, lax, allNull, strictNull] = (
        await pg.query(
          `SELECT describe_all_strict(${DESCRIBE_VALUES}), describe_all(${DESCRIBE_VALUES}),
                  describe_all(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
                  describe_all_strict(${DESCRIBE_VALUES.replace("'v'", 'NULL')}) IS NULL`,
        )
      )[0]!;
      assert.deepEqual(strict!.split('|'), DESCRIBED);
      assert.deepEqual(
        lax!.split('|'),
        DESCRIBED.map((d) => `Some(${d})`),
      );
      assert.deepEqual(
        allNull!.split('|'),
        DESCRIBED.map(() => 'None'),
      );
      assert.equal(strictNull, 't');
    });

    test('void results, STRICT and not', async () => {
      assert.deepEqual(
        await pg.query(`SELECT pg_typeof(touch(1))::text, touch(NULL) IS NULL, pg_typeof(require_value(5))::text`),
        [['void', 't', 'void']],
      );
      const err = await pg.psqlResult('SELECT require_value(NULL);');
      assert.match(
        err.stderr,
        /ERROR: {2}got a NULL argument\nCONTEXT: {2}PL\/Rust function "require_value"\n/,
        'the non-STRICT void function received the NULL',
      );
      assert.match(
        (await pg.psqlResult('SELECT touch(-1);')).stderr,
        /ERROR: {2}negative input\nCONTEXT: {2}PL\/Rust function "touch"\n/,
      );
    });
  });

  describe('errors roll back the transaction and the session goes on', () => {
    for (const kind of ['Err', 'panic'] as const) {
      test(`an ${kind}`, async () => {
        const s = await pg.openSession();
        try {
          const pid = (await s.run('SELECT pg_backend_pid();')).stdout.trim();
          await s.run('TRUNCATE ledger;');
          const call = kind === 'Err' ? 'fail_err(-5)' : 'fail_panic(7)';
          const failed = await s.run(`BEGIN; INSERT INTO ledger VALUES (1); SELECT ${call};`);
          if (kind === 'Err') {
            assert.match(failed.stderr, /ERROR: +negative input -5\nCONTEXT: +PL\/Rust function "fail_err"\n/);
          } else {
            assert.match(failed.stderr, /ERROR: +index out of bounds: the len is 3 but the index is 7\n/);
            // The location is the user's: line 6 of the body (line 1 is the empty rest of the $$ line).
            assert.match(
              failed.stderr,
              /DETAIL: +The function panicked at \S*:6:\d+\.\nCONTEXT: +PL\/Rust function "fail_panic"\n/,
            );
          }
          await s.run('COMMIT;');
          assert.equal((await s.run('SELECT count(*) FROM ledger;')).stdout.trim(), '0', 'the INSERT was rolled back');
          const again = await s.run('SELECT fail_err(21), fail_panic(2);');
          assert.equal(again.stdout.trim(), '42|30', again.stderr);
          const explicit = await s.run('SELECT fail_panic(101);');
          assert.match(explicit.stderr, /ERROR: +too big: 101\nDETAIL: +The function panicked at \S*:4:\d+\./);
          assert.equal(
            (await s.run('SELECT pg_backend_pid();')).stdout.trim(),
            pid,
            'the same backend still serves the session',
          );
          assert.equal(s.closed, false);
        } finally {
          await s.close();
        }
      });
    }
  });

  test('100,000 calls in one statement', async () => {
    assert.deepEqual(await pg.query('SELECT sum(add(i, 1)), count(*) FROM generate_series(1, 100000) i'), [
      ['5000150000', '100000'],
    ]);
  });

  test('CREATE OR REPLACE is seen by an already-open session on its next call, and leaves no stale artifact', async () => {
    await pg.psql(
      `CREATE FUNCTION which() RETURNS text STRICT LANGUAGE plrust AS $$ Ok(Some("first".to_string())) $$;`,
    );
    const other = await pg.openSession();
    try {
      assert.equal((await other.run('SELECT which();')).stdout.trim(), 'first');
      const oldHash = await pg.psql(`SELECT plrust.definition_hash('which()')`);
      await pg.psql(
        `CREATE OR REPLACE FUNCTION which() RETURNS text STRICT LANGUAGE plrust AS $$ Ok(Some("second".to_string())) $$;`,
      );
      const next = await other.run('SELECT which();');
      assert.equal(next.stdout.trim(), 'second', next.stderr);
      assert.equal(await pg.psql(`SELECT count(*) FROM plrust.artifacts WHERE definition_hash = ${lit(oldHash)}`), '0');
    } finally {
      await other.close();
    }
  });

  test('DROP FUNCTION leaves no artifact behind, and keeps those another function still uses', async () => {
    const body = 'Ok(Some(a * 3))';
    await pg.psql(
      `CREATE FUNCTION drop_me(a int) RETURNS int STRICT LANGUAGE plrust AS $$${body}$$;
       CREATE FUNCTION twin_a(a int) RETURNS int STRICT LANGUAGE plrust AS $$${body} // twin$$;
       CREATE FUNCTION twin_b(a int) RETURNS int STRICT LANGUAGE plrust AS $$${body} // twin$$;`,
    );
    const dropHash = await pg.psql(`SELECT plrust.definition_hash('drop_me(int)')`);
    const twinHash = await pg.psql(`SELECT plrust.definition_hash('twin_a(int)')`);
    const count = (h: string) => pg.psql(`SELECT count(*) FROM plrust.artifacts WHERE definition_hash = ${lit(h)}`);
    assert.equal(await count(dropHash), '1', 'one x86_64 artifact before DROP');
    await pg.psql('DROP FUNCTION drop_me(int); DROP FUNCTION twin_a(int);');
    assert.equal(await count(dropHash), '0');
    assert.equal(await count(twinHash), '1', 'twin_b has the same definition and still needs it');
    assert.equal(await pg.psql('SELECT twin_b(5)'), '15');
  });

  test('an unprivileged role (CREATE on the database only) creates the extension, then creates and calls a function', async () => {
    await pg.psql(
      `CREATE ROLE carol LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
       CREATE DATABASE carols;
       ALTER DATABASE carols SET plrust.targets = 'x86_64';
       GRANT CREATE ON DATABASE carols TO carol;`,
    );
    const asCarol = { db: 'carols', user: 'carol' };
    assert.equal(await pg.psql('SELECT rolsuper FROM pg_roles WHERE rolname = current_user', asCarol), 'f');
    await pg.psql(
      `CREATE EXTENSION plrust;
       CREATE SCHEMA carol;
       CREATE FUNCTION carol.shout(s text) RETURNS text STRICT LANGUAGE plrust AS $$ Ok(Some(s.to_uppercase())) $$;`,
      asCarol,
    );
    assert.equal(await pg.psql(`SELECT carol.shout('quiet')`, asCarol), 'QUIET');
    // Trusted language, superuser-owned artifacts: the function's creator cannot swap its native code.
    const write = await pg.psqlResult('DELETE FROM plrust.artifacts;', asCarol);
    assert.match(write.stderr, /permission denied for table artifacts/);
  });

  test('ALTER FUNCTION may not change STRICT of a PL/Rust function; every other ALTER goes through', async () => {
    const asCarol = { db: 'carols', user: 'carol' };
    const refused = await pg.psqlResult(
      `\\set VERBOSITY verbose
       ALTER FUNCTION carol.shout(text) CALLED ON NULL INPUT;`,
      asCarol,
    );
    assert.match(refused.stderr, /ERROR: {2}0A000: cannot change the strictness of PL\/Rust function carol\.shout\n/);
    assert.match(refused.stderr, /HINT: {2}Use CREATE OR REPLACE FUNCTION/);
    // Spelled the other way, and through ALTER ROUTINE: refused as well.
    for (const alter of [
      'ALTER FUNCTION carol.shout(text) RETURNS NULL ON NULL INPUT CALLED ON NULL INPUT',
      'ALTER ROUTINE carol.shout CALLED ON NULL INPUT',
    ]) {
      assert.match((await pg.psqlResult(`${alter};`, asCarol)).stderr, /cannot change the strictness/, alter);
    }
    assert.equal(
      await pg.psql(`SELECT proisstrict FROM pg_proc WHERE oid = 'carol.shout(text)'::regprocedure`, asCarol),
      't',
    );
    await pg.psql(
      `ALTER FUNCTION carol.shout(text) STRICT COST 7;
       ALTER FUNCTION carol.shout(text) RENAME TO yell;`,
      asCarol,
    );
    assert.equal(await pg.psql(`SELECT carol.yell('again')`, asCarol), 'AGAIN');
    await pg.psql(`ALTER FUNCTION carol.yell(text) RENAME TO shout`, asCarol);
    // Functions of other languages are not the trigger's business.
    await pg.psql(
      `CREATE FUNCTION carol.plain(t text) RETURNS text STRICT LANGUAGE sql AS 'SELECT t';
       ALTER FUNCTION carol.plain(text) CALLED ON NULL INPUT;`,
      asCarol,
    );
    assert.equal(
      await pg.psql(`SELECT proisstrict FROM pg_proc WHERE oid = 'carol.plain(text)'::regprocedure`, asCarol),
      'f',
    );
  });

  test("a compile error's DETAIL gives the user's line within the body", async () => {
    const rustc = await pg.psqlResult(`CREATE FUNCTION broken(a int) RETURNS int STRICT LANGUAGE plrust AS $$
    let x: i32 = a;
    let y: i32 = "not a number";
    Ok(Some(x + y))
$$;`);
    assert.notEqual(rustc.code, 0);
    assert.match(rustc.stderr, /ERROR: .*broken.*does not compile/);
    assert.match(rustc.stderr, /DETAIL: +line 3:\d+: mismatched types/);
    const checker = await pg.psqlResult(`CREATE FUNCTION sneaky(a int) RETURNS int STRICT LANGUAGE plrust AS $$
    let x = a;

    let secret = include_str!("/etc/passwd");
    Ok(Some(x))
$$;`);
    assert.match(checker.stderr, /DETAIL: +line 4:\d+: forbidden-macro/);
    assert.equal(
      await pg.psql(`SELECT count(*) FROM pg_proc WHERE proname IN ('broken', 'sneaky')`),
      '0',
      'neither function was created',
    );
  });

  test('pg_dump restored into a second database runs the functions without compiling', async () => {
    await pg.psql(`CREATE DATABASE dumped; ALTER DATABASE dumped SET plrust.targets = 'x86_64';`);
    await pg.psql(
      `CREATE EXTENSION plrust;
       CREATE FUNCTION mul(a int8, b int8) RETURNS int8 STRICT LANGUAGE plrust AS $$ Ok(Some(a * b)) $$;
       CREATE FUNCTION initials(names text[]) RETURNS text STRICT LANGUAGE plrust AS $$
           Ok(Some(names.iter().flatten().filter_map(|n| n.chars().next()).collect()))
       $$;`,
      { db: 'dumped' },
    );
    const dump = await pg.runProgram('pg_dump', ['-d', pg.conninfo({ db: 'dumped' })]);
    assert.equal(dump.code, 0, dump.stderr);
    // No compiler for the restored database: any compilation there would fail.
    await pg.psql(`CREATE DATABASE restored; ALTER DATABASE restored SET plrust.compiler = '';`);
    const restore = await pg.psqlResult(dump.stdout, { db: 'restored' });
    assert.equal(restore.code, 0, restore.stderr);
    assert.deepEqual(await pg.query(`SELECT mul(6, 7), initials('{Ada,NULL,Lovelace}')`, { db: 'restored' }), [
      ['42', 'AL'],
    ]);
    const compile = await pg.psqlResult(
      `CREATE FUNCTION fresh(a int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(a)) $$;`,
      { db: 'restored' },
    );
    assert.match(compile.stderr, /plrust\.compiler is not set/, 'the database really has no compiler');
  });

  test('the functions in examples/, built by plrust build, give the expected results', async () => {
    const work = tempDir('sql-examples');
    const build = await runPlrust(
      ['build', path.join(REPO_ROOT, 'examples', 'math.rs'), path.join(REPO_ROOT, 'examples', 'strings.sql')],
      { home, cwd: work, timeoutMs: 5 * 60_000 },
    );
    assert.equal(build.code, 0, build.stderr);
    const functionsSql = fs.readFileSync(path.join(work, 'target', 'plrust', 'functions.sql'), 'utf8');
    // Default targets here: every function is compiled by the server for both architectures.
    await pg.psql('CREATE DATABASE examples');
    const db = { db: 'examples' };
    await pg.psql(`CREATE EXTENSION plrust;\n${functionsSql}`, db);
    const row = async (sql: string) => (await pg.query(`SELECT ${sql}`, db))[0];
    assert.deepEqual(await row(`add_ints(1, 2), greet('world'), greet(NULL), reverse_text('PL/Rust')`), [
      '3',
      'hello, world',
      'hello, stranger',
      'tsuR/LP',
    ]);
    assert.deepEqual(await row(`sum_array(ARRAY[1, 2, NULL, 40]), parse_int(' 42 '), checked_div(10, 3)`), [
      '43',
      '42',
      '3',
    ]);
    assert.deepEqual(
      await row(
        `hypotenuse(3, 4), array_mean(ARRAY[1.5, NULL, 2.5]::float8[]), is_even(NULL) IS NULL, is_even(10), is_even(7)`,
      ),
      ['5', '2', 't', 't', 'f'],
    );
    assert.deepEqual(await row(`fizzbuzz(15), xor_bytes('\\x0102'::bytea, 255::int2), array_mean('{}') IS NULL`), [
      '{1,2,Fizz,4,Buzz,Fizz,7,8,Fizz,Buzz,11,Fizz,13,14,FizzBuzz}',
      '\\xfefd',
      't',
    ]);
    const failures: Array<[string, string]> = [
      ['checked_div(1, 0)', 'division by zero is not allowed here'],
      ['parse_int($$x$$)', 'invalid digit found in string'],
      ['fizzbuzz(-1)', 'n must be between 0 and 10000, got -1'],
    ];
    for (const [call, message] of failures) {
      const r = await pg.psqlResult(`SELECT ${call};`, db);
      const name = call.slice(0, call.indexOf('('));
      assert.ok(
        r.stderr.includes(`ERROR:  ${message}\nCONTEXT:  PL/Rust function "${name}"\n`),
        `${call}: ${r.stderr}`,
      );
    }
    const perFunction = await pg.query(
      `SELECT p.proname, string_agg(a.arch, ',' ORDER BY a.arch) FROM pg_proc p
         JOIN pg_language l ON l.oid = p.prolang AND l.lanname = 'plrust'
         LEFT JOIN plrust.artifacts a ON a.definition_hash = plrust.definition_hash(p.oid::regprocedure)
        GROUP BY p.proname ORDER BY p.proname`,
      db,
    );
    assert.equal(perFunction.length, 11);
    for (const [name, arches] of perFunction) assert.equal(arches, 'aarch64,x86_64', name);
  });
});
