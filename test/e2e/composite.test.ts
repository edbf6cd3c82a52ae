/**
 * Named composite types as PL/Rust arguments and results (docs/TYPES.md,
 * "Composite types"), written as upstream PL/Rust's users write them:
 * `PgHeapTuple` read by name and index, built with `new_composite_type` and
 * `set_by_name`, NULL fields kept; a wrong field or a row of another type is
 * a clear ERROR and the backend lives on.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { functionsCluster } from '../helpers/functions-cluster.js';
import { type PgCluster } from '../helpers/pg-cluster.js';

const FUNCTIONS = `
CREATE TYPE pair AS (a int4, b text, c float8[]);
CREATE TYPE other AS (x int4);
CREATE TYPE nest AS (p pair, n int4);
CREATE FUNCTION nest_swap(x nest) RETURNS nest STRICT LANGUAGE plrust AS $$
    let inner: Option<String> = x.get_by_name("p")?;
    let mut y = PgHeapTuple::new_composite_type("public.nest")?;
    y.set_by_name("p", String::from("(9,nested,{})"))?;
    y.set_by_name("n", inner.map(|s| s.len() as i32))?;
    Ok(Some(y))
$$;
CREATE FUNCTION pair_wrong_rust(n int8) RETURNS pair STRICT LANGUAGE plrust AS $$
    let mut p = PgHeapTuple::new_composite_type("pair")?;
    p.set_by_name("a", n)?;
    Ok(Some(p))
$$;
CREATE FUNCTION pair_id(p pair) RETURNS pair LANGUAGE plrust AS $$ Ok(p) $$;
CREATE FUNCTION pair_read(p pair) RETURNS text STRICT LANGUAGE plrust AS $$
    let a: Option<i32> = p.get_by_name("a")?;
    let b: Option<String> = p.get_by_index(2usize)?;
    let c: Option<Vec<Option<f64>>> = p.get_by_name("c")?;
    Ok(Some(format!("{a:?} {b:?} {c:?} {}", p.len())))
$$;
CREATE FUNCTION pair_make(n int4, s text) RETURNS pair LANGUAGE plrust AS $$
    let mut p = PgHeapTuple::new_composite_type("pair")?;
    p.set_by_name("a", n)?;
    p.set_by_name("b", s)?;
    Ok(Some(p))
$$;
CREATE FUNCTION pair_sum(ps pair[]) RETURNS pair[] STRICT LANGUAGE plrust AS $$
    let mut out = Vec::new();
    for p in ps {
        out.push(match p {
            None => None,
            Some(p) => {
                let mut q = p.into_owned();
                let a: Option<i32> = q.get_by_name("a")?;
                q.set_by_name("a", a.map(|a| a + 1))?;
                Some(q)
            }
        });
    }
    Ok(Some(out))
$$;
CREATE FUNCTION pair_rows(n int4) RETURNS SETOF pair STRICT LANGUAGE plrust AS $$
    let mut rows = Vec::new();
    for i in 0..n {
        let mut p = PgHeapTuple::new_composite_type("pair")?;
        p.set_by_name("a", i)?;
        rows.push(Some(p));
    }
    rows.push(None);
    Ok(Some(SetOfIterator::new(rows)))
$$;
CREATE FUNCTION pair_table(n int4) RETURNS TABLE(x pair) STRICT LANGUAGE plrust AS $$
    let mut p = PgHeapTuple::new_composite_type("pair")?;
    p.set_by_name("b", n.to_string())?;
    Ok(Some(TableIterator::new(vec![(Some(p),)])))
$$;
CREATE FUNCTION pair_bad_field(n int4) RETURNS pair STRICT LANGUAGE plrust AS $$
    let mut p = PgHeapTuple::new_composite_type("pair")?;
    p.set_by_name("nope", n)?;
    Ok(Some(p))
$$;
CREATE FUNCTION pair_bad_type(n int4) RETURNS pair STRICT LANGUAGE plrust AS $$
    let mut p = PgHeapTuple::new_composite_type("other")?;
    p.set_by_name("x", n)?;
    Ok(Some(p))
$$;
CREATE FUNCTION pair_no_type(n int4) RETURNS pair STRICT LANGUAGE plrust AS $$
    let p = PgHeapTuple::new_composite_type("int4")?;
    Ok(Some(p))
$$;
`;

describe('composite types in PostgreSQL 15', () => {
  const cluster = functionsCluster('composite', FUNCTIONS);
  let pg: PgCluster;
  before(() => {
    pg = cluster.pg;
  });

  test('a row with a NULL field comes back unchanged; a NULL row is NULL', async () => {
    assert.deepEqual(
      await pg.query(
        `SELECT pair_id(ROW(7, NULL, '{1.5,NULL}')::pair)::text, pair_id(NULL) IS NULL, (pair_id(ROW(NULL, 'x', NULL)::pair)).b`,
      ),
      [['(7,,"{1.5,NULL}")', 't', 'x']],
    );
  });

  test('fields read by name and by index, NULL as None', async () => {
    assert.deepEqual(
      await pg.query(`SELECT pair_read(ROW(3, 'hi', '{2,NULL}')::pair), pair_read(ROW(NULL, NULL, NULL)::pair)`),
      [['Some(3) Some("hi") Some([Some(2.0), None]) 3', 'None None None 3']],
    );
  });

  test('100,000 rows in and out in one statement: every result buffer is given back', async () => {
    const t0 = Date.now();
    assert.deepEqual(
      await pg.query(
        `SELECT count(*), sum((pair_id(ROW(i, repeat('x', 2000), '{1}')::pair)).a) FROM generate_series(1, 100000) i`,
      ),
      [['100000', '5000050000']],
    );
    console.log(`100,000 composite round trips: ${Date.now() - t0} ms`);
  });

  test('a row built with new_composite_type and set_by_name is returned, unset fields NULL', async () => {
    assert.deepEqual(await pg.query(`SELECT pair_make(42, 'built')::text, (pair_make(1, NULL)).c IS NULL`), [
      ['(42,built,)', 't'],
    ]);
  });

  test('a field of a composite type reads and writes as its text form', async () => {
    assert.deepEqual(await pg.query(`SELECT nest_swap(ROW(ROW(1, 'x', NULL), 5)::nest)::text`), [
      ['("(9,nested,{})",6)'],
    ]);
  });

  test('arrays of rows: NULL elements and NULL fields kept, each row changed', async () => {
    assert.deepEqual(
      await pg.query(
        `SELECT pair_sum(ARRAY[ROW(1, 'a', NULL), NULL, ROW(NULL, NULL, '{3}')]::pair[])::text, pair_sum('{}')::text`,
      ),
      [['{"(2,a,)",NULL,"(,,{3})"}', '{}']],
    );
  });

  test('SETOF a composite type and TABLE(x pair): its fields are the columns, a NULL row has NULL fields', async () => {
    assert.deepEqual(await pg.query(`SELECT p::text, a FROM pair_rows(2) p`), [
      ['(0,,)', '0'],
      ['(1,,)', '1'],
      ['(,,)', ''],
    ]);
    assert.deepEqual(await pg.query(`SELECT t::text, b FROM pair_table(7) t`), [['(,7,)', '7']]);
  });

  test('an attacker: a wrong field, a row of another type, a non-composite type name are clear ERRORs; the backend lives', async () => {
    const s = await pg.openSession();
    try {
      const pid = (await s.run('SELECT pg_backend_pid();')).stdout.trim();
      const field = await s.run('SELECT pair_bad_field(1);');
      assert.match(field.stderr, /ERROR: .*no column named "nope"/);
      const wrong = await s.run('SELECT pair_wrong_rust(1);');
      assert.match(
        wrong.stderr,
        /ERROR: .*column "a" has type OID 23; a Rust i64 \(type OID 20\) cannot be stored in it/,
      );
      const other = await s.run('SELECT pair_bad_type(1);');
      assert.match(other.stderr, /ERROR: +returned row has type other, but the function returns pair/);
      const scalar = await s.run('SELECT pair_no_type(1);');
      assert.match(scalar.stderr, /ERROR: .*"int4" is not a composite type/);
      assert.equal((await s.run(`SELECT pair_make(5, 'ok')::text;`)).stdout.trim(), '(5,ok,)');
      assert.equal((await s.run('SELECT pg_backend_pid();')).stdout.trim(), pid, 'the same backend');
    } finally {
      await s.close();
    }
  });

  test('ALTER TYPE in the same session: an argument of the changed row type is described anew, never read with the old columns', async () => {
    // The handler keeps each row type's described columns per backend; one session sees both versions of the type.
    const s = await pg.openSession();
    try {
      await s.run(`CREATE TYPE altered AS (a int4, b int4);
CREATE FUNCTION altered_read(p altered) RETURNS text STRICT LANGUAGE plrust AS $$
    Ok(Some(format!("{:?} {:?} {}", p.get_by_name::<i32>("a").ok().flatten(), p.get_by_name::<i32>("b").map_err(|_| "not i32"), p.len())))
$$;`);
      const read = async (row: string) => (await s.run(`SELECT altered_read(${row}::altered);`)).stdout.trim();
      assert.equal(await read('ROW(1, 2)'), 'Some(1) Ok(Some(2)) 2');
      await s.run('ALTER TYPE altered ALTER ATTRIBUTE b TYPE int8;');
      assert.equal(await read('ROW(1, 2)'), 'Some(1) Err("not i32") 2');
      await s.run('ALTER TYPE altered ADD ATTRIBUTE c text;');
      assert.equal(await read(`ROW(1, 2, 'x')`), 'Some(1) Err("not i32") 3');
      await s.run('ALTER TYPE altered DROP ATTRIBUTE a;');
      assert.equal(await read(`ROW(2, 'x')`), 'None Err("not i32") 2');
    } finally {
      await s.close();
    }
  });
});
