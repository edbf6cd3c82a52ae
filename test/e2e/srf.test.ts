/**
 * Set-returning functions (docs/SRF.md) on a real PostgreSQL 15: RETURNS
 * SETOF and RETURNS TABLE written as upstream PL/Rust writes them, in FROM
 * and in the select list, with 0, 1 and 1,000,000 rows, NULLs and LIMIT.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { functionsCluster } from '../helpers/functions-cluster.js';
import { type PgCluster } from '../helpers/pg-cluster.js';

const FUNCTIONS = `
CREATE OR REPLACE FUNCTION split_whitespace(s text) RETURNS SETOF text STRICT LANGUAGE plrust AS $$
    let by_whitespace = s.split_whitespace();
    let mapped = by_whitespace.map(|token| {
        if token == "this" { None }
        else { Some(token.to_string()) }
    });
    let iter = SetOfIterator::new(mapped);
    Ok(Some(iter))
$$;
CREATE OR REPLACE FUNCTION count_words(s text) RETURNS TABLE (count int, word text) STRICT LANGUAGE plrust AS $$
    use std::collections::BTreeMap;
    let mut buckets: BTreeMap<&str, i32> = Default::default();
    for word in s.split_whitespace() {
        buckets.entry(word).and_modify(|cnt| *cnt += 1).or_insert(1);
    }
    let as_tuples = buckets.into_iter().map(|(word, cnt)| (Some(cnt), Some(word.to_string())));
    Ok(Some(TableIterator::new(as_tuples)))
$$;
CREATE FUNCTION series(n bigint) RETURNS SETOF bigint STRICT LANGUAGE plrust AS $$
    Ok(Some(SetOfIterator::new((1..=n).map(Some))))
$$;
CREATE FUNCTION nothing(give_none bool) RETURNS SETOF int STRICT LANGUAGE plrust AS $$
    if give_none { Ok(None) } else { Ok(Some(SetOfIterator::empty())) }
$$;
CREATE FUNCTION pairs(n int) RETURNS TABLE (i int, sq int8, label text, tags text[]) LANGUAGE plrust AS $$
    let n = n.unwrap_or(0);
    Ok(Some(TableIterator::new((0..n).map(|i| {
        let label = if i % 2 == 0 { Some(format!("#{i}")) } else { None };
        (Some(i), Some(i as i64 * i as i64), label, Some(vec![Some("t".to_string()), None]))
    }))))
$$;
CREATE FUNCTION days(first date, n int) RETURNS SETOF date STRICT LANGUAGE plrust AS $$
    Ok(Some(SetOfIterator::new((0..n).map(move |i| if i == 1 { None } else { first.checked_add_days(i) }))))
$$;
CREATE FUNCTION typed_rows() RETURNS TABLE (id uuid, doc json, amount numeric, span tstzrange) LANGUAGE plrust AS $$
    let u = Uuid::from_bytes([7; 16]);
    Ok(Some(TableIterator::new((1..=2).map(move |i: i32| (
        Some(u),
        Some(Json(serde_json::json!({ "i": i }))),
        Some(AnyNumeric::from(i) / AnyNumeric::from(4)),
        if i == 1 { None } else { Some(Range::new(RangeBound::Infinite, RangeBound::Exclusive(TimestampWithTimeZone::from_pg_epoch_microseconds(0).unwrap()))) },
    )))))
$$;
CREATE FUNCTION one_column(n int) RETURNS TABLE (v float8) STRICT LANGUAGE plrust AS $$
    Ok(Some(TableIterator::new((0..n).map(|i| (Some(i as f64 / 2.0),)))))
$$;
CREATE FUNCTION fail_midway(n int) RETURNS SETOF int STRICT LANGUAGE plrust AS $$
    Ok(Some(SetOfIterator::new((0..).map(move |i| {
        if i == n { panic!("stopped at {i}"); }
        Some(i)
    }))))
$$;
CREATE FUNCTION forever() RETURNS SETOF int STRICT LANGUAGE plrust AS $$
    Ok(Some(SetOfIterator::new(std::iter::repeat(Some(1)))))
$$;
CREATE FUNCTION spi_srf() RETURNS SETOF bigint LANGUAGE plrust AS $$
    let query = "SELECT id::BIGINT FROM generate_series(1, 3) id;";
    Spi::connect(|client| {
        let mut results = Vec::new();
        let mut tup_table = client.select(query, None, None)?;
        while let Some(row) = tup_table.next() {
            let id = row["id"].value::<i64>()?;
            results.push(id);
        }
        Ok(Some(SetOfIterator::new(results)))
    })
$$;
`;

describe('set-returning PL/Rust functions', () => {
  const cluster = functionsCluster('srf', FUNCTIONS);
  let pg: PgCluster;
  before(() => {
    pg = cluster.pg;
  });

  test("upstream's examples: SETOF with a NULL row, TABLE, in FROM", async () => {
    assert.deepEqual(
      await pg.query(`SELECT coalesce(s, '<null>') FROM split_whitespace('hello world, this is plrust') s`),
      [['hello'], ['world,'], ['<null>'], ['is'], ['plrust']],
    );
    assert.deepEqual(await pg.query(`SELECT word, count FROM count_words('b a b c b a') ORDER BY word`), [
      ['a', '2'],
      ['b', '3'],
      ['c', '1'],
    ]);
  });

  test('0 rows (None and an empty iterator), 1 row, the select list, a single-column TABLE', async () => {
    assert.deepEqual(await pg.query(`SELECT count(*) FROM nothing(true)`), [['0']]);
    assert.deepEqual(await pg.query(`SELECT count(*) FROM nothing(false)`), [['0']]);
    assert.deepEqual(await pg.query(`SELECT * FROM series(1)`), [['1']]);
    assert.deepEqual(await pg.query(`SELECT series(3), 'x'`), [
      ['1', 'x'],
      ['2', 'x'],
      ['3', 'x'],
    ]);
    assert.deepEqual(await pg.query(`SELECT * FROM one_column(3)`), [['0'], ['0.5'], ['1']]);
    assert.deepEqual(await pg.query(`SELECT (pairs(2)).*`), [
      ['0', '0', '#0', '{t,NULL}'],
      ['1', '1', '', '{t,NULL}'],
    ]);
    assert.deepEqual(await pg.query(`SELECT i, label IS NULL FROM pairs(NULL)`), []);
    assert.deepEqual(await pg.query(`SELECT * FROM spi_srf()`), [['1'], ['2'], ['3']]);
  });

  test('SETOF and TABLE of the types of docs/TYPES.md', async () => {
    assert.deepEqual(await pg.query(`SELECT d FROM days('2024-02-28', 3) d`), [['2024-02-28'], [''], ['2024-03-01']]);
    const id = '07070707-0707-0707-0707-070707070707';
    assert.deepEqual(await pg.query(`SET timezone = 'UTC'; SELECT * FROM typed_rows()`), [
      [id, '{"i":1}', '0.25000000000000000000', ''],
      [id, '{"i":2}', '0.50000000000000000000', '(,"2000-01-01 00:00:00+00")'],
    ]);
  });

  test('1,000,000 rows, LIMIT, and bounded memory', async () => {
    const s = await pg.openSession();
    try {
      const t0 = Date.now();
      const r = await s.run(`SELECT count(*), sum(x) FROM series(1000000) x;`);
      const ms = Date.now() - t0;
      assert.equal(r.stdout.trim(), '1000000|500000500000', r.stderr);
      const wide = await s.run(`SELECT count(*), sum(sq) FROM pairs(1000000);`);
      assert.equal(wide.stdout.trim(), '1000000|333332833333500000', wide.stderr);
      assert.equal((await s.run(`SELECT x FROM series(1000000) x LIMIT 2;`)).stdout.trim(), '1\n2');
      // The function's own memory (the PL/Rust contexts) stays small: rows left in batches.
      const held = await s.run(
        `SELECT coalesce(sum(total_bytes), 0) FROM pg_backend_memory_contexts WHERE name LIKE 'PL/Rust%';`,
      );
      assert.ok(Number(held.stdout.trim()) < 8 * 1024 * 1024, `PL/Rust contexts hold ${held.stdout.trim()} bytes`);
      console.log(`# 1,000,000-row SETOF: ${ms} ms`);
    } finally {
      await s.close();
    }
  });

  test('a panic midway, and a set that never ends stopped by statement_timeout', async () => {
    const r = await pg.psqlResult(`SELECT count(*) FROM fail_midway(100000)`);
    assert.match(r.stderr, /ERROR: {2}stopped at 100000\n/);
    const t0 = Date.now();
    const f = await pg.psqlResult(`SET statement_timeout = '500ms'; SELECT count(*) FROM forever()`);
    assert.match(f.stderr, /ERROR: {2}canceling statement due to statement timeout/);
    assert.ok(Date.now() - t0 < 10_000);
    assert.deepEqual(await pg.query(`SELECT count(*) FROM series(10)`), [['10']]);
  });
});
