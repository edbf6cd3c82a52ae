/**
 * Queries and logging from function code (docs/SPI.md, docs/LOGGING.md),
 * written as upstream PL/Rust writes them, on a real PostgreSQL 15 with
 * plrust installed by `plrust install`: one cluster, functions created once.
 * Each feature is also attacked as an unprivileged role would attack it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { installPlrust, tempHome, uninstallPlrust } from '../helpers/plrust-install.js';

const FUNCTIONS = `
CREATE TABLE items (id int PRIMARY KEY, name text, price float8, tags text[]);
INSERT INTO items VALUES (1, 'apple', 0.5, '{fruit,red}'), (2, 'bread', 2.25, NULL), (3, NULL, 1, '{}');
CREATE TABLE secrets (s text);
INSERT INTO secrets VALUES ('hidden');
CREATE TABLE audit (msg text);
GRANT SELECT, INSERT ON items, audit TO PUBLIC;

CREATE FUNCTION count_items() RETURNS bigint STRICT LANGUAGE plrust AS $$
    Ok(Spi::get_one("SELECT count(*) FROM items")?)
$$;
CREATE FUNCTION item_name(id int) RETURNS text STRICT LANGUAGE plrust AS $$
    Ok(Spi::get_one_with_args(
        "SELECT name FROM items WHERE id = $1",
        vec![(PgBuiltInOids::INT4OID.oid(), id.into_datum())],
    )?)
$$;
CREATE FUNCTION item_summary() RETURNS text STRICT LANGUAGE plrust AS $$
    let (n, total): (Option<i64>, Option<f64>) = Spi::get_two("SELECT count(*), sum(price) FROM items")?;
    let (a, b, c) = Spi::get_three::<i32, String, Vec<Option<String>>>("SELECT id, name, tags FROM items ORDER BY id LIMIT 1")?;
    Ok(Some(format!("{n:?} {total:?} {a:?} {b:?} {c:?}")))
$$;
CREATE FUNCTION list_items() RETURNS text STRICT LANGUAGE plrust AS $$
    let mut out = Vec::new();
    Spi::connect(|client| {
        let table = client.select("SELECT id, name, price FROM items ORDER BY id", None, None)?;
        for row in table {
            let id = row["id"].value::<i32>()?;
            let name: Option<String> = row.get_by_name("name")?;
            let price = row.get::<f64>(3)?;
            out.push(format!("{id:?}:{name:?}:{price:?}"));
        }
        Ok::<_, pgrx::spi::SpiError>(())
    })?;
    Ok(Some(out.join(",")))
$$;
CREATE FUNCTION add_item(id int, name text) RETURNS bigint STRICT LANGUAGE plrust AS $$
    Spi::run_with_args(
        "INSERT INTO items (id, name) VALUES ($1, $2)",
        Some(vec![(PgBuiltInOids::INT4OID.oid(), id.into_datum()), (PgBuiltInOids::TEXTOID.oid(), name.into_datum())]),
    )?;
    Spi::connect(|mut client| {
        client.update("INSERT INTO audit VALUES ('added ' || $1)", None, Some(vec![(PgBuiltInOids::TEXTOID.oid(), name.into_datum())]))?;
        let t = client.select("SELECT count(*) FROM items", None, None)?.first();
        t.get_one::<i64>()
    }).map_err(|e| e.into())
$$;
CREATE FUNCTION query_text(q text) RETURNS text STRICT LANGUAGE plrust AS $$
    match Spi::get_one::<String>(q) {
        Ok(v) => Ok(v),
        Err(e) => Ok(Some(format!("caught {}: {e}", e.sqlstate().unwrap_or("-")))),
    }
$$;
CREATE FUNCTION query_propagate(q text) RETURNS text STRICT LANGUAGE plrust AS $$
    Spi::run(q)?;
    Ok(Some("done".to_string()))
$$;
CREATE FUNCTION write_stable(q text) RETURNS text STRICT STABLE LANGUAGE plrust AS $$
    Spi::run(q)?;
    Ok(Some("wrote".to_string()))
$$;
CREATE FUNCTION write_immutable_caught() RETURNS text STRICT IMMUTABLE LANGUAGE plrust AS $$
    Ok(Some(match Spi::run("INSERT INTO audit VALUES ('immutable')") {
        Ok(()) => "wrote".to_string(),
        Err(e) => format!("refused {}", e.sqlstate().unwrap_or("-")),
    }))
$$;
CREATE FUNCTION retry_after_error() RETURNS text STRICT LANGUAGE plrust AS $$
    let first = Spi::run("INSERT INTO items (id) VALUES (1)");
    Spi::run("INSERT INTO audit VALUES ('after a failed insert')")?;
    let n: Option<i64> = Spi::get_one("SELECT count(*) FROM audit WHERE msg = 'after a failed insert'")?;
    Ok(Some(format!("{} {n:?}", first.err().and_then(|e| e.sqlstate().map(String::from)).unwrap_or_default())))
$$;
CREATE FUNCTION sum_many(n int) RETURNS text STRICT LANGUAGE plrust AS $$
    let mut sum = 0i64;
    let mut rows = 0usize;
    Spi::connect(|client| {
        let table = client.select("SELECT i::int8 AS i, repeat('x', 10) AS pad FROM generate_series(1, $1) i", None,
            Some(vec![(PgBuiltInOids::INT4OID.oid(), n.into_datum())]))?;
        for row in table {
            sum += row.get::<i64>(1)?.unwrap_or(0);
            rows += 1;
        }
        Ok::<_, SpiError>(())
    })?;
    Ok(Some(format!("{rows} {sum}")))
$$;
CREATE FUNCTION ignore_errors(q text) RETURNS text STRICT LANGUAGE plrust AS $$
    let mut seen = String::new();
    for _ in 0..3 {
        if let Err(e) = Spi::run(q) {
            seen = e.sqlstate().unwrap_or("-").to_string();
        }
    }
    Ok(Some(seen))
$$;
CREATE FUNCTION inet_text() RETURNS text STRICT LANGUAGE plrust AS $$
    let s: Option<String> = Spi::get_one_with_args("SELECT set_masklen($1::inet, 16)", vec![(pgrx::prelude::PgBuiltInOids::TEXTOID.oid(), "10.1.2.3".into_datum())])?;
    Ok(s)
$$;
CREATE FUNCTION typed_values(n numeric, d date) RETURNS text STRICT LANGUAGE plrust AS $$
    fn s<T: std::fmt::Display>(v: Option<T>) -> String {
        v.map_or("NULL".to_string(), |v| v.to_string())
    }
    fn all<T: std::fmt::Display>(v: Option<Vec<Option<T>>>) -> String {
        v.map_or("NULL".to_string(), |v| v.into_iter().map(s).collect::<Vec<_>>().join(","))
    }
    let one = Spi::get_one::<AnyNumeric>("SELECT 1.5::numeric")?;
    let doubled: Option<AnyNumeric> = Spi::get_one_with_args(
        "SELECT $1 * 2",
        vec![(PgBuiltInOids::NUMERICOID.oid(), n.clone().into_datum())],
    )?;
    let (next, j, r) = Spi::get_three_with_args::<Date, JsonB, Range<i32>>(
        "SELECT $1 + 1, jsonb_build_object('d', $1), int4range(1, 5, '[]')",
        vec![(PgBuiltInOids::DATEOID.oid(), d.into_datum())],
    )?;
    let (u, ts) = Spi::get_two::<Uuid, TimestampWithTimeZone>(
        "SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, '2024-01-02 03:04:05.5+00'::timestamptz",
    )?;
    let (c, i, o) = Spi::get_three::<i8, Interval, pg_sys::Oid>("SELECT relkind, '1 day 2 hours'::interval, oid FROM pg_class WHERE relname = 'pg_class'")?;
    let dates = Spi::get_one::<Vec<Option<Date>>>("SELECT ARRAY['2024-02-29'::date, NULL]")?;
    let ranges = Spi::get_one::<Vec<Option<Range<AnyNumeric>>>>("SELECT ARRAY[numrange(1.5, 2.5), 'empty']")?;
    let back = Spi::get_one_with_args::<String>(
        "SELECT $1::text || ' ' || $2::text || ' ' || $3::text",
        vec![
            (PgBuiltInOids::JSONBARRAYOID.oid(), vec![Some(JsonB(serde_json::json!({"k": [1, 2]}))), None].into_datum()),
            (PgBuiltInOids::TSTZRANGEOID.oid(), Range::new(ts.unwrap(), RangeBound::Infinite).into_datum()),
            (PgBuiltInOids::UUIDARRAYOID.oid(), vec![u.unwrap()].into_datum()),
        ],
    )?;
    let abs: Option<AnyNumeric> = fn_call("abs", &[&Arg::Value(n)])?;
    Ok(Some(format!(
        "{} {} {} {} {} {} {} {} {} {} [{}] [{}] {} {}",
        s(one), s(doubled), s(next), s(j), s(r), s(u), s(ts), c.unwrap_or(0) as u8 as char, s(i), o.map(|o| o.as_u32()).unwrap_or(0),
        all(dates), all(ranges), s(back), s(abs),
    )))
$$;
CREATE FUNCTION wrong_numeric() RETURNS text STRICT LANGUAGE plrust AS $$
    Ok(Some(match Spi::get_one::<AnyNumeric>("SELECT 1.5::float8") {
        Ok(v) => format!("{v:?}"),
        Err(e) => format!("error: {e}"),
    }))
$$;
CREATE FUNCTION wrong_type() RETURNS text STRICT LANGUAGE plrust AS $$
    match Spi::get_one::<i64>("SELECT 1::int4") {
        Ok(v) => Ok(Some(format!("{v:?}"))),
        Err(e) => Ok(Some(format!("error: {e}"))),
    }
$$;

CREATE FUNCTION say(level text, msg text) RETURNS int STRICT LANGUAGE plrust AS $$
    match level {
        "debug1" => debug1!("{msg}"),
        "log" => log!("{msg}"),
        "info" => info!("{msg}"),
        "notice" => notice!("{msg}"),
        "warning" => warning!("{msg}"),
        "error" => error!("failed: {msg}"),
        "ereport" => ereport!(PgLogLevel::ERROR, PgSqlErrorCode::ERRCODE_CHECK_VIOLATION, format!("bad value {msg}")),
        "ereport_notice" => ereport!(PgLogLevel::NOTICE, PgSqlErrorCode::ERRCODE_WARNING, "a notice", "with detail"),
        _ => {}
    }
    Ok(Some(1))
$$;
CREATE FUNCTION error_caught() RETURNS int STRICT LANGUAGE plrust AS $$
    let r = std::panic::catch_unwind(|| {
        error!("first");
    });
    let _ = r;
    notice!("still running");
    Ok(Some(2))
$$;
CREATE OR REPLACE FUNCTION sum_array(a int[]) RETURNS int STRICT LANGUAGE sql AS $$ SELECT sum(e) FROM unnest(a) e $$;
CREATE OR REPLACE FUNCTION transform_array(a int[]) RETURNS int STRICT LANGUAGE plrust AS $$
    let a = a.into_iter().map(|e| e.unwrap_or(0) + 1).collect::<Vec<_>>();  // add one to every element of the array
    Ok(fn_call("sum_array", &[&Arg::Value(a)])?)
$$;
CREATE OR REPLACE FUNCTION debug_format_args(a text, b bigint, c float4 DEFAULT 0.99) RETURNS text LANGUAGE plrust AS $$
    Ok(Some(format!("{:?}, {:?}, {:?}", a, b, c)))
$$;
CREATE OR REPLACE FUNCTION debug_format_args(a text, b bool, c float4 DEFAULT 0.99) RETURNS text LANGUAGE plrust AS $$
    Ok(Some(format!("bool {:?}, {:?}, {:?}", a, b, c)))
$$;
CREATE OR REPLACE FUNCTION complex_example() RETURNS text LANGUAGE plrust AS $$
    let result = fn_call("debug_format_args", &[&Arg::Value("hi"), &Arg::<i64>::Null, &Arg::<f32>::Default])?;
    Ok(result)
$$;
CREATE FUNCTION call_checked(name text) RETURNS text STRICT LANGUAGE plrust AS $$
    Ok(Some(match fn_call::<String>(name, &[&Arg::Value(1i32)]) {
        Ok(v) => format!("ok {v:?}"),
        Err(e) => format!("{e}"),
    }))
$$;
CREATE FUNCTION secret_fn(i int) RETURNS text LANGUAGE sql AS $$ SELECT 'secret' $$;
REVOKE EXECUTE ON FUNCTION secret_fn(int) FROM PUBLIC;
CREATE FUNCTION recurse(label text, depth int) RETURNS text STRICT LANGUAGE plrust AS $$
    let inner: Option<String> = if depth > 0 {
        Spi::get_one_with_args(
            "SELECT recurse($1 || '+', $2)",
            vec![(PgBuiltInOids::TEXTOID.oid(), format!("{label}x").into_datum()), (PgBuiltInOids::INT4OID.oid(), (depth - 1).into_datum())],
        )?
    } else {
        None
    };
    // the outer call's own arguments are intact after the nested calls
    Ok(Some(format!("{label}/{depth}[{}]", inner.unwrap_or_default())))
$$;
CREATE FUNCTION replace_self() RETURNS text LANGUAGE plrust AS $$
    Spi::run(r#"CREATE OR REPLACE FUNCTION replace_self() RETURNS text LANGUAGE plrust AS 'Ok(Some("new body".to_string()))'"#)?;
    let inner: Option<String> = Spi::get_one("SELECT replace_self()")?;
    Ok(Some(format!("old body, inner: {}", inner.unwrap_or_default())))
$$;
CREATE FUNCTION huge_log(mb int) RETURNS int STRICT LANGUAGE plrust AS $$
    let s = "y".repeat(mb as usize * 1024 * 1024);
    notice!("{s}");
    Ok(Some(mb))
$$;
`;

describe('SPI and logging from PL/Rust functions', () => {
  let home: string;
  let pg: PgCluster;

  before(async () => {
    home = await tempHome('spi', { toolchain: true });
    await installPlrust(home);
    pg = await startCluster();
    await pg.psql(`ALTER DATABASE postgres SET plrust.targets = 'x86_64'; CREATE EXTENSION plrust;`);
    await pg.psql(FUNCTIONS);
    await pg.psql(`CREATE ROLE mallory LOGIN; GRANT USAGE ON LANGUAGE plrust TO mallory;`);
  });

  after(async () => {
    await pg?.stop();
    if (home) await uninstallPlrust(home);
  });

  test('reads: get_one, get_one_with_args, get_two/get_three, connect/select with get_by_name, get and row["…"]', async () => {
    assert.deepEqual(await pg.query(`SELECT count_items(), item_name(1), item_name(3) IS NULL`), [['3', 'apple', 't']]);
    assert.match(
      (await pg.psqlResult(`SELECT item_name(42)`)).stderr,
      /ERROR: {2}SpiTupleTable positioned before the start or after the end\n/,
      'no row: an error, as upstream',
    );
    assert.equal(
      await pg.psql(`SELECT item_summary()`),
      `Some(3) Some(3.75) Some(1) Some("apple") Some([Some("fruit"), Some("red")])`,
    );
    assert.equal(
      await pg.psql(`SELECT list_items()`),
      'Some(1):Some("apple"):Some(0.5),Some(2):Some("bread"):Some(2.25),Some(3):None:Some(1.0)',
    );
    assert.equal(await pg.psql(`SELECT inet_text()`), '10.1.2.3/16', 'a type without a conversion arrives as its text');
    assert.match(
      await pg.psql(`SELECT wrong_type()`),
      /^error: a value of type OID 23 cannot be read as Rust type i64$/,
    );
  });

  test("every type of docs/TYPES.md as a column, an argument and fn_call's result", async () => {
    assert.equal(
      await pg.psql(`SET timezone = 'UTC'; SELECT typed_values(-2.25, '2024-02-28')`),
      '1.5 -4.50 2024-02-29 {"d":"2024-02-28"} [1,6) a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 2024-01-02 03:04:05.5+00 ' +
        'r 1 day 02:00:00 1259 [2024-02-29,NULL] [[1.5,2.5),empty] ' +
        '{"{\\"k\\": [1, 2]}",NULL} ["2024-01-02 03:04:05.5+00",) {a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11} 2.25',
    );
    assert.match(
      await pg.psql(`SELECT wrong_numeric()`),
      /^error: a value of type OID 701 cannot be read as Rust type .*AnyNumeric$/,
    );
  });

  test('writes in a VOLATILE function, seen by the next query of the same call', async () => {
    assert.equal(await pg.psql(`SELECT add_item(10, 'cheese')`), '4');
    assert.deepEqual(await pg.query(`SELECT name FROM items WHERE id = 10; `), [['cheese']]);
    assert.deepEqual(await pg.query(`SELECT msg FROM audit`), [['added cheese']]);
    await pg.psql(`DELETE FROM items WHERE id = 10; TRUNCATE audit;`);
  });

  test('errors: caught as Err with their SQLSTATE, or propagated as the original error; the transaction stays usable', async () => {
    assert.equal(
      await pg.psql(`SELECT query_text('SELECT * FROM nowhere')`),
      'caught 42P01: relation "nowhere" does not exist',
    );
    assert.equal(await pg.psql(`SELECT query_text('SELECT 1/0')`), 'caught 22012: division by zero');
    const r = await pg.psqlResult(
      `\\set VERBOSITY verbose\nSELECT query_propagate('INSERT INTO items (id) VALUES (1)');`,
    );
    assert.match(r.stderr, /ERROR: {2}23505: duplicate key value violates unique constraint "items_pkey"/);
    assert.match(r.stderr, /DETAIL: {2}Key \(id\)=\(1\) already exists\./);
    assert.equal(await pg.psql(`SELECT retry_after_error()`), '23505 Some(1)', 'a failed query is rolled back alone');
    assert.equal(await pg.psql(`SELECT ignore_errors('SELECT nope')`), '42703');
    await pg.psql(`TRUNCATE audit;`);
  });

  test('read-only in STABLE and IMMUTABLE functions', async () => {
    const r = await pg.psqlResult(`\\set VERBOSITY verbose\nSELECT write_stable('INSERT INTO audit VALUES (''x'')');`);
    assert.match(r.stderr, /ERROR: {2}0A000: INSERT is not allowed in a non-volatile function/);
    assert.equal(await pg.psql(`SELECT write_immutable_caught()`), 'refused 0A000');
    assert.equal(await pg.psql(`SELECT count(*) FROM audit`), '0');
  });

  test("the current user's privileges apply: permission denied inside the function", async () => {
    const r = await pg.psqlResult(
      `\\set VERBOSITY verbose\nSELECT query_text('SELECT s FROM secrets'), query_propagate('SELECT s FROM secrets');`,
      {
        user: 'mallory',
      },
    );
    assert.match(r.stderr, /ERROR: {2}42501: permission denied for table secrets/);
    assert.equal(
      await pg.psql(`SELECT query_text('SELECT s FROM secrets')`, { user: 'mallory' }),
      'caught 42501: permission denied for table secrets',
    );
  });

  test("fn_call: upstream's examples, overloads by argument type, DEFAULT, errors, EXECUTE privilege", async () => {
    assert.equal(await pg.psql(`SELECT transform_array(ARRAY[1,2,3])`), '9');
    assert.equal(await pg.psql(`SELECT complex_example()`), 'Some("hi"), None, Some(0.99)');
    assert.equal(await pg.psql(`SELECT call_checked('no_such_fn')`), 'The specified function does not exist');
    assert.equal(await pg.psql(`SELECT call_checked('bad name!')`), 'Invalid identifier: `bad name!`');
    assert.equal(await pg.psql(`SELECT call_checked('secret_fn')`), 'ok Some("secret")');
    assert.equal(
      await pg.psql(`SELECT call_checked('secret_fn')`, { user: 'mallory' }),
      'permission denied for function secret_fn',
    );
  });

  test('nested calls: a function querying itself keeps its own arguments; replacing itself mid-call is safe', async () => {
    assert.equal(await pg.psql(`SELECT recurse('a', 3)`), 'a/3[ax+/2[ax+x+/1[ax+x+x+/0[]]]]');
    assert.equal(await pg.psql(`SELECT replace_self()`), 'old body, inner: new body');
    assert.equal(await pg.psql(`SELECT replace_self()`), 'new body');
  });

  test('prepared plans are kept per session and follow DDL and search_path', async () => {
    const s = await pg.openSession();
    try {
      assert.equal((await s.run(`SELECT item_name(1);`)).stdout.trim(), 'apple');
      await s.run(
        `CREATE TABLE items_copy AS SELECT * FROM items; ALTER TABLE items RENAME COLUMN name TO title; ALTER TABLE items ADD COLUMN name text DEFAULT 'renamed';`,
      );
      assert.equal((await s.run(`SELECT item_name(1);`)).stdout.trim(), 'renamed', 'the plan was rebuilt after DDL');
      await s.run(
        `CREATE SCHEMA other; CREATE TABLE other.items (id int, name text); INSERT INTO other.items VALUES (1, 'other');`,
      );
      assert.equal((await s.run(`SET search_path = other, public; SELECT item_name(1);`)).stdout.trim(), 'other');
      await s.run(
        `RESET search_path; DROP SCHEMA other CASCADE; ALTER TABLE items DROP COLUMN name; ALTER TABLE items RENAME COLUMN title TO name; DROP TABLE items_copy;`,
      );
      assert.equal((await s.run(`SELECT item_name(1);`)).stdout.trim(), 'apple');
    } finally {
      await s.close();
    }
  });

  test('100,000 rows through one select', async () => {
    assert.equal(await pg.psql(`SELECT sum_many(100000)`), '100000 5000050000');
  });

  test('statement_timeout cancels a long query inside a function, even one that ignores the error', async () => {
    const t0 = Date.now();
    const r = await pg.psqlResult(`SET statement_timeout = '300ms'; SELECT ignore_errors('SELECT pg_sleep(30)');`);
    assert.match(r.stderr, /ERROR: {2}canceling statement due to statement timeout/);
    assert.ok(Date.now() - t0 < 10_000, 'the call ended at the first cancel');
    assert.equal(await pg.psql(`SELECT count_items()`), '3', 'the session goes on');
  });

  test('logging at each level reaches the client as client_min_messages says', async () => {
    const r = await pg.psqlResult(
      `SET client_min_messages = debug1; SELECT say('debug1', 'd1'); SET client_min_messages = notice;
       SELECT say('log', 'l'), say('info', 'i'), say('notice', 'n'), say('warning', 'w'), say('ereport_notice', '');`,
    );
    assert.match(r.stderr, /DEBUG: {2}d1\n/);
    assert.doesNotMatch(r.stderr, /LOG: {2}l\n/);
    assert.match(r.stderr, /INFO: {2}i\n/);
    assert.match(r.stderr, /NOTICE: {2}n\n/);
    assert.match(r.stderr, /WARNING: {2}w\n/);
    assert.match(r.stderr, /NOTICE: {2}a notice\nDETAIL: {2}with detail\n/);
    assert.match(pg.logText(), /LOG: {2}l\n/);
  });

  test('error! and ereport!(ERROR) abort the statement with their SQLSTATE and roll back', async () => {
    const s = await pg.openSession();
    try {
      const e1 = await s.run(
        `\\set VERBOSITY verbose\nBEGIN; INSERT INTO audit VALUES ('x'); SELECT say('error', 'boom');`,
      );
      assert.match(e1.stderr, /ERROR: {2}XX000: failed: boom\n/);
      await s.run('ROLLBACK;');
      const e2 = await s.run(`SELECT say('ereport', '7');`);
      assert.match(e2.stderr, /ERROR: {2}23514: bad value 7\n/);
      const e3 = await s.run(`SELECT error_caught();`);
      assert.match(e3.stderr, /ERROR: {2}XX000: first\n/, 'catch_unwind cannot swallow error!');
      assert.doesNotMatch(e3.stderr, /still running/);
      assert.equal((await s.run('SELECT count(*) FROM audit;')).stdout.trim(), '0');
    } finally {
      await s.close();
    }
  });

  test('an attacker: writing from an IMMUTABLE function, a huge log message, a query that never ends', async () => {
    const r = await pg.psqlResult(`SELECT write_stable('DROP TABLE items')`, { user: 'mallory' });
    assert.match(r.stderr, /DROP TABLE is not allowed in a non-volatile function/);
    const big = await pg.psqlResult(`SELECT huge_log(8)`);
    assert.equal(big.code, 0, big.stderr);
    assert.ok(big.stderr.length < 100 * 1024, 'the message was cut');
    assert.equal(await pg.psql(`SELECT count(*) FROM items`), '3');
  });
});
