/**
 * inet as pgrx's `Inet(String)`, and the polymorphic `anyelement` and
 * `anyarray` as `AnyElement`/`AnyArray` (docs/TYPES.md, "inet" and
 * "anyelement and anyarray"): values compared with PostgreSQL's own output,
 * reading a value as the wrong Rust type is an error, never a wrong value,
 * and a returned value of another type than the call resolved is an ERROR.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runPlrust, tempDir } from '../helpers/cli.js';
import { functionsCluster } from '../helpers/functions-cluster.js';
import { type PgCluster } from '../helpers/pg-cluster.js';
import { installPlrust } from '../helpers/plrust-install.js';

const FUNCTIONS = `
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE duo AS (a int4, b text);
CREATE DOMAIN posint AS int4 CHECK (VALUE > 0);
CREATE DOMAIN small AS int4 CHECK (VALUE < 10);
CREATE DOMAIN pair_arr AS int4[] CHECK (cardinality(VALUE) = 2);
CREATE FUNCTION small_arr(n int4) RETURNS small[] STRICT LANGUAGE plrust AS $$ Ok(Some(vec![Some(1), Some(n)])) $$;
CREATE FUNCTION inet_id(x inet) RETURNS inet LANGUAGE plrust AS $$ Ok(x) $$;
CREATE FUNCTION inet_arr(x inet[]) RETURNS inet[] LANGUAGE plrust AS $$
    Ok(x.map(|a| a.into_iter().collect::<Vec<Option<Inet>>>()))
$$;
CREATE FUNCTION inet_show(x inet) RETURNS text STRICT LANGUAGE plrust AS $$
    Ok(Some(format!("{x} {}", x.len())))
$$;
CREATE FUNCTION inet_make(s text) RETURNS inet STRICT LANGUAGE plrust AS $$ Ok(Some(Inet::from(s))) $$;
CREATE FUNCTION inet_next(x inet) RETURNS inet STRICT LANGUAGE plrust AS $$
    Ok(Spi::get_one_with_args::<Inet>("SELECT $1 + 1", vec![(PgBuiltInOids::INETOID.oid(), x.into_datum())])?)
$$;
CREATE TYPE host AS (addr inet, peer inet);
CREATE FUNCTION host_swap(h host) RETURNS host STRICT LANGUAGE plrust AS $$
    let a: Option<String> = h.get_by_name("addr")?;
    let p: Option<Inet> = h.get_by_name("peer")?;
    let mut out = PgHeapTuple::new_composite_type("host")?;
    out.set_by_name("addr", p)?;
    out.set_by_name("peer", a)?;
    Ok(Some(out))
$$;
CREATE FUNCTION any_desc(x anyelement) RETURNS text LANGUAGE plrust AS $$
    let Some(x) = x else { return Ok(Some("NULL".to_string())) };
    let (oid, n) = (x.oid().as_u32(), x.value::<i32>().map_err(|e| e.to_string()));
    let s: Option<String> = x.into();
    Ok(Some(format!("{oid} {n:?} {s:?}")))
$$;
CREATE FUNCTION any_id(x anyelement) RETURNS anyelement LANGUAGE plrust AS $$ Ok(x) $$;
CREATE FUNCTION any_plus(x anyelement) RETURNS anyelement STRICT LANGUAGE plrust AS $$
    let v: i32 = x.value()?;
    Ok(AnyElement::new(v + 1))
$$;
CREATE FUNCTION any_make(x anyelement, n int4) RETURNS anyelement STRICT LANGUAGE plrust AS $$
    Ok(AnyElement::new(n))
$$;
CREATE FUNCTION any_query(x anyelement, q text) RETURNS anyelement STRICT LANGUAGE plrust AS $$
    Ok(Spi::get_one::<AnyElement>(q)?)
$$;
CREATE FUNCTION arr_desc(a anyarray) RETURNS text STRICT LANGUAGE plrust AS $$
    let ints = a.iter::<i32>().map(|i| i.collect::<Vec<_>>()).map_err(|e| e.to_string());
    Ok(Some(format!("{} {} {:?}", a.oid().as_u32(), a.element_oid().as_u32(), ints)))
$$;
CREATE FUNCTION arr_grow(a anyarray) RETURNS anyarray STRICT LANGUAGE plrust AS $$
    let mut v: Vec<Option<i32>> = a.value()?;
    v.push(None);
    Ok(AnyArray::new(v))
$$;
CREATE FUNCTION arr_id(a anyarray) RETURNS anyarray LANGUAGE plrust AS $$ Ok(a) $$;
CREATE FUNCTION arr_sum(a anyarray) RETURNS anyelement STRICT LANGUAGE plrust AS $$
    let s: i64 = a.iter::<i64>()?.flatten().sum();
    Ok(AnyElement::new(s))
$$;
CREATE FUNCTION arr_make(x anyelement) RETURNS anyarray STRICT LANGUAGE plrust AS $$
    Ok(AnyArray::new(vec![Some(x.value::<String>()?), None]))
$$;
`;

const BUILD_SQL = `
CREATE FUNCTION poly_id(x anyelement) RETURNS anyelement LANGUAGE plrust AS $$ Ok(x) $$;
CREATE FUNCTION net(x inet[]) RETURNS inet[] LANGUAGE plrust AS $$ Ok(x.map(|a| a.into_iter().collect())) $$;
`;

const BUILD_RS = `
use pgrx::prelude::*;
pub fn first_of(a: AnyArray) -> Option<AnyElement> {
    let v: Vec<Option<i32>> = a.value().ok()?;
    AnyElement::new(v.into_iter().flatten().next()?)
}
pub fn host(x: Inet) -> Option<String> {
    Some(x.split('/').next()?.to_string())
}
`;

describe('inet, anyelement and anyarray in PostgreSQL 15', () => {
  const cluster = functionsCluster('polymorphic', FUNCTIONS);
  let pg: PgCluster;
  before(() => {
    pg = cluster.pg;
  });

  test('inet and inet[] round trips print as inet_out prints them; SPI takes and returns inet', async () => {
    const values = ['10.1.2.3', '10.1.2.3/8', '192.168.0.0/16', '::1', '2001:db8::ff00:42:8329/64', '::ffff:1.2.3.4'];
    for (const v of values) {
      assert.deepEqual(
        await pg.query(`SELECT inet_id('${v}'), inet_show('${v}'), inet_next('${v}')`),
        await pg.query(
          `SELECT '${v}'::inet, format('%s %s', '${v}'::inet, length(format('%s', '${v}'::inet))), '${v}'::inet + 1`,
        ),
        v,
      );
    }
    assert.deepEqual(
      await pg.query(
        `SELECT inet_arr(ARRAY['1.2.3.4/24', NULL, '::1']::inet[])::text, inet_arr('{}')::text, inet_id(NULL) IS NULL`,
      ),
      [['{1.2.3.4/24,NULL,::1}', '{}', 't']],
    );
    assert.deepEqual(await pg.query(`SELECT inet_make('10.0.0.1/32') = '10.0.0.1'::inet`), [['t']]);
    // a row's inet fields read and write as Inet and as String
    assert.deepEqual(await pg.query(`SELECT host_swap(ROW('1.2.3.4/24', '::1')::host)::text`), [['(::1,1.2.3.4/24)']]);
    const bad = await pg.openSession();
    try {
      const r = await bad.run(`SELECT inet_make('not an address');`);
      assert.match(r.stderr, /ERROR: +invalid input syntax for type inet: "not an address"/);
      const long = await bad.run(`SELECT inet_make(repeat('1', 100000));`);
      assert.match(long.stderr, /ERROR: +invalid input syntax for type inet/);
      assert.equal((await bad.run(`SELECT inet_make('::2');`)).stdout.trim(), '::2');
    } finally {
      await bad.close();
    }
  });

  test('anyelement: the resolved type OID, a typed read that refuses other types, text for the rest', async () => {
    const [mood, duo] = (await pg.query(`SELECT 'mood'::regtype::oid, 'duo'::regtype::oid`))[0]!;
    const typeErr = (oid: number | string, rust: string): string =>
      `Err("a value of type OID ${oid} cannot be read as Rust type ${rust}")`;
    assert.deepEqual(
      await pg.query(
        `SELECT any_desc(5), any_desc('x'::text), any_desc('ok'::mood), any_desc(ROW(1, 'y')::duo), any_desc(3::posint), any_desc(NULL::int4), any_desc(7::int8), any_desc('1.2.3.4/8'::inet)`,
      ),
      [
        [
          '23 Ok(5) None',
          `25 ${typeErr(25, 'i32')} Some("x")`,
          `${mood} ${typeErr(mood!, 'i32')} Some("ok")`,
          `${duo} ${typeErr(duo!, 'i32')} Some("(1,y)")`,
          '23 Ok(3) None',
          'NULL',
          `20 ${typeErr(20, 'i32')} None`,
          `869 ${typeErr(869, 'i32')} Some("1.2.3.4/8")`,
        ],
      ],
    );
  });

  test('anyelement identity for many types equals the input, as the same type', async () => {
    const values = [
      `42`,
      `'hello'::text`,
      `'x'::varchar`,
      `12345678901234567890.5::numeric`,
      `'2024-02-29'::date`,
      `'2024-02-29 12:34:56+02'::timestamptz`,
      `'10.0.0.0/8'::inet`,
      `'{"a": [1, null]}'::jsonb`,
      `'happy'::mood`,
      `ROW(1, NULL)::duo`,
      `'{1,NULL,3}'::int4[]`,
      `'[1,5)'::int4range`,
      `'a:1 b:2'::tsvector`,
      `'{{sad,ok},{happy,ok}}'::mood[]`,
      `'<(1,2),3>'::circle`,
    ];
    for (const v of values) {
      assert.deepEqual(
        await pg.query(`SELECT any_id(${v})::text, pg_typeof(any_id(${v}))::text`),
        await pg.query(`SELECT (${v})::text, pg_typeof(${v})::text`),
        v,
      );
    }
    // a domain's value is its base type's; a result of the domain is checked against its constraint
    assert.deepEqual(
      await pg.query(
        `SELECT any_id(NULL::date) IS NULL, any_plus(41), any_plus(9::posint), pg_typeof(any_id(9::posint))::text`,
      ),
      [['t', '42', '10', 'posint']],
    );
    // a query column of any type is an AnyElement too
    assert.deepEqual(
      await pg.query(
        `SELECT any_query(0, 'SELECT 42'), any_query('sad'::mood, $q$SELECT 'happy'::mood$q$), any_query(0::int8, 'SELECT NULL::int8') IS NULL`,
      ),
      [['42', 'happy', 't']],
    );
  });

  test('anyarray: element type, typed iteration, identity, a sum of a million elements, arrays built in Rust', async () => {
    assert.deepEqual(
      await pg.query(
        `SELECT arr_desc('{1,NULL,3}'::int4[]), arr_desc('{}'::int4[]), arr_desc('{a}'::text[]), arr_id('{1.5,NULL}'::numeric[])::text, pg_typeof(arr_id('{x}'::varchar[]))::text, arr_id('{ok,NULL}'::mood[])::text`,
      ),
      [
        [
          '1007 23 Ok([Some(1), None, Some(3)])',
          '1007 23 Ok([])',
          '1009 25 Err("a value of type OID 25 cannot be read as Rust type i32")',
          '{1.5,NULL}',
          'character varying[]',
          '{ok,NULL}',
        ],
      ],
    );
    assert.deepEqual(
      await pg.query(
        `SELECT arr_sum(array(SELECT generate_series(1, 1000000)::int8)), pg_typeof(arr_sum('{1}'::int8[]))::text, arr_make('a'::text)::text`,
      ),
      [['500000500000', 'bigint', '{a,NULL}']],
    );
  });

  test('plrust build: .sql and .rs functions over them; the libraries serve a database without a compiler', async () => {
    const work = tempDir('polymorphic-build');
    fs.writeFileSync(path.join(work, 'poly.sql'), BUILD_SQL);
    fs.writeFileSync(path.join(work, 'poly.rs'), BUILD_RS);
    fs.writeFileSync(path.join(work, 'bad.rs'), 'pub fn all(a: AnyArray) -> Vec<AnyElement> { Vec::new() }\n');
    const build = (...files: string[]) =>
      runPlrust(['build', '--target', 'x86_64', ...files], { home: cluster.home, cwd: work, timeoutMs: 5 * 60_000 });
    const bad = await build('bad.rs');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Vec<AnyElement>.* is not supported/);
    const built = await build('poly.sql', 'poly.rs');
    assert.equal(built.code, 0, built.stderr);
    const functionsSql = fs.readFileSync(path.join(work, 'target', 'plrust', 'functions.sql'), 'utf8');
    assert.match(functionsSql, /FUNCTION first_of\(a anyarray\)\n\s+RETURNS anyelement STRICT/);
    // the definition hash plrust build computes is the server's: no compiler needed
    await installPlrust(cluster.home, ['--prebuilt', path.join(work, 'target', 'plrust')]);
    await pg.psql(
      `CREATE DATABASE prebuilt; ALTER DATABASE prebuilt SET plrust.compiler = '';
       ALTER DATABASE prebuilt SET plrust.targets = 'x86_64';`,
    );
    const db = { db: 'prebuilt' };
    await pg.psql('CREATE EXTENSION plrust;', db);
    await pg.psql(functionsSql, db);
    assert.deepEqual(
      await pg.query(
        `SELECT poly_id('x'::text), first_of('{NULL,7,8}'::int4[]), host('10.1.2.3/8'), net('{::1,NULL}')::text`,
        db,
      ),
      [['x', '7', '10.1.2.3', '{::1,NULL}']],
    );
  });

  test('an attacker: wrong types, other result types, multi-dimensional arrays, records, sets are clear ERRORs; the backend lives', async () => {
    const s = await pg.openSession();
    try {
      const pid = (await s.run('SELECT pg_backend_pid();')).stdout.trim();
      const read = await s.run(`SELECT any_plus('x'::text);`);
      assert.match(read.stderr, /ERROR: .*a value of type OID 25 cannot be read as Rust type i32/);
      const other = await s.run(`SELECT any_make(0::int8, 7);`);
      assert.match(other.stderr, /ERROR: +function returned a value of type integer, but this call returns bigint/);
      const text = await s.run(`SELECT any_make('x'::text, 7);`);
      assert.match(text.stderr, /ERROR: +function returned a value of type integer, but this call returns text/);
      const varchar = await s.run(`SELECT arr_make('v'::varchar);`);
      assert.match(
        varchar.stderr,
        /ERROR: +function returned a value of type text\[\], but this call returns character varying\[\]/,
      );
      const sum = await s.run(`SELECT arr_sum('{1,2}'::int4[]);`);
      assert.match(sum.stderr, /ERROR: .*OID 23 cannot be read as Rust type i64/);
      const md = await s.run(`SELECT arr_id('{{1,2},{3,4}}'::int4[]);`);
      assert.match(
        md.stderr,
        /ERROR: +PL\/Rust functions accept only one-dimensional arrays\n.*Argument 1 has 2 dimensions/,
      );
      const mdElement = await s.run(`SELECT any_id('{{1,2},{3,4}}'::int4[]);`);
      assert.match(mdElement.stderr, /ERROR: +PL\/Rust functions accept only one-dimensional arrays/);
      const domain = await s.run(`SELECT any_plus(9::small);`);
      assert.match(domain.stderr, /ERROR: +value for domain small violates check constraint "small_check"/);
      assert.equal((await s.run(`SELECT small_arr(2)::text;`)).stdout.trim(), '{1,2}');
      assert.equal((await s.run(`SELECT arr_id('{1,2}'::pair_arr)::text;`)).stdout.trim(), '{1,2}');
      assert.equal((await s.run(`SELECT arr_grow('{1}'::int4[])::text;`)).stdout.trim(), '{1,NULL}');
      // anyarray resolves a domain over an array to the array type, as array_append does
      assert.equal(
        (
          await s.run(`SELECT arr_grow('{1,2}'::pair_arr)::text || ' ' || pg_typeof(arr_grow('{1,2}'::pair_arr));`)
        ).stdout.trim(),
        '{1,2,NULL} integer[]',
      );
      const elements = await s.run(`SELECT small_arr(10);`);
      assert.match(elements.stderr, /ERROR: +value for domain small violates check constraint "small_check"/);
      const query = await s.run(`SELECT any_query(0::int8, 'SELECT 42');`);
      assert.match(query.stderr, /ERROR: +function returned a value of type integer, but this call returns bigint/);
      const record = await s.run(`SELECT any_id(ROW(1, 'anonymous'));`);
      assert.match(record.stderr, /ERROR: +input of anonymous composite types is not implemented/);
      const setof = await s.run(
        `CREATE FUNCTION any_set(x anyelement) RETURNS SETOF anyelement LANGUAGE plrust AS $$ Ok(None) $$;`,
      );
      assert.match(setof.stderr, /ERROR: +PL\/Rust set-returning functions cannot return anyelement or anyarray/);
      assert.equal((await s.run(`SELECT any_id('still here'::text);`)).stdout.trim(), 'still here');
      assert.equal((await s.run('SELECT pg_backend_pid();')).stdout.trim(), pid, 'the same backend');
    } finally {
      await s.close();
    }
  });
});
