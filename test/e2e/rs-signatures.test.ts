/**
 * A `.rs` file's own signatures beyond owned values (docs/TYPES.md, "`.rs`
 * signatures"): borrowed results tied to the arguments, plain (never NULL)
 * results, `Vec<T>` results, `char` and pgrx's `composite_type!`; built by
 * `plrust build`, installed with the CREATE FUNCTION statements it writes
 * and called in a real server. Borrows that outlive their argument and
 * composite names that are not plain composite types are refused, with
 * nothing in pg_proc.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runPlrust, tempDir } from '../helpers/cli.js';
import { startCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { installPlrust, tempHome, uninstallPlrust } from '../helpers/plrust-install.js';
import { parseRsFile } from '../../src/functions/rs-file.js';
import { createFunctionSql } from '../../src/compile/artifacts.js';

const SIGNATURES_RS = `use pgrx::prelude::*;
use core::ffi::CStr;

pub fn first<'a>(s: &'a str) -> Option<&'a str> {
    s.split(' ').next().filter(|w| !w.is_empty())
}

pub fn trimmed(s: &str) -> &str {
    s.trim()
}

pub fn label(n: i32) -> Option<&'static str> {
    if n > 0 { Some("positive") } else { None }
}

pub fn head(b: &[u8]) -> Result<Option<&[u8]>, String> {
    if b.is_empty() { Err("head of an empty bytea".to_string()) } else { Ok(Some(&b[..1])) }
}

pub fn cname(s: &CStr) -> &CStr {
    s
}

pub fn squares(n: i32) -> Option<Vec<i32>> {
    if n < 0 { None } else { Some((1..=n).map(|i| i * i).collect()) }
}

pub fn words(s: &str) -> Vec<&str> {
    s.split(' ').collect()
}

pub fn big(n: i32) -> Vec<AnyNumeric> {
    (0..n).map(|i| AnyNumeric::from(10i64.pow(i as u32 * 6))).collect()
}

pub fn week(d: Date) -> Result<Vec<Date>, String> {
    Ok((0..7).map(|i| d + i).collect())
}

pub fn initial(s: &str) -> char {
    s.chars().next().unwrap_or('?')
}

pub fn shout(c: char, n: Option<char>) -> String {
    format!("{} {:?}", c.to_uppercase(), n)
}

pub fn double_a(p: composite_type!("public.pair")) -> Result<Option<composite_type!("public.pair")>, Box<dyn std::error::Error>> {
    let a: Option<i32> = p.get_by_name("a")?;
    let mut q = PgHeapTuple::new_composite_type("pair")?;
    q.set_by_name("a", a.map(|a| a * 2))?;
    q.set_by_name("b", "doubled")?;
    Ok(Some(q))
}

pub fn present(ps: Vec<Option<pgrx::composite_type!("public.pair")>>) -> Vec<composite_type!("public.pair")> {
    ps.into_iter().flatten().collect()
}

pub fn pair_a<'a>(p: composite_type!('a, "pair")) -> Option<i32> {
    p.get_by_index(1usize).ok().flatten()
}
`;

describe('.rs signatures in PostgreSQL 15', () => {
  let home: string;
  let work: string;
  let pg: PgCluster;

  before(async () => {
    home = await tempHome('rs-signatures', { toolchain: true });
    await installPlrust(home);
    pg = await startCluster();
    await pg.psql(
      `ALTER DATABASE postgres SET plrust.targets = 'x86_64'; CREATE EXTENSION plrust;
       CREATE TYPE pair AS (a int4, b text); CREATE TYPE mood AS ENUM ('sad', 'ok');`,
    );
    work = tempDir('rs-signatures');
    fs.writeFileSync(path.join(work, 'signatures.rs'), SIGNATURES_RS);
  });

  after(async () => {
    await pg?.stop();
    if (home) await uninstallPlrust(home);
  });

  const build = (file: string) =>
    runPlrust(['build', '--target', 'x86_64', file], { home, cwd: work, timeoutMs: 5 * 60_000 });

  test('plrust build compiles every signature; its CREATE FUNCTION statements install and run', async () => {
    const built = await build('signatures.rs');
    assert.equal(built.code, 0, built.stderr);
    const functionsSql = fs.readFileSync(path.join(work, 'target', 'plrust', 'functions.sql'), 'utf8');
    assert.match(functionsSql, /FUNCTION double_a\(p public\.pair\)\n\s+RETURNS public\.pair STRICT/);
    assert.match(functionsSql, /FUNCTION pair_a\(p pair\)\n\s+RETURNS int4 STRICT/);
    assert.match(functionsSql, /FUNCTION shout\(c varchar, n varchar\)\n\s+RETURNS text CALLED ON NULL INPUT/);
    await pg.psql(functionsSql);
    assert.deepEqual(
      await pg.query(
        `SELECT first('hello world'), first('') IS NULL, trimmed('  x y '), label(1), label(0) IS NULL,
                head('\\x0102'), cname('abc'::cstring)::text, pg_typeof(cname('a'::cstring))`,
      ),
      [['hello', 't', 'x y', 'positive', 't', '\\x01', 'abc', 'cstring']],
    );
    assert.deepEqual(
      await pg.query(
        `SELECT squares(3), squares(-1) IS NULL, squares(0), words('a bc d'), big(3)::text,
                week('2024-02-26')::text, pg_typeof(big(1)), pg_typeof(week('2024-01-01'))`,
      ),
      [
        [
          '{1,4,9}',
          't',
          '{}',
          '{a,bc,d}',
          '{1,1000000,1000000000000}',
          '{2024-02-26,2024-02-27,2024-02-28,2024-02-29,2024-03-01,2024-03-02,2024-03-03}',
          'numeric[]',
          'date[]',
        ],
      ],
    );
    assert.deepEqual(
      await pg.query(
        `SELECT initial('xyz'), initial(''), pg_typeof(initial('x')), shout('ä', NULL), shout('a', 'b'),
                shout(NULL, 'b') IS NULL`,
      ),
      [['x', '?', 'character varying', 'Ä None', "A Some('b')", 't']],
    );
    assert.deepEqual(
      await pg.query(
        `SELECT double_a(ROW(21, 'x')::pair)::text, (double_a(ROW(NULL, NULL)::pair)).b,
                present(ARRAY[ROW(1, 'a')::pair, NULL, ROW(2, NULL)::pair])::text, pair_a(ROW(5, 'z')::pair)`,
      ),
      [['(42,doubled)', 'doubled', '{"(1,a)","(2,)"}', '5']],
    );
  });

  test('the libraries plrust build wrote serve a database without a compiler, when a composite type is qualified', async () => {
    await installPlrust(home, ['--prebuilt', path.join(work, 'target', 'plrust')]);
    await pg.psql(
      `CREATE DATABASE prebuilt; ALTER DATABASE prebuilt SET plrust.compiler = '';
       ALTER DATABASE prebuilt SET plrust.targets = 'x86_64';`,
    );
    const db = { db: 'prebuilt' };
    await pg.psql(`CREATE EXTENSION plrust; CREATE TYPE pair AS (a int4, b text);`, db);
    const functionsSql = fs.readFileSync(path.join(work, 'target', 'plrust', 'functions.sql'), 'utf8');
    const statements = functionsSql.split(/\n(?=CREATE OR REPLACE FUNCTION )/).slice(1);
    assert.equal(statements.length, 14);
    // The server's definition hash spells a composite type schema-qualified: "pair" alone needs the server's compiler.
    for (const statement of statements) {
      const created = await pg.psqlResult(statement, db);
      if (statement.includes('FUNCTION pair_a(')) {
        assert.match(
          created.stderr,
          /plrust\.compiler is not set\nDETAIL: {2}No prebuilt artifact has definition hash/,
        );
      } else assert.equal(created.code, 0, created.stderr);
    }
    assert.deepEqual(
      await pg.query(
        `SELECT double_a(ROW(4, NULL)::pair)::text, present(ARRAY[NULL, ROW(1, 'p')::pair])::text, first('a b'),
                squares(2), shout('x', NULL)`,
        db,
      ),
      [['(8,doubled)', '{"(1,p)"}', 'a', '{1,4}', 'X None']],
    );
  });

  test('a char argument of another length and a Result error are ERRORs naming the cause', async () => {
    for (const [sql, message] of [
      [`SELECT shout('ab', NULL)`, /argument `c` has 2 characters, but the function's parameter is a char/],
      [`SELECT shout('a', '')`, /argument `n` has 0 characters/],
      [`SELECT head('')`, /head of an empty bytea/],
    ] as const) {
      const r = await pg.psqlResult(sql);
      assert.notEqual(r.code, 0, sql);
      assert.match(r.stderr, message, sql);
    }
    assert.deepEqual(await pg.query(`SELECT shout('a', 'b')`), [["A Some('b')"]], 'the backend carries on');
  });

  test('a borrowed result that outlives its argument is refused by rustc, at build and at CREATE FUNCTION', async () => {
    const outlive = `pub fn outlive(s: &str) -> Option<&'static str> {\n    Some(s)\n}\n`;
    fs.writeFileSync(path.join(work, 'outlive.rs'), outlive);
    const built = await build('outlive.rs');
    assert.notEqual(built.code, 0);
    assert.match(built.stderr, /outlive\.rs:2:5: error: lifetime may not live long enough/);
    const [def] = parseRsFile(outlive, 'outlive.rs').functions;
    const created = await pg.psqlResult(createFunctionSql(def!));
    assert.notEqual(created.code, 0);
    assert.match(created.stderr, /lifetime may not live long enough/);
    assert.deepEqual(await pg.query(`SELECT count(*) FROM pg_proc WHERE proname = 'outlive'`), [['0']]);
  });

  test('composite_type! naming no plain composite type: a clear error, nothing written or created', async () => {
    const cases: [string, RegExp][] = [
      ['"pair\\"; DROP TABLE t; --"', /is not a plain lowercase SQL type name/],
      ['"Pair"', /is not a plain lowercase SQL type name/],
      ['"int4"', /names the base type int4, not a composite type; use its Rust type/],
      ['\'a, "pair) RETURNS int4 AS $$ $$; --"', /is not a plain lowercase SQL type name/],
    ];
    for (const [literal, message] of cases) {
      fs.writeFileSync(path.join(work, 'bad.rs'), `pub fn bad(p: composite_type!(${literal})) -> i32 { 1 }\n`);
      const built = await build('bad.rs');
      assert.notEqual(built.code, 0, literal);
      assert.match(built.stderr, message, literal);
      assert.ok(!fs.existsSync(path.join(work, 'target', 'plrust', 'bad')), literal);
    }
    // A name plrust cannot judge reaches PostgreSQL; an enum is passed as text, which the generated call refuses.
    const enumArg = parseRsFile(
      `pub fn moody(m: composite_type!("mood")) -> Option<composite_type!("mood")> {\n    Some(m)\n}\n`,
      'moody.rs',
    );
    assert.deepEqual(enumArg.errors, []);
    const created = await pg.psqlResult(createFunctionSql(enumArg.functions[0]!));
    assert.notEqual(created.code, 0);
    assert.match(
      created.stderr,
      /ERROR: {2}moody does not compile\nDETAIL: {2}line 4:\d+: composite_type!\(…\) names a SQL type that is not a composite type: PostgreSQL passes it as `&str`/,
    );
    assert.deepEqual(await pg.query(`SELECT count(*) FROM pg_proc WHERE proname IN ('bad', 'moody')`), [['0']]);
  });
});
