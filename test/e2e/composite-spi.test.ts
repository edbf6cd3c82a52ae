/**
 * Composite values through the request channel (docs/SPI.md, docs/TYPES.md
 * "Composite types"): rows as SPI, `client.update` and `fn_call` arguments
 * (their type taken from the row, or named by OID and checked), composite
 * columns and nested fields read as `PgHeapTuple`, domains over composite
 * types, `record` arguments; and what an unprivileged role could send
 * instead: each a clear ERROR, the backend alive.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { functionsCluster } from '../helpers/functions-cluster.js';
import { type PgCluster } from '../helpers/pg-cluster.js';

const FUNCTIONS = `
CREATE TYPE pair AS (a int4, b text);
CREATE TYPE other AS (x int4);
CREATE TYPE nest AS (p pair, n int4);
CREATE DOMAIN pos_pair AS pair CHECK ((VALUE).a > 0);
CREATE TYPE dnest AS (p pos_pair);
CREATE TABLE pairs (id int4, p pair);
INSERT INTO pairs VALUES (1, ROW(10, 'ten')), (2, NULL), (3, ROW(NULL, 'x'));
CREATE FUNCTION pair_text(p pair) RETURNS text LANGUAGE sql AS $$ SELECT p::text $$;
CREATE FUNCTION pair_bump(p pair) RETURNS pair LANGUAGE sql AS $$ SELECT ROW((p).a + 1, (p).b)::pair $$;
GRANT ALL ON pairs TO PUBLIC;
CREATE FUNCTION row_args(n int4) RETURNS text STRICT LANGUAGE plrust AS $$
    let mut p = PgHeapTuple::new_composite_type("pair")?;
    p.set_by_name("a", n)?;
    p.set_by_name("b", format!("n{n}"))?;
    let a: Option<i32> = Spi::get_one_with_args(
        "SELECT ($1).a + 1",
        vec![(PgBuiltInOids::RECORDOID.oid(), p.clone().into_datum())],
    )?;
    let oid: Option<pg_sys::Oid> = Spi::get_one("SELECT 'pair'::regtype::oid")?;
    let b: Option<String> = Spi::get_one_with_args(
        "SELECT ($1).b || ' ' || pg_typeof($1)::text",
        vec![(PgOid::from(oid.unwrap()), p.clone().into_datum())],
    )?;
    let t: Option<String> = fn_call("pair_text", &[&Arg::Value(p.clone())])?;
    let bumped: Option<PgHeapTuple<'static, AllocatedByRust>> = fn_call("pair_bump", &[&Arg::Value(p.clone())])?;
    let bumped: Option<i32> = bumped.unwrap().get_by_name("a")?;
    Spi::connect(|mut c| {
        c.update(
            "INSERT INTO pairs VALUES ($1, $2)",
            None,
            Some(vec![(PgBuiltInOids::INT4OID.oid(), (100 + n).into_datum()), (PgBuiltInOids::RECORDOID.oid(), p.clone().into_datum())]),
        )
        .map(drop)
    })?;
    let sum: Option<i64> = Spi::get_one_with_args(
        "SELECT sum(a)::int8 FROM unnest($1)",
        vec![(PgBuiltInOids::RECORDARRAYOID.oid(), vec![p.clone(), p].into_datum())],
    )?;
    Ok(Some(format!("{a:?} {b:?} {t:?} {bumped:?} {sum:?}")))
$$;
CREATE TABLE holes (a int4, gone int4, c text);
ALTER TABLE holes DROP COLUMN gone;
INSERT INTO holes VALUES (1, 'one');
CREATE FUNCTION holes_round() RETURNS text LANGUAGE plrust AS $$
    let h: Option<PgHeapTuple<'static, AllocatedByRust>> = Spi::get_one("SELECT h FROM holes h")?;
    let mut h = h.ok_or("no row")?;
    h.set_by_name("a", 2i32)?;
    Ok(Spi::get_one_with_args(
        "SELECT $1::text || ' ' || ($1).c || ' ' || pg_typeof($1)::text",
        vec![(PgBuiltInOids::RECORDOID.oid(), h.into_datum())],
    )?)
$$;
CREATE FUNCTION row_array_type(n int4) RETURNS text STRICT LANGUAGE plrust AS $$
    let mut p = PgHeapTuple::new_composite_type("pair")?;
    p.set_by_name("a", n)?;
    Ok(Spi::get_one_with_args(
        "SELECT sum(a) || ' ' || pg_typeof($1)::text FROM unnest($1)",
        vec![(PgBuiltInOids::RECORDARRAYOID.oid(), vec![Some(p.clone()), None, Some(p)].into_datum())],
    )?)
$$;
CREATE FUNCTION row_columns() RETURNS text LANGUAGE plrust AS $$
    let rows = Spi::connect(|c| {
        c.select("SELECT id, p, p::text AS t FROM pairs WHERE id < 100 ORDER BY id", None, None)?
            .map(|r| Ok((r.get_by_name::<PgHeapTuple<'static, AllocatedByRust>, _>("p")?, r.get::<String>(2)?)))
            .collect::<Result<Vec<_>, SpiError>>()
    })?;
    let mut out = Vec::new();
    for (p, text) in rows {
        out.push(match p {
            Some(p) => format!("{:?}/{:?}/{text:?}", p.get_by_name::<i32>("a")?, p.get_by_index::<String>(2usize)?),
            None => format!("NULL/{text:?}"),
        });
    }
    Ok(Some(out.join(" ")))
$$;
CREATE FUNCTION row_array_column() RETURNS text LANGUAGE plrust AS $$
    let rows: Option<Vec<Option<PgHeapTuple<'static, AllocatedByRust>>>> =
        Spi::get_one("SELECT array_agg(p ORDER BY id) FROM pairs WHERE id < 100")?;
    let rows = rows.unwrap_or_default();
    let mut a = Vec::new();
    for r in &rows {
        a.push(match r {
            Some(r) => format!("{:?}", r.get_by_name::<i32>("a")?),
            None => "NULL".to_string(),
        });
    }
    Ok(Some(format!("{} {}", rows.len(), a.join(","))))
$$;
CREATE FUNCTION row_read_cost(n int4, as_row bool) RETURNS int8 STRICT LANGUAGE plrust AS $$
    let mut sum = 0i64;
    Spi::connect(|c| {
        let q = "SELECT ROW(i, 'x')::pair AS p FROM generate_series(1, $1) i";
        for row in c.select(q, None, Some(vec![(PgBuiltInOids::INT4OID.oid(), n.into_datum())]))? {
            if as_row {
                let p: Option<PgHeapTuple<'static, AllocatedByRust>> = row.get(1)?;
                sum += p.and_then(|p| p.get_by_name::<i32>("a").ok().flatten()).unwrap_or(0) as i64;
            } else {
                let s: Option<String> = row.get(1)?;
                sum += s.map_or(0, |s| s.len() as i64);
            }
        }
        Ok::<_, SpiError>(())
    })?;
    Ok(Some(sum))
$$;
CREATE FUNCTION nest_inner(x nest) RETURNS text STRICT LANGUAGE plrust AS $$
    let p: Option<PgHeapTuple<'static, AllocatedByRust>> = x.get_by_name("p")?;
    let text: Option<String> = x.get_by_name("p")?;
    let a = match p {
        Some(p) => p.get_by_name::<i32>("a")?,
        None => None,
    };
    Ok(Some(format!("{a:?} {text:?}")))
$$;
CREATE FUNCTION nest_build(n int4) RETURNS nest STRICT LANGUAGE plrust AS $$
    let mut p = PgHeapTuple::new_composite_type("pair")?;
    p.set_by_name("a", n)?;
    p.set_by_name("b", "in")?;
    let mut x = PgHeapTuple::new_composite_type("nest")?;
    x.set_by_name("p", p)?;
    x.set_by_name("n", n)?;
    Ok(Some(x))
$$;
CREATE FUNCTION nest_wrong() RETURNS text LANGUAGE plrust AS $$
    let mut o = PgHeapTuple::new_composite_type("other")?;
    o.set_by_name("x", 1i32)?;
    let mut x = PgHeapTuple::new_composite_type("nest")?;
    let mut p = PgHeapTuple::new_composite_type("pair")?;
    p.set_by_name("a", -1i32)?;
    let mut d = PgHeapTuple::new_composite_type("dnest")?;
    let results = [x.set_by_name("p", o), d.set_by_name("p", p)];
    Ok(Some(results.iter().map(|r| match r {
        Ok(()) => "stored".to_string(),
        Err(e) => e.to_string(),
    }).collect::<Vec<_>>().join(" | ")))
$$;
CREATE TABLE bumped (id int4, p pair);
CREATE FUNCTION bump_before() RETURNS trigger LANGUAGE plrust AS $$
    let mut row = trigger.new().ok_or("no new row")?.into_owned();
    let p: Option<PgHeapTuple<'static, AllocatedByRust>> = row.get_by_name("p")?;
    if let Some(mut p) = p {
        let a: Option<i32> = p.get_by_name("a")?;
        p.set_by_name("a", a.map(|a| a + 1))?;
        row.set_by_name("p", p)?;
    }
    Ok(Some(row))
$$;
CREATE TRIGGER bump BEFORE INSERT ON bumped FOR EACH ROW EXECUTE FUNCTION bump_before();
CREATE FUNCTION pos_id(p pos_pair) RETURNS pos_pair LANGUAGE plrust AS $$ Ok(p) $$;
CREATE FUNCTION pos_make(n int4) RETURNS pos_pair STRICT LANGUAGE plrust AS $$
    let mut p = PgHeapTuple::new_composite_type("pair")?;
    p.set_by_name("a", n)?;
    Ok(Some(p))
$$;
CREATE FUNCTION pos_rows(n int4) RETURNS SETOF pos_pair STRICT LANGUAGE plrust AS $$
    let mut rows = Vec::new();
    for i in 0..2 {
        let mut p = PgHeapTuple::new_composite_type("pair")?;
        p.set_by_name("a", n - i)?;
        rows.push(Some(p));
    }
    Ok(Some(SetOfIterator::new(rows)))
$$;
CREATE FUNCTION pos_many(ps pos_pair[]) RETURNS int4 STRICT LANGUAGE plrust AS $$
    Ok(Some(ps.len() as i32))
$$;
CREATE FUNCTION rec_read(r record) RETURNS text STRICT LANGUAGE plrust AS $$
    let first: Option<i32> = r.get_by_index(1usize)?;
    let second: Option<String> = r.get_by_index(2usize)?;
    Ok(Some(format!("{} {first:?} {second:?}", r.len())))
$$;
CREATE FUNCTION rec_count(rs record[]) RETURNS int4 STRICT LANGUAGE plrust AS $$
    Ok(Some(rs.len() as i32))
$$;
CREATE FUNCTION rec_to_query(r record) RETURNS text STRICT LANGUAGE plrust AS $$
    Ok(Spi::get_one_with_args("SELECT $1::text", vec![(PgBuiltInOids::RECORDOID.oid(), r.into_datum())])?)
$$;
CREATE TYPE morph AS (a int4, b text);
CREATE FUNCTION morph_stale(k int4) RETURNS text STRICT VOLATILE LANGUAGE plrust AS $$
    let mut m = PgHeapTuple::new_composite_type("morph")?;
    m.set_by_name("a", -1i32)?;
    Spi::run(match k {
        1 => "ALTER TYPE morph ALTER ATTRIBUTE a TYPE int8",
        2 => "ALTER TYPE morph ADD ATTRIBUTE c int4",
        _ => "SELECT 1",
    })?;
    Ok(Spi::get_one_with_args("SELECT $1::text", vec![(PgBuiltInOids::RECORDOID.oid(), m.into_datum())])?)
$$;
CREATE FUNCTION abuse(k int4) RETURNS text STRICT LANGUAGE plrust AS $$
    let mut p = PgHeapTuple::new_composite_type("pair")?;
    p.set_by_name("a", -1i32)?;
    let mut o = PgHeapTuple::new_composite_type("other")?;
    o.set_by_name("x", 1i32)?;
    let oid = |t: &str| -> Result<PgOid, SpiError> {
        let o: Option<pg_sys::Oid> =
            Spi::get_one_with_args("SELECT $1::regtype::oid", vec![(PgBuiltInOids::TEXTOID.oid(), t.into_datum())])?;
        Ok(PgOid::from(o.unwrap()))
    };
    let args = match k {
        1 => vec![(oid("pair")?, 5i32.into_datum())],
        2 => vec![(oid("pair")?, o.clone().into_datum())],
        3 => vec![(PgOid::from(999999u32), p.clone().into_datum())],
        4 => vec![(oid("pos_pair")?, p.clone().into_datum())],
        5 => vec![(oid("pair")?, "(1,x)".into_datum())],
        6 => vec![(PgBuiltInOids::INT4OID.oid(), p.clone().into_datum())],
        7 => vec![(PgBuiltInOids::RECORDARRAYOID.oid(), vec![p.clone(), o.clone()].into_datum())],
        8 => vec![(PgBuiltInOids::RECORDOID.oid(), "(1,x)".into_datum())],
        9 => return Ok(Some(match Spi::get_one::<PgHeapTuple<'static, AllocatedByRust>>("SELECT ROW(1, 2)") {
            Ok(_) => "ok".to_string(),
            Err(e) => format!("err {e}"),
        })),
        10 => return Ok(Some(match Spi::get_one_with_args::<PgHeapTuple<'static, AllocatedByRust>>(
            "SELECT $1",
            vec![(oid("pair")?, p.clone().into_datum())],
        ) {
            Ok(Some(r)) => format!("ok {:?}", r.get_by_name::<i32>("a")?),
            Ok(None) => "ok NULL".to_string(),
            Err(e) => format!("err {e}"),
        })),
        11 => vec![(PgOid::from(2281u32), "x".into_datum())],
        12 => vec![(PgOid::from(2275u32), "abc".into_datum())],
        13 => vec![(PgOid::from(2278u32), 5i32.into_datum())],
        14 => vec![(PgBuiltInOids::RECORDOID.oid(), 5i32.into_datum())],
        15 => vec![(PgOid::Custom(pg_sys::Oid::from(0u32)), 5i32.into_datum())],
        _ => {
            p.set_by_name("b", "y".repeat(4 << 20))?;
            vec![(PgBuiltInOids::RECORDOID.oid(), p.clone().into_datum())]
        }
    };
    Ok(Some(match Spi::get_one_with_args::<String>("SELECT left(($1)::text, 12)", args) {
        Ok(v) => format!("ok {v:?}"),
        Err(e) => format!("err {e}"),
    }))
$$;
`;

describe('composite values through SPI and fn_call in PostgreSQL 15', () => {
  const cluster = functionsCluster('composite-spi', FUNCTIONS);
  let pg: PgCluster;
  before(() => {
    pg = cluster.pg;
  });

  test('a row is a query, client.update and fn_call argument: its type from the row or named by OID', async () => {
    assert.deepEqual(await pg.query(`SELECT row_args(7)`), [
      ['Some(8) Some("n7 pair") Some("(7,n7)") Some(8) Some(14)'],
    ]);
    assert.deepEqual(await pg.query(`SELECT id, p::text FROM pairs WHERE id >= 100`), [['107', '(7,n7)']]);
    assert.deepEqual(await pg.query(`SELECT row_array_type(4)`), [['8 pair[]']]);
    assert.deepEqual(
      await pg.query(`SELECT holes_round()`),
      [['(2,one) one holes']],
      'a row type with a dropped column',
    );
  });

  test('composite columns, nested fields and trigger columns read as PgHeapTuple and set from one; text too', async () => {
    assert.deepEqual(await pg.query(`SELECT row_columns()`), [
      ['Some(10)/Some("ten")/Some("(10,ten)") NULL/None None/Some("x")/Some("(,x)")'],
    ]);
    assert.deepEqual(await pg.query(`SELECT row_array_column()`), [['3 Some(10),NULL,None']]);
    assert.deepEqual(await pg.query(`SELECT nest_build(4)::text, (nest_build(4)).p.b`), [['("(4,in)",4)', 'in']]);
    await pg.psql(`INSERT INTO bumped VALUES (1, ROW(41, 'q')), (2, NULL)`);
    assert.deepEqual(await pg.query(`SELECT id, p::text FROM bumped ORDER BY id`), [
      ['1', '(42,q)'],
      ['2', ''],
    ]);
    assert.deepEqual(await pg.query(`SELECT nest_wrong()`), [
      [
        'column "p": a row of type other cannot be stored in a field of type pair | ' +
          'column "p": value for domain pos_pair violates check constraint "pos_pair_check"',
      ],
    ]);
    const t0 = Date.now();
    assert.deepEqual(await pg.query(`SELECT row_read_cost(10000, false)`), [['78894']]);
    const t1 = Date.now();
    assert.deepEqual(await pg.query(`SELECT row_read_cost(10000, true)`), [['50005000']]);
    console.log(`10,000 composite columns: as String ${t1 - t0} ms, as PgHeapTuple ${Date.now() - t1} ms`);
    assert.deepEqual(await pg.query(`SELECT nest_inner(ROW(ROW(3, 'q'), 1)::nest), nest_inner(ROW(NULL, 1)::nest)`), [
      ['Some(3) Some("(3,q)")', 'None None'],
    ]);
  });

  test('domains over a composite type: arguments, results, arrays; the CHECK holds on return', async () => {
    assert.deepEqual(
      await pg.query(
        `SELECT pos_id(ROW(1, 'x')::pos_pair)::text, pos_make(5)::text, pg_typeof(pos_make(5))::text, ` +
          `pos_many(ARRAY[ROW(2, 'y')::pos_pair, NULL])`,
      ),
      [['(1,x)', '(5,)', 'pos_pair', '2']],
    );
    const s = await pg.openSession();
    try {
      const pid = (await s.run('SELECT pg_backend_pid();')).stdout.trim();
      const bad = await s.run('SELECT pos_make(-1);');
      assert.match(bad.stderr, /ERROR: +value for domain pos_pair violates check constraint "pos_pair_check"/);
      assert.equal(
        (await s.run(`SELECT string_agg(p::text || a, ' ') FROM pos_rows(2) p;`)).stdout.trim(),
        '(2,)2 (1,)1',
      );
      const badRows = await s.run('SELECT * FROM pos_rows(1);');
      assert.match(badRows.stderr, /ERROR: +value for domain pos_pair violates check constraint "pos_pair_check"/);
      assert.equal((await s.run('SELECT pg_backend_pid();')).stdout.trim(), pid, 'the same backend');
    } finally {
      await s.close();
    }
  });

  test('record arguments: a row of any type, fields by index; record results are refused at CREATE FUNCTION', async () => {
    assert.deepEqual(
      await pg.query(
        `SELECT rec_read(ROW(1, 'a')), (SELECT string_agg(rec_read(t.*), ', ' ORDER BY id) FROM pairs t WHERE id < 3), ` +
          `rec_count(ARRAY[ROW(1, 'a'), ROW(2, 'b')])`,
      ),
      [['2 Some(1) Some("a")', '2 Some(1) Some("(10,ten)"), 2 Some(2) None', '2']],
    );
    const s = await pg.openSession();
    try {
      const r = await s.run(`CREATE FUNCTION rec_ret() RETURNS record LANGUAGE plrust AS $$ Ok(None) $$;`);
      assert.match(r.stderr, /ERROR: +PL\/Rust functions cannot return type record/);
      assert.match(r.stderr, /named composite type .*RETURNS TABLE/);
      const out = await s.run(`CREATE FUNCTION rec_out(OUT a int4, OUT b text) LANGUAGE plrust AS $$ Ok(None) $$;`);
      assert.match(out.stderr, /ERROR: +PL\/Rust functions support only IN arguments/);
    } finally {
      await s.close();
    }
  });

  test('an attacker: wrong shapes, wrong or unknown OIDs, failing CHECKs, transient record types, stale rows, huge rows', async () => {
    const s = await pg.openSession();
    try {
      const pid = (await s.run('SELECT pg_backend_pid();')).stdout.trim();
      await s.run('CREATE ROLE mallory; SET ROLE mallory;');
      const rows = (await s.run(`SELECT k || ': ' || abuse(k) FROM generate_series(1, 16) k;`)).stdout
        .trim()
        .split('\n')
        .map((l) => l.trim());
      const expect: RegExp[] = [
        /^1: err malformed request from a PL\/Rust function library$/,
        /^2: err argument 1 is a row of type other, but its type is given as pair$/,
        /^3: err type with OID 999999 does not exist$/,
        /^4: err value for domain pos_pair violates check constraint "pos_pair_check"$/,
        /^5: err argument 1 is a row of type unknown, which a query cannot name$/,
        /^6: err malformed request from a PL\/Rust function library$/,
        /^7: err argument 1 is an array of rows of types pair and other$/,
        /^8: err argument 1 is a row of type unknown, which a query cannot name$/,
        /^9: err a value of type record cannot be read as a PgHeapTuple$/,
        /^10: ok Some\(-1\)$/,
        /^11: err argument 1 cannot have type internal$/,
        /^12: err argument 1 cannot have type cstring$/,
        /^13: err argument 1 cannot have type void$/,
        /^14: err malformed request from a PL\/Rust function library$/,
        /^15: err type with OID 0 does not exist$/,
        /^16: ok Some\("\(-1,y{8}"\)$/,
      ];
      assert.equal(rows.length, expect.length, rows.join('\n'));
      rows.forEach((r, i) => assert.match(r, expect[i]!));
      // the type's owner changes it under a row the function holds
      await s.run('RESET ROLE;');
      const changed = await s.run('SELECT morph_stale(1);');
      assert.match(
        changed.stderr,
        /ERROR: +column "a" of type morph has type bigint, but the row has a value of type integer\nDETAIL: +The type was changed after the row was built\./,
      );
      const added = await s.run('SELECT morph_stale(2);');
      assert.match(added.stderr, /ERROR: +row of type morph has 2 columns, but the type has 3/);
      assert.equal((await s.run('SELECT morph_stale(3);')).stdout.trim(), '(-1,)');
      const rec = await s.run(`SELECT rec_to_query(ROW(1, 'a'));`);
      assert.match(rec.stderr, /ERROR: +argument 1 is a row of type record, which a query cannot name/);
      assert.equal((await s.run(`SELECT rec_to_query(ROW(1, 'a')::pair);`)).stdout.trim(), '(1,a)');
      assert.equal((await s.run('SELECT pg_backend_pid();')).stdout.trim(), pid, 'the same backend');
    } finally {
      await s.close();
    }
  });
});
