import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSqlFile } from '../../src/functions/sql-file.js';
import { parseSqlType } from '../../src/functions/sql-types.js';
import { sqlTypeName } from '../../src/functions/definition.js';
import { PlrustError } from '../../src/util/errors.js';
import { returnsName } from '../../src/functions/set-returns.js';

describe('parseSqlFile', () => {
  test('reads dollar-quoted, tagged and single-quoted bodies, with options in any order', () => {
    const sql = `-- a comment with CREATE FUNCTION inside it
CREATE OR REPLACE FUNCTION add(a int, b int) RETURNS int STRICT LANGUAGE plrust AS $$
Ok(Some(a + b))
$$;
/* block /* nested */ comment */
CREATE FUNCTION "My Schema".greet(name text) RETURNS text
  IMMUTABLE PARALLEL SAFE
  AS $body$Ok(name.map(|n| format!("hi {n}")))$body$
  LANGUAGE plrust;
create function quoted(s varchar(20)) returns text language plrust as 'Ok(Some(s.unwrap_or(''x'').to_string()))';
`;
    const { functions, ignored } = parseSqlFile(sql, 'f.sql');
    assert.equal(ignored, 0);
    assert.deepEqual(
      functions.map((f) => [
        f.sqlName,
        f.strict,
        f.volatility,
        f.parallel,
        f.args.map((a) => `${a.name}:${sqlTypeName(a.type)}`).join(','),
        sqlTypeName(f.returns),
      ]),
      [
        ['add', true, 'volatile', 'unsafe', 'a:int4,b:int4', 'int4'],
        ['"My Schema".greet', false, 'immutable', 'safe', 'name:text', 'text'],
        ['quoted', false, 'volatile', 'unsafe', 's:varchar', 'text'],
      ],
    );
    assert.equal(functions[0]!.source, '\nOk(Some(a + b))\n');
    assert.deepEqual(functions[0]!.origin, { file: 'f.sql', line: 2, col: 86 }, 'the body starts right after $$');
    assert.equal(functions[1]!.source, 'Ok(name.map(|n| format!("hi {n}")))');
    assert.equal(functions[2]!.source, "Ok(Some(s.unwrap_or('x').to_string()))", "'' in a quoted body is one quote");
  });

  test('ignores other statements and functions in other languages, and $$ inside strings does not confuse it', () => {
    const sql = `CREATE TABLE t (x text DEFAULT '$$');
CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;
INSERT INTO t VALUES ('CREATE FUNCTION g() RETURNS int LANGUAGE plrust AS $x$ $x$');
CREATE FUNCTION h() RETURNS void LANGUAGE plrust AS $f$ Ok(Some(())) $f$;`;
    const { functions, ignored } = parseSqlFile(sql, 'x.sql');
    assert.deepEqual(
      functions.map((f) => f.sqlName),
      ['h'],
    );
    assert.equal(ignored, 3);
    assert.deepEqual(functions[0]!.returns, { kind: 'void' });
  });

  test('RETURNS NULL ON NULL INPUT means STRICT; CALLED ON NULL INPUT does not', () => {
    const { functions } = parseSqlFile(
      `CREATE FUNCTION a(x bigint) RETURNS bigint RETURNS NULL ON NULL INPUT LANGUAGE plrust AS $$Ok(Some(x))$$;
       CREATE FUNCTION b(x bigint) RETURNS bigint CALLED ON NULL INPUT LANGUAGE plrust AS $$Ok(x)$$;`,
      'n.sql',
    );
    assert.deepEqual(
      functions.map((f) => f.strict),
      [true, false],
    );
  });

  test('arrays in every spelling', () => {
    const { functions } = parseSqlFile(
      `CREATE FUNCTION a(x int[], y text ARRAY, z double precision[3]) RETURNS bytea[] LANGUAGE plrust AS $$Ok(None)$$;`,
      'a.sql',
    );
    assert.deepEqual(
      functions[0]!.args.map((a) => sqlTypeName(a.type)),
      ['int4[]', 'text[]', 'float8[]'],
    );
    assert.equal(sqlTypeName(functions[0]!.returns), 'bytea[]');
  });

  test('errors name the file, line and column', () => {
    const bad = (sql: string, re: RegExp) =>
      assert.throws(
        () => parseSqlFile(sql, 'bad.sql'),
        (e: unknown) => e instanceof PlrustError && re.test(e.message),
      );
    bad(
      'CREATE FUNCTION f(a int) RETURNS int LANGUAGE plrust AS $$ unterminated',
      /bad\.sql:1:\d+: unterminated dollar-quoted string/,
    );
    bad('CREATE FUNCTION f(int) RETURNS int LANGUAGE plrust AS $$Ok(None)$$;', /argument 1 has no name/);
    bad('CREATE FUNCTION f(a macaddr) RETURNS int LANGUAGE plrust AS $$Ok(None)$$;', /type macaddr is not supported/);
    bad('CREATE FUNCTION f(OUT a int) RETURNS int LANGUAGE plrust AS $$Ok(None)$$;', /OUT arguments are not supported/);
    bad('CREATE FUNCTION f(a int) RETURNS SETOF void LANGUAGE plrust AS $$Ok(None)$$;', /type void is not supported/);
    bad('CREATE FUNCTION f() RETURNS TABLE (int) LANGUAGE plrust AS $$Ok(None)$$;', /is not "name type"/);
    bad('CREATE FUNCTION f(a int) LANGUAGE plrust AS $$Ok(None)$$;', /RETURNS is missing/);
  });
});

test('RETURNS SETOF and RETURNS TABLE', () => {
  const [setof, table] = parseSqlFile(
    `CREATE FUNCTION s(a int) RETURNS SETOF integer LANGUAGE plrust AS $$Ok(None)$$;
     CREATE FUNCTION t(a int) RETURNS TABLE (Count int, word varchar(3)[]) LANGUAGE plrust AS $$Ok(None)$$;`,
    'srf.sql',
  ).functions;
  assert.deepEqual([setof!.returns, setof!.returnsSet], [{ kind: 'scalar', name: 'int4' }, { kind: 'setof' }]);
  assert.equal(returnsName(setof!), 'setof int4');
  assert.equal(returnsName(table!), 'table(count int4, word varchar[])');
});

describe('parseSqlType', () => {
  test('aliases map to canonical names', () => {
    const names = [
      'integer',
      'INT',
      'smallint',
      'bigint',
      'real',
      'double precision',
      'boolean',
      'character varying(10)',
      'pg_catalog.text',
      'bytea',
    ];
    assert.deepEqual(
      names.map((n) => sqlTypeName(parseSqlType(n, 'x', false))),
      ['int4', 'int4', 'int2', 'int8', 'float4', 'float8', 'bool', 'varchar', 'text', 'bytea'],
    );
  });
  test('an unsupported type names it and lists the supported ones', () => {
    assert.throws(
      () => parseSqlType('macaddr', 'argument j', false),
      (e: unknown) =>
        e instanceof PlrustError &&
        e.code === 'UNSUPPORTED_TYPE' &&
        /macaddr/.test(e.message) &&
        /int4/.test(e.hint ?? ''),
    );
    assert.throws(() => parseSqlType('int[][]', 'x', false), /not supported/);
    assert.throws(() => parseSqlType('void', 'argument', false), /not supported/);
  });
});
