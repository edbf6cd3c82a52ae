/**
 * The reason to cross-compile: functions created on an x86_64 server with
 * compilation targets x86_64 and aarch64 are dumped with pg_dump and restored
 * into an arm64 server that has no compiler configured; every function runs
 * there, from the aarch64 artifact the x86_64 server stored, and returns what
 * it returns on x86_64.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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

interface InstallJson {
  serverHome?: string;
  compiler: string[];
}

/** Functions of every kind of type, NULL handling, an Err, and arrays both ways. */
const FUNCTIONS = `
CREATE FUNCTION x_add(a int4, b int4) RETURNS int4 STRICT LANGUAGE plrust AS $$ Ok(a.checked_add(b)) $$;
CREATE FUNCTION x_greet(name text) RETURNS text LANGUAGE plrust AS $$
    Ok(Some(match name {
        Some(n) => format!("hello, {n}"),
        None => "hello, stranger".to_string(),
    }))
$$;
CREATE FUNCTION x_sum(xs int8[]) RETURNS int8 STRICT LANGUAGE plrust AS $$
    Ok(Some(xs.iter().flatten().sum()))
$$;
CREATE FUNCTION x_hypot(a float8, b float8) RETURNS float8 STRICT LANGUAGE plrust AS $$ Ok(Some(a.hypot(b))) $$;
CREATE FUNCTION x_half(x real) RETURNS real STRICT LANGUAGE plrust AS $$ Ok(Some(x / 2.0)) $$;
CREATE FUNCTION x_even(n int2) RETURNS bool STRICT LANGUAGE plrust AS $$ Ok(Some(n % 2 == 0)) $$;
CREATE FUNCTION x_words(s text) RETURNS text[] STRICT LANGUAGE plrust AS $$
    Ok(Some(s.split_whitespace().map(|w| Some(w.to_uppercase())).collect()))
$$;
CREATE FUNCTION x_xor(b bytea, k int4) RETURNS bytea STRICT LANGUAGE plrust AS $$
    Ok(Some(b.iter().map(|x| x ^ (k as u8)).collect()))
$$;
CREATE FUNCTION x_div(a int8, b int8) RETURNS int8 STRICT LANGUAGE plrust AS $$
    if b == 0 {
        return Err("division by zero is not allowed here".into());
    }
    Ok(Some(a / b))
$$;
CREATE FUNCTION x_noop() RETURNS void LANGUAGE plrust AS $$ Ok(Some(())) $$;
CREATE FUNCTION x_num(a numeric, b numeric) RETURNS numeric STRICT LANGUAGE plrust AS $$ Ok(Some(&a / &b + a * b)) $$;
CREATE FUNCTION x_types(d date, t timestamptz, i interval, u uuid, r int4range, j jsonb) RETURNS text STRICT LANGUAGE plrust AS $$
    Ok(Some(format!("{d} {t} {i} {u} {r} {j}")))
$$;
CREATE FUNCTION x_days(d date, n int4) RETURNS daterange[] STRICT LANGUAGE plrust AS $$
    Ok(Some(vec![Some(Range::new(d, d + n)), None, Some(Range::empty())]))
$$;
CREATE FUNCTION x_more(c "char", o oid, t time, tz timetz, ts timestamp, p point, b box, id tid, s cstring, n numrange, r tsrange, j json)
RETURNS text STRICT LANGUAGE plrust AS $$
    let s = s.to_str()?;
    Ok(Some(format!("{c} {o} {t} {tz} {ts} {},{} {},{},{},{} {id} {s} {n} {r} {j}", p.x, p.y, b.high.x, b.high.y, b.low.x, b.low.y)))
$$;
CREATE TYPE xpair AS (a int4, b text, c numeric[]);
CREATE FUNCTION x_pair(p xpair) RETURNS xpair[] STRICT LANGUAGE plrust AS $$
    let mut q = PgHeapTuple::new_composite_type("xpair")?;
    q.set_by_name("a", p.get_by_name::<i32>("a")?.map(|a| a * 2))?;
    q.set_by_index(2usize, p.get_by_name::<String>("b")?.map(|b| b.to_uppercase()))?;
    Ok(Some(vec![Some(p), None, Some(q)]))
$$;
CREATE FUNCTION x_inet(a inet) RETURNS inet[] STRICT LANGUAGE plrust AS $$
    Ok(Some(vec![Some(a), None, Some(Inet::from("10.1.2.3/8"))]))
$$;
CREATE FUNCTION x_any(v anyelement, xs anyarray) RETURNS text STRICT LANGUAGE plrust AS $$
    let n: i64 = xs.iter::<i64>().map(|it| it.flatten().sum()).unwrap_or(-1);
    Ok(Some(format!("{} {:?} {} {n}", v.oid().as_u32(), v.value::<i64>().ok(), xs.element_oid().as_u32())))
$$;
CREATE FUNCTION x_flip(b box, tz timetz) RETURNS box[] STRICT LANGUAGE plrust AS $$
    let x = tz.timezone_offset() as f64;
    Ok(Some(vec![Some(BOX { high: b.low, low: b.high }), Some(BOX { high: Point { x, y: x }, low: Point::default() })]))
$$;
`;
const NAMES = [
  'x_add',
  'x_greet',
  'x_sum',
  'x_hypot',
  'x_half',
  'x_even',
  'x_words',
  'x_xor',
  'x_div',
  'x_noop',
  'x_num',
  'x_types',
  'x_days',
  'x_more',
  'x_flip',
  'x_pair',
  'x_inet',
  'x_any',
];

/** One line of results per function, NULL-input cases included. */
const RESULTS = `
SELECT x_add(40, 2), x_add(NULL, 1) IS NULL;
SELECT x_greet('ada'), x_greet(NULL);
SELECT x_sum('{1,NULL,9223372036854775806}'), x_sum('{}');
SELECT x_hypot(3, 4), x_hypot('Infinity', 1);
SELECT x_half(5), x_half('-Infinity');
SELECT x_even(4::int2), x_even(-3::int2);
SELECT x_words('  grüße aus  arm64 '), cardinality(x_words(''));
SELECT x_xor('\\x00ff10', 255);
SELECT x_div(-7, 2);
SELECT x_noop() IS NULL, pg_typeof(x_noop());
SELECT x_num(1, 3), x_num('NaN', 2), x_num(-2.50, 'Infinity');
SELECT x_types('2024-02-29', '2024-02-29 12:00+02', '1 mon -2 days 03:00', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '[1,5]', '{"b": [1, {"c": null}]}');
SELECT x_days('2024-02-28', 2);
SELECT x_more('A', 7, '01:02:03.5', '04:05:06+05:30', '2024-02-29 23:59:59.000001', '(1.5,-2)', '(1,2),(3,4)', '(5,6)', 'hi', '[1.5,2.25)', '[2024-01-01,2024-02-01)', '{"k": [1, "v"]}');
SELECT x_flip('(1,2),(3,4)', '00:00-00:30');
SELECT x_pair(ROW(21, 'arm', '{1.5,NULL}'));
SELECT x_inet('192.168.0.1/24');
SELECT x_any(5::int8, ARRAY[1, NULL, 41]::int8[]), x_any('x'::text, ARRAY['a', NULL]);
`;
const EXPECTED = [
  '42|t',
  'hello, ada|hello, stranger',
  '9223372036854775807|0',
  '5|Infinity',
  '2.5|-Infinity',
  't|f',
  '{GRÜSSE,AUS,ARM64}|0',
  '\\xff00ef',
  '-3',
  'f|void',
  '3.33333333333333333333|NaN|-Infinity',
  '2024-02-29 2024-02-29 10:00:00+00 1 mon -2 days +03:00:00 a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 [1,6) {"b":[1,{"c":null}]}',
  '{"[2024-02-28,2024-03-02)",NULL,empty}',
  '65 7 01:02:03.5 04:05:06+05:30 2024-02-29 23:59:59.000001 1.5,-2 3,4,1,2 (5,6) hi [1.5,2.25) [2024-01-01 00:00:00,2024-02-01 00:00:00) {"k":[1,"v"]}',
  '{(3,4),(1,2);(0,0),(-1800,-1800)}',
  '{"(21,arm,\\"{1.5,NULL}\\")",NULL,"(42,ARM,)"}',
  '{192.168.0.1/24,NULL,10.1.2.3/8}',
  '20 Some(5) 20 42|25 None 25 -1',
];
const ERR = 'SELECT x_div(1, 0);';

describe(
  'functions from an x86_64 server run on an arm64 server restored from its dump, with no compiler there',
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
          return parseJson<InstallJson>(r);
        }),
      );
      const host = installs[0]!;
      // Settings as plrust install recorded them, so another install into the same PostgreSQL cannot change them
      // under this test; an empty compile cache, so both targets really compile.
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
      // pg_dump runs as the server's OS user, which owns the cluster directory.
      dump = join(x86.dir, 'plrust.dump');
    });

    after(async () => {
      await Promise.all([x86?.stop(), arm?.stop()]);
    });

    test('the x86_64 server compiles each function for both architectures', async () => {
      await x86.psql(`CREATE EXTENSION plrust;\n${FUNCTIONS}`);
      const rows = await x86.query(
        `SELECT p.proname, string_agg(a.arch, ',' ORDER BY a.arch)
         FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang AND l.lanname = 'plrust'
         JOIN plrust.artifacts a ON a.definition_hash = plrust.definition_hash(p.oid)
        GROUP BY p.proname ORDER BY p.proname`,
      );
      assert.deepEqual(
        rows,
        [...NAMES].sort().map((n) => [n, 'aarch64,x86_64']),
      );
      assert.deepEqual((await x86.psql(RESULTS)).split('\n'), EXPECTED);
      const dumped = await x86.runProgram('pg_dump', ['-Fc', '-f', dump, '-d', x86.conninfo()]);
      assert.equal(dumped.code, 0, dumped.stderr);
    });

    test('restored into the arm64 server, every function returns the same results without compiling', async () => {
      const restored = await arm.runProgram('pg_restore', ['-d', arm.conninfo(), dump]);
      assert.equal(restored.code, 0, restored.stderr);
      const s = await arm.openSession();
      const r = await s.run(
        `${RESULTS}\nSELECT format('compiler=[%s]', current_setting('plrust.compiler')); SELECT pg_backend_pid();`,
      );
      assert.equal(r.stderr, '');
      const lines = r.stdout.trim().split('\n');
      const pid = lines.pop()!;
      assert.deepEqual(lines, [...EXPECTED, 'compiler=[]']);
      // Each library was loaded into this arm64 backend from the artifact table.
      const loaded = readFileSync(`/proc/${pid}/maps`, 'utf8').match(/memfd:plrust:\w+/g) ?? [];
      assert.deepEqual([...new Set(loaded)].sort(), NAMES.map((n) => `memfd:plrust:${n}`).sort());
      await s.close();
    });

    test('an Err is the same ERROR on both servers', async () => {
      const [onX86, onArm] = await Promise.all([x86.psqlResult(ERR), arm.psqlResult(ERR)]);
      assert.match(
        onX86.stderr,
        /ERROR: {2}division by zero is not allowed here\nCONTEXT: {2}PL\/Rust function "x_div"\n/,
      );
      assert.equal(onArm.stderr, onX86.stderr);
    });

    test('the arm64 server indeed has no compiler: a new function cannot be created there', async () => {
      const r = await arm.psqlResult(
        `CREATE FUNCTION x_new(a int4) RETURNS int4 STRICT LANGUAGE plrust AS $$ Ok(Some(a)) $$;`,
      );
      assert.match(r.stderr, /ERROR: {2}cannot compile the function because plrust.compiler is not set\n/);
      assert.match(r.stderr, /CONTEXT: {2}compilation of PL\/Rust function "x_new"\n/);
    });
  },
);
