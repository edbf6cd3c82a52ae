/**
 * Two edges of the value types on PostgreSQL 15. pgrx's `Numeric<P, S>`
 * against PostgreSQL's own typmod rule: for
 * hundreds of generated values (1000-digit ones, values on the rounding
 * edge, NaN, ±Infinity) and several (P, S), what the Rust conversion gives
 * (the value, or the error's SQLSTATE, message and detail) equals
 * `v::numeric(P, S)` on the server. Also the typmod of a `.rs` signature
 * applied at the call, arithmetic yielding AnyNumeric, and a nonsensical
 * (P, S) refused when the function is compiled. And the extreme intervals,
 * which are ±infinity only from PostgreSQL 17 on (test/matrix covers the
 * majors): here `Interval::INFINITY` is the finite value 15 prints, also
 * under process isolation, and adding it to a timestamp is an ERROR.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { installPlrust, tempHome, uninstallPlrust } from '../helpers/plrust-install.js';
import { parseRsFile } from '../../src/functions/rs-file.js';
import { createFunctionSql } from '../../src/compile/artifacts.js';

/** The (P, S) pairs the Rust function instantiates, in its output order. */
const PAIRS: [number, number][] = [
  [1, 0],
  [2, 2],
  [4, 2],
  [10, 5],
  [38, 10],
  [1000, 0],
  [1000, 990],
];

const CAST = PAIRS.map(([p, s]) => `out.push(Some(cast::<${p}, ${s}>(&v)));`).join('\n        ');

const FUNCTIONS = `
CREATE FUNCTION typmod_cast(vals numeric[], ints int8[], floats float8[]) RETURNS text[] STRICT LANGUAGE plrust AS $$
    fn show<const P: u32, const S: u32>(r: Result<Numeric<P, S>, pgrx::datum::NumericError>) -> String {
        match r {
            Ok(n) => n.to_string(),
            Err(e) => format!("ERROR {} {} / {}", e.sqlstate(), e.message(), e.detail().unwrap_or("")),
        }
    }
    fn cast<const P: u32, const S: u32>(v: &AnyNumeric) -> String {
        let by_ref = show(Numeric::<P, S>::try_from(v));
        // The text, owned and borrowed routes must agree with each other.
        assert_eq!(by_ref, show(v.to_string().parse::<Numeric<P, S>>()));
        assert_eq!(by_ref, show(Numeric::<P, S>::try_from(v.clone())));
        by_ref
    }
    let mut out = Vec::new();
    for v in vals.iter() {
        let v = v.unwrap_or_else(AnyNumeric::nan);
        ${CAST}
    }
    for i in ints.iter().flatten() {
        out.push(Some(show(Numeric::<4, 2>::try_from(i))));
    }
    for f in floats.iter().flatten() {
        out.push(Some(show(Numeric::<6, 3>::try_from(f))));
    }
    Ok(Some(out))
$$;
CREATE FUNCTION typmod_raise(x numeric) RETURNS numeric STRICT LANGUAGE plrust AS $$
    let n: Numeric<4, 2> = Numeric::try_from(&x).unwrap_or_else(|e| e.raise());
    let sum: AnyNumeric = n.clone() + 1;
    if !n.as_anynumeric().is_nan() {
        assert!(n < sum && sum > n && n == n.as_anynumeric().clone() && -(-n.clone()) == n);
    }
    Ok(Some(n.into()))
$$;
CREATE FUNCTION iv_extreme(ts timestamp) RETURNS interval[] STRICT LANGUAGE plrust AS $$
    assert!(!Interval::INFINITY.is_infinite() && Interval::NEG_INFINITY.is_finite());
    // Equal intervals hash alike: '1 mon' = '30 days'.
    let set: std::collections::HashSet<Interval> = [Interval::from_months(1), Interval::from_days(30)].into_iter().collect();
    assert_eq!(set.len(), 1);
    assert_eq!(Interval::INFINITY.to_string(), "178956970 years 7 mons 2147483647 days 2562047788:00:54.775807");
    if ts.is_finite() {
        notice!("{}", ts + Interval::INFINITY);
    }
    Ok(Some(vec![Some(Interval::INFINITY), Some(Interval::NEG_INFINITY)]))
$$;
CREATE FUNCTION attempt(q text, v numeric) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text; st text; m text; d text;
BEGIN
    EXECUTE q INTO r USING v;
    RETURN r;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL;
    RETURN format('ERROR %s %s / %s', st, m, d);
END $$;
`;

const RS = `use pgrx::prelude::*;

pub fn rs_money(x: Numeric<10, 2>, rate: AnyNumeric) -> Option<pgrx::Numeric<12, 4>> {
    let product: AnyNumeric = x * rate;
    Some(Numeric::try_from(product).unwrap_or_else(|e| e.raise()))
}
`;

const ONE_THOUSAND_NINES = '9'.repeat(1000);

/** Values as SQL numeric expressions: generated magnitudes and scales, rounding edges, extremes. */
const VALUES_SQL = `
  SELECT round((random() * 10 ^ (random() * 14 - 6))::numeric, (random() * 12)::int) * (CASE WHEN random() < 0.5 THEN -1 ELSE 1 END)
    FROM generate_series(1, 150)
  UNION ALL
  SELECT (trunc((random() * 10 ^ (random() * 6))::numeric, d) + 5 * 10 ^ (-d - 1)::numeric) * (CASE WHEN random() < 0.5 THEN -1 ELSE 1 END)
    FROM generate_series(1, 80) g, LATERAL (SELECT (g % 12) AS d) x
  UNION ALL VALUES (0), (-0.0), (0.5), (-0.5), (0.005), (0.995), (-0.995), (0.994999), (9.995), (99.995), (-99.995),
    (99.994), (9.5), (1), (10), (99999.999995), (99999.999994), (1e-1000), (-1e-990), (5e-991), ('NaN'), ('Infinity'), ('-Infinity'),
    ('${ONE_THOUSAND_NINES}'), ('-${ONE_THOUSAND_NINES}.5'), ('${ONE_THOUSAND_NINES.slice(1)}.5'), ('1${'0'.repeat(999)}'),
    ('0.${'9'.repeat(990)}5'), ('9.${'9'.repeat(995)}'), ('-0.${'0'.repeat(989)}5'), ('12345678901234567890123456789.0123456789012345')`;

describe('numeric typmods and interval extremes on PostgreSQL 15', () => {
  let home: string;
  let pg: PgCluster;

  before(async () => {
    home = await tempHome('typmod-infinity', { toolchain: true });
    await installPlrust(home);
    pg = await startCluster();
    const rs = parseRsFile(RS, 'money.rs');
    assert.deepEqual(rs.errors, []);
    await pg.psql(
      `ALTER DATABASE postgres SET plrust.targets = 'x86_64'; CREATE EXTENSION plrust;
       CREATE TABLE v AS SELECT row_number() OVER () AS i, x FROM (${VALUES_SQL}) s(x);` +
        FUNCTIONS +
        rs.functions.map(createFunctionSql).join('\n'),
    );
  });

  after(async () => {
    await pg?.stop();
    if (home) await uninstallPlrust(home);
  });

  test('the value or the error of every generated value and (P, S) equals v::numeric(P, S)', async () => {
    const ints = [0, 99, -99, 100, 12, -100, 9223372036854775807n];
    const floats = ['1.2345', '-999.9995', '999.9994', '1000', '0.0005', `'NaN'`, `'Infinity'`, '1e-300', '-1e300'];
    const pairs = `(VALUES ${PAIRS.map(([p, s], j) => `(${j}, ${p}, ${s})`).join(', ')}) AS pr(j, p, s)`;
    const [[got, want, count]] = (await pg.query(`
      SELECT typmod_cast((SELECT array_agg(x ORDER BY i) FROM v), '{${ints.join(',')}}', ARRAY[${floats.join(',')}]::float8[]),
        (SELECT array_agg(attempt(format('SELECT $1::numeric(%s,%s)::text', p, s), x) ORDER BY i, j) FROM v, ${pairs})
          || (SELECT array_agg(attempt('SELECT $1::int8::numeric(4,2)::text', x) ORDER BY o) FROM unnest('{${ints.join(',')}}'::numeric[]) WITH ORDINALITY u(x, o))
          || (SELECT array_agg(attempt('SELECT $1::float8::numeric(6,3)::text', x::numeric) ORDER BY o)
              FROM unnest(ARRAY[${floats.join(',')}]::float8[]) WITH ORDINALITY u(x, o)),
        (SELECT count(*) FROM v)`)) as [[string, string, string]];
    const [g, w] = [got, want].map((a) => a.slice(1, -1));
    if (g !== w) {
      const split = (s: string) => s.match(/"(?:[^"\\]|\\.)*"|[^,]+/g) ?? [];
      const [ga, wa] = [split(g!), split(w!)];
      const at = ga.findIndex((x, i) => x !== wa[i]);
      assert.fail(
        `element ${at} of ${wa.length}: Rust ${ga[at]?.slice(0, 200)} but PostgreSQL ${wa[at]?.slice(0, 200)}`,
      );
    }
    assert.ok(Number(count) >= 260, `${count} values`);
    assert.match(
      want,
      /ERROR 22003 numeric field overflow \/ A field with precision 4, scale 2 must round to an absolute value less than 10\^2\./,
    );
    assert.match(want, /cannot hold an infinite value/);
    assert.match(want, /less than 1\./, 'a pair with P = S');
  });

  test('raise() is the ERROR PostgreSQL gives; a .rs Numeric<10, 2> argument gets its typmod at the call', async () => {
    const rows = await pg.query(`
      SELECT attempt('SELECT typmod_raise($1)::text', x), attempt('SELECT $1::numeric(4,2)::text', x)
        FROM unnest('{1.235,99.995,Infinity,NaN,-99.994}'::numeric[]) x;
      `);
    for (const [rust, sql] of rows) assert.equal(rust, sql);
    assert.deepEqual(
      await pg.query(`
        SELECT rs_money(1234.567, 2)::text, pg_typeof(rs_money(1, 1))::text,
          attempt('SELECT rs_money($1, 1)::text', 123456789.995), attempt('SELECT rs_money(1, $1)::text', 1e12)`),
      [
        [
          '2469.1400',
          'numeric',
          'ERROR 22003 numeric field overflow / A field with precision 10, scale 2 must round to an absolute value less than 10^8.',
          'ERROR 22003 numeric field overflow / A field with precision 12, scale 4 must round to an absolute value less than 10^8.',
        ],
      ],
    );
  });

  test('a nonsensical precision or scale is refused when the function is compiled', async () => {
    for (const ps of ['4, 5', '0, 0', '1001, 2']) {
      const r = await pg.psqlResult(`CREATE FUNCTION bad_typmod(x numeric) RETURNS text STRICT LANGUAGE plrust AS $$
        Ok(Numeric::<${ps}>::try_from(x).ok().map(|n| n.to_string()))
      $$;`);
      assert.notEqual(r.code, 0, ps);
      assert.match(r.stderr, /Numeric<P, S> needs 1 <= P <= 1000 and S <= P/, ps);
    }
  });

  test('Interval::INFINITY reaches PostgreSQL 15 as the finite value it prints, also isolated; + a timestamp is an ERROR', async () => {
    const extremes =
      '{"178956970 years 7 mons 2147483647 days 2562047788:00:54.775807","-178956970 years -8 mons -2147483648 days -2562047788:00:54.775808"}';
    const db = await pg.psql('SELECT current_database();');
    for (const isolation of ['off', 'process']) {
      await pg.psql(`ALTER DATABASE ${db} SET plrust.isolation = '${isolation}';`);
      const s = await pg.openSession();
      try {
        const ok = await s.run(`SELECT iv_extreme('infinity')::text;`);
        assert.equal(ok.stdout.trim(), extremes, ok.stderr);
        const err = await s.run(`\\set VERBOSITY verbose\nSELECT iv_extreme('2024-01-01');`);
        assert.match(err.stderr, /ERROR: {2}22008: timestamp out of range/, isolation);
        assert.equal((await s.run(`SELECT iv_extreme('-infinity') IS NOT NULL;`)).stdout.trim(), 't', isolation);
      } finally {
        await s.close();
      }
    }
    await pg.psql(`ALTER DATABASE ${db} RESET plrust.isolation;`);
  });
});
