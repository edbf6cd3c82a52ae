/**
 * The types of docs/TYPES.md in a real PostgreSQL 15 cluster, with functions
 * written as upstream PL/Rust's users write them: every type and its array
 * round-trips unchanged (NULLs and extremes included), and what Rust
 * computes with them (numeric arithmetic, date and interval arithmetic and
 * output, range containment) equals what PostgreSQL computes itself.
 */
import { after, before, describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { startCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { installPlrust, tempHome, uninstallPlrust } from '../helpers/plrust-install.js';
import { parseRsFile } from '../../src/functions/rs-file.js';
import { createFunctionSql } from '../../src/compile/artifacts.js';

interface TypeCase {
  sql: string;
  /** The function's name suffix. */
  name: string;
  /** The Rust result type. */
  rust: string;
  /** Non-NULL SQL literals; the first is the scalar, the rest go into the array. */
  values: string[];
}

const THOUSAND_DIGITS = `${'9876543210'.repeat(60)}.${'0123456789'.repeat(40)}`;

const TYPES: TypeCase[] = [
  { sql: '"char"', name: 'char', rust: 'i8', values: [`'a'`, `'Z'`, `' '`, `'\\177'`] },
  { sql: 'oid', name: 'oid', rust: 'Oid', values: ['4294967295', '0', '12345'] },
  {
    sql: 'date',
    name: 'date',
    rust: 'Date',
    values: [`'2024-02-29'`, `'infinity'`, `'-infinity'`, `'4714-11-24 BC'`, `'5874897-12-31'`],
  },
  { sql: 'time', name: 'time', rust: 'Time', values: [`'13:45:59.999999'`, `'00:00'`, `'24:00:00'`] },
  {
    sql: 'timetz',
    name: 'timetz',
    rust: 'TimeWithTimeZone',
    values: [`'13:45:59.5+05:30'`, `'00:00+15:59:59'`, `'24:00:00-15:59'`],
  },
  {
    sql: 'timestamp',
    name: 'timestamp',
    rust: 'Timestamp',
    values: [
      `'2024-02-29 12:00:00.5'`,
      `'infinity'`,
      `'-infinity'`,
      `'4714-11-24 00:00:00 BC'`,
      `'294276-12-31 23:59:59.999999'`,
    ],
  },
  {
    sql: 'timestamptz',
    name: 'timestamptz',
    rust: 'TimestampWithTimeZone',
    values: [`'2024-02-29 12:00:00.5+02'`, `'infinity'`, `'-infinity'`, `'294276-12-31 23:59:59.999999+00'`],
  },
  {
    sql: 'interval',
    name: 'interval',
    rust: 'Interval',
    values: [
      `'1 year 2 mons 3 days 04:05:06.789'`,
      `'-178000000 years'`,
      `'-1 days +02:00:00'`,
      `'2562047788:00:54.775807'`,
    ],
  },
  {
    sql: 'uuid',
    name: 'uuid',
    rust: 'Uuid',
    values: [
      `'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'`,
      `'00000000-0000-0000-0000-000000000000'`,
      `'ffffffff-ffff-ffff-ffff-ffffffffffff'`,
    ],
  },
  { sql: 'point', name: 'point', rust: 'Point', values: [`'(1.5,-2)'`, `'(NaN,Infinity)'`, `'(0,0)'`] },
  { sql: 'box', name: 'box', rust: 'BOX', values: [`'(1,2),(3,4)'`, `'(-1e300,5),(7,-0.5)'`, `'(0,0),(0,0)'`] },
  { sql: 'tid', name: 'tid', rust: 'pg_sys::ItemPointerData', values: [`'(42,7)'`, `'(4294967295,65535)'`, `'(0,0)'`] },
  {
    sql: 'numeric',
    name: 'numeric',
    rust: 'AnyNumeric',
    values: [`'${THOUSAND_DIGITS}'`, `'NaN'`, `'Infinity'`, `'-Infinity'`, `'-0.000000000000000000001'`, `'123.4500'`],
  },
  {
    sql: 'json',
    name: 'json',
    rust: 'Json',
    values: [`'{"a":[1,2.5,null,{"b":"x\\"y"}],"c":true}'`, `'[]'`, `'"été ✓"'`, `'-0.5'`],
  },
  {
    sql: 'jsonb',
    name: 'jsonb',
    rust: 'JsonB',
    values: [
      `'{"b": 1, "a": {"c": [true, false, null]}}'`,
      `'${'['.repeat(100)}1${']'.repeat(100)}'`,
      `'"ünïcödé"'`,
      `'{}'`,
    ],
  },
  {
    sql: 'int4range',
    name: 'int4range',
    rust: 'Range<i32>',
    values: [`'[1,10)'`, `'empty'`, `'(,)'`, `'[-2147483648,2147483647)'`],
  },
  {
    sql: 'int8range',
    name: 'int8range',
    rust: 'Range<i64>',
    values: [`'(,-9223372036854775807]'`, `'empty'`, `'[5,)'`],
  },
  {
    sql: 'numrange',
    name: 'numrange',
    rust: 'Range<AnyNumeric>',
    values: [`'(1.50,2.250]'`, `'empty'`, `'(,0)'`, `'[-1e-20,1e20]'`],
  },
  {
    sql: 'daterange',
    name: 'daterange',
    rust: 'Range<Date>',
    values: [`'[2000-01-01,infinity)'`, `'empty'`, `'[2024-02-28,2024-03-01]'`],
  },
  {
    sql: 'tsrange',
    name: 'tsrange',
    rust: 'Range<Timestamp>',
    values: [`'["2000-01-01 00:00:00",infinity]'`, `'(,)'`, `'("2024-02-29 23:59:59.5","2024-03-01")'`],
  },
  {
    sql: 'tstzrange',
    name: 'tstzrange',
    rust: 'Range<TimestampWithTimeZone>',
    values: [`'[-infinity,"2000-01-01 00:00:00+00")'`, `'empty'`, `'["2024-02-29 10:00+02",)'`],
  },
];

/** STRICT, scalar and array in, array out: the array followed by the scalar. */
function echoFunction(t: TypeCase): string {
  return `CREATE FUNCTION echo_${t.name}(x ${t.sql}, xs ${t.sql}[]) RETURNS ${t.sql}[] STRICT LANGUAGE plrust AS $$
    let mut v: Vec<Option<${t.rust}>> = xs.into_iter().collect();
    v.push(Some(x));
    Ok(Some(v))
$$;
CREATE FUNCTION pick_${t.name}(x ${t.sql}) RETURNS ${t.sql} LANGUAGE plrust AS $$
    Ok(x)
$$;`;
}

/** Rust's view of values compared with PostgreSQL's, for many generated values. */
const SEMANTICS = `
CREATE FUNCTION num_ops(a numeric, b numeric) RETURNS text[] STRICT LANGUAGE plrust AS $$
    use pgrx::prelude::*;
    let div = a.checked_div(&b).map(|q| q.to_string()).unwrap_or_else(|e| e.to_string());
    let rem = a.checked_rem(&b).map(|q| q.to_string()).unwrap_or_else(|e| e.to_string());
    let cmp = match a.cmp(&b) { core::cmp::Ordering::Less => -1, core::cmp::Ordering::Equal => 0, _ => 1 };
    Ok(Some(vec![
        Some((&a + &b).to_string()),
        Some((&a - &b).to_string()),
        Some((&a * &b).to_string()),
        Some(div),
        Some(rem),
        Some(cmp.to_string()),
        Some(a.round(2).to_string()),
        Some(a.trunc(-1).to_string()),
        Some(a.floor().to_string()),
        Some(a.ceil().to_string()),
        Some(a.abs().to_string()),
        Some(i64::try_from(&a).map(|v| v.to_string()).unwrap_or_else(|e| e.to_string())),
        Some(f64::try_from(&a).map(|v| v.to_string()).unwrap_or_else(|e| e.to_string())),
        Some(a.normalize().to_string()),
    ]))
$$;
CREATE FUNCTION float_to_numeric(f float8, g float4) RETURNS numeric[] STRICT LANGUAGE plrust AS $$
    Ok(Some(vec![AnyNumeric::try_from(f).ok(), AnyNumeric::try_from(g).ok()]))
$$;
CREATE FUNCTION ts_ops(t timestamp, i interval, d date) RETURNS text[] STRICT LANGUAGE plrust AS $$
    Ok(Some(vec![
        t.checked_add(i).map(|v| v.to_string()),
        t.checked_sub(i).map(|v| v.to_string()),
        Some(t.to_string()),
        t.is_finite().then(|| format!("{}-{}-{} {}:{}:{}", t.year(), t.month(), t.day(), t.hour(), t.minute(), t.second())),
        Some(t.date().to_string()),
        Some(i.to_string()),
        Some(i.justify_hours().to_string()),
        Some(i.justify_days().to_string()),
        Some(i.justify_interval().to_string()),
        Some(d.to_string()),
        Some(format!("{} {} {} {} {}", d.year(), d.month(), d.day(), d.dow(), d.doy())),
        t.is_finite().then(|| (Timestamp::from(d) - t).to_string()),
        d.checked_add_days(40).map(|v| v.to_string()),
    ]))
$$;
CREATE FUNCTION make_values(y int, m int, dd int) RETURNS text[] STRICT LANGUAGE plrust AS $$
    let date = Date::new(y, m as u8, dd as u8);
    let ts = Timestamp::new(y, m as u8, dd as u8, 23, 59, 59.25);
    let tz = TimeWithTimeZone::with_timezone_offset(1, 2, 3.5, -(5 * 3600 + 30 * 60));
    Ok(Some(vec![
        Some(date.map(|d| d.to_string()).unwrap_or_else(|e| e.to_string())),
        Some(ts.map(|t| t.to_string()).unwrap_or_else(|e| e.to_string())),
        Some(tz.map(|t| t.to_string()).unwrap_or_else(|e| e.to_string())),
    ]))
$$;
CREATE FUNCTION range_has(r int8range, x int8, n numrange, y numeric) RETURNS text STRICT LANGUAGE plrust AS $$
    let bounds = |b: Option<&RangeBound<i64>>| match b {
        None => "none".to_string(),
        Some(RangeBound::Infinite) => "inf".to_string(),
        Some(RangeBound::Inclusive(v)) => format!("[{v}"),
        Some(RangeBound::Exclusive(v)) => format!("({v}"),
    };
    let tf = |b: bool| if b { "t" } else { "f" };
    Ok(Some(format!("{} {} {} {} {} {}", tf(r.contains(&x)), tf(n.contains(&y)), tf(r.is_empty()), tf(r.is_infinite()), bounds(r.lower()), bounds(r.upper()))))
$$;
CREATE FUNCTION make_ranges(a int, b int) RETURNS int4range[] STRICT LANGUAGE plrust AS $$
    Ok(Some(vec![
        Some(Range::new(a, b)),
        Some((a..b).into()),
        Some(Range::new(RangeBound::Exclusive(a), RangeBound::Infinite)),
        Some(Range::empty()),
        Some(Range::infinite()),
    ]))
$$;
CREATE FUNCTION uuid_text(u uuid, o oid, c "char", t tid, p point) RETURNS text STRICT LANGUAGE plrust AS $$
    Ok(Some(format!("{u} {o} {c} {t} {},{} {}", p.x, p.y, o.as_u32() + 1)))
$$;
CREATE FUNCTION cstr(c cstring) RETURNS cstring STRICT LANGUAGE plrust AS $$
    let mut s = c.to_str()?.to_uppercase();
    s.push('!');
    Ok(Some(std::ffi::CString::new(s)?))
$$;
CREATE FUNCTION upstream_style(n numeric, xs int[], o oid) RETURNS numeric LANGUAGE plrust AS $$
    use pgrx::prelude::*;
    use pgrx::datum::Array;
    let o: Option<pg_sys::Oid> = o;
    let arr: Array<i32> = xs.unwrap_or_else(|| Array::from(vec![]));
    let sum: i64 = arr.iter().flatten().map(i64::from).sum();
    let n: Option<pgrx::AnyNumeric> = n;
    let base = n.unwrap_or_else(|| pgrx::AnyNumeric::from(0));
    Ok(Some(base + sum + o.map(|o| o.as_u32()).unwrap_or(0) + arr.len() + arr.as_slice().map(|s| s.len()).unwrap_or(1000)))
$$;
CREATE FUNCTION jb(x jsonb) RETURNS jsonb STRICT LANGUAGE plrust AS $$
    let n = x.0["n"].as_i64().unwrap_or(0);
    let tags: Vec<String> = x.0["tags"].as_array().map(|a| a.iter().filter_map(|t| t.as_str().map(str::to_uppercase)).collect()).unwrap_or_default();
    Ok(Some(JsonB(serde_json::json!({ "doubled": n * 2, "tags": tags, "orig": x.0 }))))
$$;
CREATE FUNCTION deep_json(n int) RETURNS jsonb STRICT LANGUAGE plrust AS $$
    let mut v = serde_json::Value::Null;
    for _ in 0..n {
        v = serde_json::Value::Array(vec![v]);
    }
    Ok(Some(JsonB(v)))
$$;
CREATE FUNCTION slow_num(digits int) RETURNS numeric STRICT LANGUAGE plrust AS $$
    let x: AnyNumeric = "7".repeat(digits as usize).parse()?;
    let mut y = x.clone();
    for _ in 0..1000 {
        y = &y * &x;
    }
    Ok(Some(y))
$$;
CREATE FUNCTION tz_view(t timestamptz) RETURNS text[] STRICT LANGUAGE plrust AS $$
    let ts: Timestamp = t.into();
    let d: Date = t.into();
    let made = if t.is_finite() { TimestampWithTimeZone::new(t.year(), t.month(), t.day(), t.hour(), t.minute(), t.second())? } else { t };
    Ok(Some(vec![
        Some(t.to_string()),
        t.is_finite().then(|| format!("{} {} {} {} {}", t.year(), t.month(), t.day(), t.hour(), t.minute())),
        Some(ts.to_string()),
        Some(d.to_string()),
        Some(TimestampWithTimeZone::from(ts).to_string()),
        Some(made.to_string()),
        Some(TimestampWithTimeZone::from(d).to_string()),
        t.checked_add(Interval::from_days(1)).map(|v| v.to_string()),
        t.checked_sub(Interval::from_months(1)).map(|v| v.to_string()),
        t.checked_add(Interval::from_hours(24)).map(|v| v.to_string()),
    ]))
$$;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN good_mood AS mood CHECK (VALUE <> 'sad');
CREATE FUNCTION cheer(m mood, ms mood[]) RETURNS mood[] STRICT LANGUAGE plrust AS $$
    let up = |m: &str| match m { "sad" => "ok", _ => "happy" }.to_string();
    let mut out: Vec<Option<String>> = ms.into_iter().map(|x| x.map(up)).collect();
    out.push(Some(up(m)));
    Ok(Some(out))
$$;
CREATE FUNCTION label(m good_mood, wanted text) RETURNS good_mood STRICT LANGUAGE plrust AS $$
    Ok(Some(if wanted.is_empty() { m.to_string() } else { wanted.to_string() }))
$$;
CREATE DOMAIN small_num AS numeric CHECK (VALUE < 100);
`;

/** A .rs file's array parameters: pgrx's Array<T>, Vec<Option<T>> and upstream's Vec<T>; oid as u32. */
const ARRAYS_RS = `use pgrx::prelude::*;

pub fn rs_arr(xs: Array<i64>, names: Option<pgrx::Array<'_, &str>>) -> Option<Vec<Option<String>>> {
    Some(vec![
        Some(xs.len().to_string()),
        Some(xs.is_empty().to_string()),
        Some(xs.iter().map(|x| x.map_or("NULL".to_string(), |v| v.to_string())).collect::<Vec<_>>().join(",")),
        xs.as_slice().ok().map(|s| s.iter().sum::<i64>().to_string()),
        names.map(|n| n.iter().flatten().collect::<Vec<&str>>().join("+")),
    ])
}

pub fn rs_deny(xs: Array<'_, i32>) -> Option<i32> {
    Some(xs.iter_deny_null().sum())
}

pub fn rs_vec(xs: Vec<i32>, ts: Option<Vec<&str>>, os: Vec<Option<f64>>) -> Option<String> {
    Some(format!("{} {:?} {}", xs.iter().sum::<i32>(), ts.map(|t| t.concat()), os.len()))
}

pub fn rs_oid(o: u32) -> Option<u32> {
    Some(o / 2)
}
`;

describe('every upstream PL/Rust type in PostgreSQL 15', () => {
  let home: string;
  let pg: PgCluster;

  before(async () => {
    home = await tempHome('types', { toolchain: true });
    await installPlrust(home);
    pg = await startCluster();
    await pg.psql(`ALTER DATABASE postgres SET plrust.targets = 'x86_64'; CREATE EXTENSION plrust;`);
    const rs = parseRsFile(ARRAYS_RS, 'arrays.rs');
    assert.deepEqual(rs.errors, []);
    await pg.psql(TYPES.map(echoFunction).join('\n') + SEMANTICS + rs.functions.map(createFunctionSql).join('\n'));
  });

  after(async () => {
    await pg?.stop();
    if (home) await uninstallPlrust(home);
  });

  async function roundTrips(): Promise<void> {
    for (const t of TYPES) {
      const [a, ...rest] = t.values.map((v) => `${v}::${t.sql}`);
      const xs = `ARRAY[${rest.join(', ')}, NULL]::${t.sql}[]`;
      const [row] = await pg.query(
        `SELECT echo_${t.name}(${a}, ${xs})::text, (${xs} || ${a})::text,
                echo_${t.name}(${a}, '{}')::text, ARRAY[${a}]::text,
                pick_${t.name}(${a})::text, (${a})::text, pick_${t.name}(NULL) IS NULL,
                echo_${t.name}(NULL, ${xs}) IS NULL`,
      );
      assert.equal(row![0], row![1], `${t.sql}: the array with its NULL and the scalar appended`);
      assert.equal(row![2], row![3], `${t.sql}: an empty array in`);
      assert.equal(row![4], row![5], `${t.sql}: the non-STRICT scalar`);
      assert.deepEqual(row!.slice(6), ['t', 't'], `${t.sql}: NULL in, NULL out`);
    }
  }

  test('every type and its array round-trip unchanged, NULLs and extremes included', async () => {
    await roundTrips();
  });

  test('and the same under plrust.isolation = process: the runner copies every value by its shape tag', async () => {
    const db = await pg.psql('SELECT current_database();');
    await pg.psql(`ALTER DATABASE ${db} SET plrust.isolation = 'process';`);
    try {
      const s = await pg.openSession();
      try {
        assert.equal((await s.run(`SELECT echo_numrange('[1,2)', '{empty}')::text;`)).stdout.trim(), '{empty,"[1,2)"}');
        const children = readFileSync(`/proc/${s.pid}/task/${s.pid}/children`, 'utf8').trim().split(/\s+/);
        assert.match(readFileSync(`/proc/${children[0]}/cmdline`, 'utf8'), /^\/usr\/bin\/bwrap\0/, 'a runner ran it');
      } finally {
        await s.close();
      }
      await roundTrips();
    } finally {
      await pg.psql(`ALTER DATABASE ${db} RESET plrust.isolation;`);
    }
  });

  test('results are given back to the library: 20,000 calls returning ranges, JSON and intervals hold no more memory', async () => {
    const s = await pg.openSession();
    try {
      const held = async (): Promise<number[]> => {
        const out = await s.run(
          `SELECT ident, used_bytes FROM pg_backend_memory_contexts WHERE name = 'PL/Rust function' AND ident IN ('echo_numrange', 'echo_jsonb', 'echo_interval') ORDER BY ident;`,
        );
        return out.stdout
          .trim()
          .split('\n')
          .map((l) => Number(l.split('|')[1]));
      };
      const calls = (n: number) =>
        s.run(
          `SELECT count(echo_numrange('[1.5,2.5)', '{"(,3.25]",empty,NULL}')), count(echo_jsonb('{"a": [1, 2]}', '{"[3]",NULL}')),
                  count(echo_interval('1 day', '{"2 mons"}')) FROM generate_series(1, ${n});`,
        );
      await calls(10);
      const before = await held();
      assert.equal(before.length, 3, 'the three libraries are loaded');
      const r = await calls(20000);
      assert.equal(r.stdout.trim(), '20000|20000|20000', r.stderr);
      const after = await held();
      after.forEach((a, i) => assert.ok(a - before[i]! < 64 * 1024, `grew by ${a - before[i]!} bytes`));
    } finally {
      await s.close();
    }
  });

  test('numeric arithmetic equals PostgreSQL numeric, for generated values and the special ones', async () => {
    const rows = await pg.query(`
      WITH v(x) AS (
        SELECT round((random() * 10 ^ (random() * 30 - 10))::numeric, (random() * 20)::int) * (CASE WHEN random() < 0.5 THEN -1 ELSE 1 END)
          FROM generate_series(1, 60)
        UNION ALL VALUES (0), (1), (-1), (0.5), (-2.5), (3), (7.000), (1e-30), ('${THOUSAND_DIGITS}'), ('NaN'), ('Infinity'), ('-Infinity'), (9999), (10000), (0.0001)
      ), pairs AS (SELECT a.x AS a, b.x AS b FROM v a, v b WHERE random() < 0.12 OR a.x::text IN ('NaN', 'Infinity', '0', '${THOUSAND_DIGITS}'))
      SELECT a, b, num_ops(a, b)::text,
        ARRAY[(a + b)::text, (a - b)::text, (a * b)::text,
              CASE WHEN b = 0 AND a::text <> 'NaN' THEN 'division by zero' ELSE (a / b)::text END,
              CASE WHEN b = 0 AND a::text <> 'NaN' THEN 'division by zero' ELSE mod(a, b)::text END,
              (CASE WHEN a < b THEN -1 WHEN a = b THEN 0 ELSE 1 END)::text,
              round(a, 2)::text, trunc(a, -1)::text, floor(a)::text, ceil(a)::text, abs(a)::text,
              CASE WHEN a::text = 'NaN' THEN 'cannot convert NaN to i64'
                   WHEN a::text LIKE '%Infinity' THEN 'cannot convert infinity to i64'
                   WHEN abs(a) > 9223372036854775807 THEN 'i64 out of range' ELSE a::int8::text END,
              NULL, trim_scale(a)::text]::text
        FROM pairs`);
    assert.ok(rows.length > 200, `${rows.length} pairs`);
    for (const [a, b, rust, sql] of rows) {
      // float8 output differs in spelling between Rust and PostgreSQL: compare it apart.
      const r = JSON.parse(
        `[${rust!.slice(1, -1).replace(/([^,{}]+)/g, (m) => JSON.stringify(m.replace(/^"|"$/g, '')))}]`,
      );
      const s = JSON.parse(
        `[${sql!.slice(1, -1).replace(/([^,{}]+)/g, (m) => JSON.stringify(m.replace(/^"|"$/g, '')))}]`,
      );
      const floatOf = r.splice(12, 1)[0] as string;
      s.splice(12, 1);
      assert.deepEqual(r, s, `${a} op ${b}`);
      if (/^[0-9.-]+$/.test(a!) && a!.length < 30) assert.equal(Number(floatOf), Number(a), `f64 of ${a}`);
    }
  });

  test('float to numeric keeps 15 (float8) and 6 (float4) significant digits, as PostgreSQL casts', async () => {
    const rows = await pg.query(`
      SELECT float_to_numeric(f, g)::text, ARRAY[f::numeric, g::numeric]::text
        FROM (SELECT f, CASE WHEN f IN (1e300, 5e-324) THEN 0.25::float4 ELSE f::float4 END AS g
                FROM (SELECT (random() * 10 ^ (random() * 40 - 20)) * (CASE WHEN random() < 0.5 THEN -1 ELSE 1 END)
                        FROM generate_series(1, 100)
                      UNION ALL VALUES (0.1::float8), (1.0/3), ('NaN'), ('Infinity'), ('-Infinity'), (1e300), (5e-324),
                                       (123456789012345678)) v(f)) w`);
    for (const [rust, sql] of rows) assert.equal(rust, sql);
  });

  test('dates, timestamps and intervals: arithmetic, fields and output equal PostgreSQL', async () => {
    const rows = await pg.query(`
      WITH v AS (
        SELECT timestamp '2000-01-01' + (random() * 200000 - 100000) * interval '1 day' + random() * interval '1 day' AS t,
               make_interval(years => (random() * 20 - 10)::int, months => (random() * 30 - 15)::int,
                             days => (random() * 80 - 40)::int, secs => random() * 200000 - 100000) AS i,
               date '2000-01-01' + (random() * 800000 - 400000)::int AS d
          FROM generate_series(1, 150)
        UNION ALL VALUES (timestamp '2024-01-31 10:00', interval '1 month', date '2024-02-29'),
                         (timestamp '2023-03-31', interval '-1 mon -1 day', date '0001-01-01 BC'),
                         (timestamp 'infinity', interval '1 day', date '1999-12-31'),
                         (timestamp '2000-01-01', interval '0', date '2000-01-01'),
                         (timestamp '294276-12-31 23:59:59', interval '0.5 second', date '200000-01-01'),
                         (timestamp '4714-11-25 BC', interval '-1 day', date '4714-11-24 BC')
      )
      SELECT ts_ops(t, i, d)::text,
             ARRAY[(t + i)::text, (t - i)::text, t::text,
                   CASE WHEN isfinite(t) THEN format('%s-%s-%s %s:%s:%s', extract(year FROM t), extract(month FROM t), extract(day FROM t),
                          extract(hour FROM t), extract(minute FROM t), trim_scale(extract(second FROM t))) END,
                   t::date::text, i::text, justify_hours(i)::text, justify_days(i)::text, justify_interval(i)::text, d::text,
                   format('%s %s %s %s %s', extract(year FROM d), extract(month FROM d), extract(day FROM d), extract(dow FROM d), extract(doy FROM d)),
                   CASE WHEN isfinite(t) THEN (d::timestamp - t)::text END, (d + 40)::text]::text
        FROM v`);
    assert.ok(rows.length >= 150);
    for (const [rust, sql] of rows) {
      assert.equal(rust, sql);
    }
  });

  test("timestamptz in the session's TimeZone: output, fields, casts and calendar arithmetic equal PostgreSQL's across DST changes, also isolated", async () => {
    const db = await pg.psql('SELECT current_database();');
    const instants = [
      '2026-03-28 12:00+00',
      '2026-03-29 00:59:59+00',
      '2026-03-29 01:00+00',
      '2026-03-29 01:30+00',
      '2026-10-25 00:30+00',
      '2026-10-25 01:30+00',
      '2026-03-08 06:30+00',
      '2026-03-08 07:30+00',
      '2026-11-01 05:30+00',
      '2026-11-01 06:30+00',
      '1850-06-01 12:00+00',
      '2000-01-01 00:00+00',
      '0044-03-15 12:00+00 BC',
      'infinity',
      '-infinity',
    ];
    try {
      for (const isolation of ['in-process', 'process']) {
        await pg.psql(`ALTER DATABASE ${db} SET plrust.isolation = '${isolation}';`);
        for (const zone of ['Europe/Berlin', 'America/New_York']) {
          await pg.psql(`ALTER DATABASE ${db} SET TimeZone = '${zone}';`);
          const rows = await pg.query(`
            SELECT t::text, current_setting('TimeZone'), tz_view(t)::text,
                   ARRAY[t::text,
                         CASE WHEN isfinite(t) THEN format('%s %s %s %s %s', extract(year FROM t), extract(month FROM t),
                           extract(day FROM t), extract(hour FROM t), extract(minute FROM t)) END,
                         t::timestamp::text, t::date::text, t::timestamp::timestamptz::text,
                         CASE WHEN isfinite(t) THEN make_timestamptz(extract(year FROM t)::int, extract(month FROM t)::int,
                           extract(day FROM t)::int, extract(hour FROM t)::int, extract(minute FROM t)::int,
                           extract(second FROM t)::float8)::text ELSE t::text END,
                         t::date::timestamptz::text, (t + interval '1 day')::text, (t - interval '1 month')::text,
                         (t + interval '24 hours')::text]::text
              FROM unnest('{${instants.map((i) => `"${i}"`).join(',')}}'::timestamptz[]) AS t`);
          assert.equal(rows.length, instants.length);
          for (const [t, shown, rust, sql] of rows) {
            assert.equal(shown, zone);
            assert.equal(rust, sql, `${t} in ${zone} (isolation ${isolation})`);
          }
        }
      }
    } finally {
      await pg.psql(`ALTER DATABASE ${db} RESET TimeZone; ALTER DATABASE ${db} RESET plrust.isolation;`);
    }
  });

  test('constructors check fields as make_date and make_timestamp do', async () => {
    assert.deepEqual(
      await pg.query(
        `SELECT make_values(2024, 2, 29), make_values(2023, 2, 29), make_values(-44, 3, 15), make_values(0, 1, 1)`,
      ),
      [
        [
          '{2024-02-29,"2024-02-29 23:59:59.25",01:02:03.5-05:30}',
          '{"date/time field value out of range","date/time field value out of range",01:02:03.5-05:30}',
          '{"0044-03-15 BC","0044-03-15 23:59:59.25 BC",01:02:03.5-05:30}',
          '{"date/time field value out of range","date/time field value out of range",01:02:03.5-05:30}',
        ],
      ],
    );
    assert.deepEqual(await pg.query(`SELECT make_date(2024, 2, 29)::text, make_date(-44, 3, 15)::text`), [
      ['2024-02-29', '0044-03-15 BC'],
    ]);
  });

  test('ranges: bounds, containment, and results put into canonical form by PostgreSQL', async () => {
    const rows = await pg.query(`
      SELECT range_has(r, x, n, y), format('%s %s %s %s %s %s', r @> x, n @> y, isempty(r), lower_inf(r) AND upper_inf(r),
               CASE WHEN isempty(r) THEN 'none' WHEN lower_inf(r) THEN 'inf' WHEN lower_inc(r) THEN '[' || lower(r) ELSE '(' || lower(r) END,
               CASE WHEN isempty(r) THEN 'none' WHEN upper_inf(r) THEN 'inf' WHEN upper_inc(r) THEN '[' || upper(r) ELSE '(' || upper(r) END)
        FROM (VALUES ('[1,10)'::int8range, 1::int8, '(1.5,2.5]'::numrange, 1.5), ('empty', 0, 'empty', 0),
                     ('(,)', -9223372036854775808, '(,)', 'Infinity'), ('[,5]', 6, '[0,1)', 1), ('(-3,)', -2, '[0.9999,1]', 1.0000)) v(r, x, n, y)`);
    for (const [rust, sql] of rows) assert.equal(rust, sql);
    assert.deepEqual(await pg.query(`SELECT make_ranges(1, 5)::text`), [['{"[1,6)","[1,5)","[2,)",empty,"(,)"}']]);
    assert.deepEqual(await pg.query(`SELECT make_ranges(2, 2)::text`), [['{"[2,3)",empty,"[3,)",empty,"(,)"}']]);
    const bad = await pg.psqlResult('SELECT make_ranges(5, 1);');
    assert.match(bad.stderr, /ERROR: +range lower bound must be less than or equal to range upper bound/);
  });

  test('uuid, oid, "char", tid, point and cstring as PostgreSQL prints them', async () => {
    assert.deepEqual(
      await pg.query(
        `SELECT uuid_text('A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 4000000000, 'x', '(7,3)', '(1.5,-2)'), cstr('abc'), cstr('')`,
      ),
      [['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 4000000000 120 (7,3) 1.5,-2 4000000001', 'ABC!', '!']],
    );
  });

  test('a function written as upstream documents it: the prelude, pgrx:: and pg_sys:: paths, Array<T>', async () => {
    assert.deepEqual(
      await pg.query(`SELECT upstream_style(1.5, '{1,2,NULL}', 10)::text, upstream_style(NULL, '{4}', NULL)::text`),
      [['1017.5', '6']],
    );
  });

  test('array arguments as upstream has them: Array<T> (len, iter, as_slice, iter_deny_null), Vec<T> refusing a NULL by name, oid as u32', async () => {
    assert.deepEqual(
      await pg.query(
        `SELECT rs_arr('{1,2,NULL,4}', '{a,NULL,b}')::text, rs_arr('{}', NULL)::text, rs_arr('{5,6}', '{x}')::text,
                rs_deny('{1,2,3}'), rs_vec('{1,2}', '{a,b}', '{1.5,NULL}'), rs_vec('{}', NULL, '{}'), rs_oid(4294967295::oid)`,
      ),
      [
        [
          '{4,false,"1,2,NULL,4",NULL,a+b}',
          '{0,true,"",0,NULL}',
          '{2,false,"5,6",11,x}',
          '6',
          '3 Some("ab") 2',
          '0 None 0',
          '2147483647',
        ],
      ],
    );
    const types = await pg.query(
      `SELECT pg_get_function_identity_arguments('rs_vec'::regproc), pg_get_function_identity_arguments('rs_oid'::regproc)`,
    );
    assert.deepEqual(types, [['xs integer[], ts text[], os double precision[]', 'o oid']]);
    const vecNull = await pg.psqlResult(`SELECT rs_vec('{1,NULL}', '{a}', '{}');`);
    assert.match(
      vecNull.stderr,
      /ERROR: .*argument `xs` contains a NULL element, but the function's parameter is a Vec<T>/,
    );
    const textNull = await pg.psqlResult(`SELECT rs_vec('{1}', '{a,NULL}', '{}');`);
    assert.match(textNull.stderr, /ERROR: .*argument `ts` contains a NULL element/);
    const denied = await pg.psqlResult(`SELECT rs_deny('{1,NULL}');`);
    assert.match(denied.stderr, /ERROR: .*array contains NULL/);
    assert.deepEqual(await pg.query(`SELECT rs_deny('{7}')`), [['7']], 'the session goes on');
  });

  test('json and jsonb are serde_json values: indexing, json! and the result parsed by PostgreSQL', async () => {
    assert.deepEqual(
      await pg.query(
        `SELECT jb('{"n": 21, "tags": ["x", "y", 3]}') = '{"doubled": 42, "tags": ["X", "Y"], "orig": {"n": 21, "tags": ["x", "y", 3]}}'::jsonb`,
      ),
      [['t']],
    );
    const big = await pg.psqlResult(`SELECT jb('{"n": 1e400}');`);
    assert.match(big.stderr, /argument `x` is JSON that serde_json cannot represent/);
  });

  test('an attacker: a JSON result nested past the stack and an endless numeric product end in ERRORs, the session lives', async () => {
    const s = await pg.openSession();
    try {
      const pid = (await s.run('SELECT pg_backend_pid();')).stdout.trim();
      assert.equal((await s.run(`SELECT jsonb_array_length(deep_json(3));`)).stdout.trim(), '1');
      const deep = await s.run(`SELECT deep_json(2000000);`);
      assert.match(deep.stderr, /ERROR: /, 'an ERROR, not a crash');
      const slow = await s.run(`SET statement_timeout = '1s'; SELECT slow_num(20000); RESET statement_timeout;`);
      assert.match(slow.stderr, /ERROR: +canceling statement due to statement timeout/);
      assert.equal((await s.run('SELECT pg_backend_pid();')).stdout.trim(), pid, 'the same backend');
    } finally {
      await s.close();
    }
  });

  test('domains are their base type, with their constraints checked on return', async () => {
    await pg.psql(
      `CREATE FUNCTION dom(x small_num) RETURNS small_num STRICT LANGUAGE plrust AS $$ Ok(Some(x * 10)) $$;`,
    );
    assert.deepEqual(await pg.query(`SELECT dom(5)::text`), [['50']]);
    const bad = await pg.psqlResult('SELECT dom(20);');
    assert.match(bad.stderr, /ERROR: +value for domain small_num violates check constraint "small_num_check"/);
  });

  test('enums are their labels (text), checked by enum_in and by a domain on return', async () => {
    assert.deepEqual(await pg.query(`SELECT cheer('sad', '{happy,NULL,sad}')::text, label('ok', '')::text`), [
      ['{happy,NULL,ok,ok}', 'ok'],
    ]);
    const bad = await pg.psqlResult(`SELECT label('ok', 'angry');`);
    assert.match(bad.stderr, /ERROR: +invalid input value for enum mood: "angry"/);
    const sad = await pg.psqlResult(`SELECT label('ok', 'sad');`);
    assert.match(sad.stderr, /ERROR: +value for domain good_mood violates check constraint "good_mood_check"/);
  });

  test('an unsupported type is refused at CREATE FUNCTION with the list of supported types', async () => {
    const r = await pg.psqlResult(
      `CREATE FUNCTION bad(a macaddr) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(1)) $$;`,
    );
    assert.match(
      r.stderr,
      /ERROR: +PL\/Rust does not support type macaddr\nDETAIL: +The supported types are .*numeric, json, jsonb, inet, int4range.*tstzrange/,
    );
    const md = await pg.psqlResult(`SELECT echo_date('2000-01-01', '{{2000-01-01},{2000-01-02}}');`);
    assert.match(
      md.stderr,
      /ERROR: +PL\/Rust functions accept only one-dimensional arrays\nDETAIL: +Argument 2 has 2 dimensions\./,
    );
  });
});
