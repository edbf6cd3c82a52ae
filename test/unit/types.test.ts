import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SCALAR_TYPES, sqlTypeName, type SqlType } from '../../src/functions/definition.js';
import {
  rustParamType,
  rustResultType,
  runtimeSqlType,
  sqlTypeOfRustParam,
  sqlTypeOfRustReturn,
} from '../../src/functions/rust-types.js';
import { PlrustError } from '../../src/util/errors.js';
import { parseSqlType } from '../../src/functions/sql-types.js';
import { parseSqlFile } from '../../src/functions/sql-file.js';

const scalar = (name: (typeof SCALAR_TYPES)[number]): SqlType => ({ kind: 'scalar', name });
const array = (element: (typeof SCALAR_TYPES)[number]): SqlType => ({ kind: 'array', element });

function rejects(fn: () => unknown, typeText: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PlrustError);
    assert.equal(e.code, 'UNSUPPORTED_TYPE');
    assert.match(e.message, typeText);
    assert.match(e.hint ?? '', /i32 \(int4\).*&str or String \(text\).*Vec<Option<T>>/);
    return true;
  });
}

describe('Rust parameter types -> SQL', () => {
  const cases: [string, SqlType, boolean][] = [
    ['bool', scalar('bool'), false],
    ['i16', scalar('int2'), false],
    ['i32', scalar('int4'), false],
    ['i64', scalar('int8'), false],
    ['f32', scalar('float4'), false],
    ['f64', scalar('float8'), false],
    ['&str', scalar('text'), false],
    ["&'a str", scalar('text'), false],
    ['String', scalar('text'), false],
    ['std::string::String', scalar('text'), false],
    ['&[u8]', scalar('bytea'), false],
    ['Vec<u8>', scalar('bytea'), false],
    ['Option<i32>', scalar('int4'), true],
    ['::std::option::Option<i64>', scalar('int8'), true],
    ['core::option::Option< & str >', scalar('text'), true],
    ['Vec<Option<i32>>', array('int4'), false],
    ['Vec<Option<&str>>', array('text'), false],
    ['Vec<Option<String>>', array('text'), false],
    ['std::vec::Vec<Option<Vec<u8>>>', array('bytea'), false],
    ['Option<Vec<Option<&[u8]>>>', array('bytea'), true],
    ['Option<Vec<Option<bool>>>', array('bool'), true],
    ['Vec<i32>', array('int4'), false],
    ['Vec<&str>', array('text'), false],
    ['Vec<Vec<u8>>', array('bytea'), false],
    ["Array<'a, i64>", array('int8'), false],
    ['Option<pgrx::Array<&str>>', array('text'), true],
    ['pgrx::datum::Array<AnyNumeric>', array('numeric'), false],
  ];
  for (const [text, type, nullable] of cases) {
    test(text, () => assert.deepEqual(sqlTypeOfRustParam(text, 'argument `x`'), { type, nullable }));
  }

  test('u32 is an oid the call converts, as an argument and a result', () => {
    assert.deepEqual(sqlTypeOfRustParam('Option<u32>', 'argument `o`'), {
      type: scalar('oid'),
      nullable: true,
      asU32: true,
    });
    assert.deepEqual(sqlTypeOfRustReturn('Option<u32>', 'result'), {
      type: scalar('oid'),
      rsReturn: 'option',
      convert: '::pgrx::pg_sys::Oid::from',
    });
    rejects(() => sqlTypeOfRustParam('Vec<Option<u32>>', 'argument `os`'), /not supported/);
  });

  test('unsupported types are named, with the supported list in the hint', () => {
    rejects(
      () => sqlTypeOfRustParam('u16', 'argument `x` of f'),
      /argument `x` of f: Rust type `u16` is not supported/,
    );
    rejects(() => sqlTypeOfRustParam('HashMap<String, i32>', 'argument `m`'), /`HashMap<String, i32>`/);
    rejects(() => sqlTypeOfRustParam('Vec<u16>', 'argument `v`'), /arrays are Vec<Option<T>>/);
    rejects(() => sqlTypeOfRustParam('Array<Option<i32>>', 'argument `a`'), /not supported/);
    rejects(() => sqlTypeOfRustReturn('Option<Vec<u16>>', 'result of f'), /not supported/);
    rejects(() => sqlTypeOfRustParam('Vec<char>', 'argument `cs`'), /not supported/);
    rejects(() => sqlTypeOfRustParam('Option<Option<i32>>', 'argument `o`'), /`Option<Option<i32>>`/);
    rejects(() => sqlTypeOfRustParam('Vec<Option<Vec<Option<i32>>>>', 'argument `n`'), /not supported/);
    rejects(() => sqlTypeOfRustParam('&mut str', 'argument `s`'), /`&mut str`/);
    rejects(() => sqlTypeOfRustParam('(i32, i32)', 'argument `t`'), /`\(i32, i32\)`/);
    rejects(() => sqlTypeOfRustParam('()', 'argument `u`'), /`\(\)`/);
    rejects(() => sqlTypeOfRustParam('Option<i32', 'argument `broken`'), /`Option<i32`/);
  });
});

describe('Rust return types -> SQL', () => {
  const owned = '|v| ::std::borrow::ToOwned::to_owned(v)';
  const cases: [string | undefined, SqlType, 'option' | 'result-option', boolean, string?][] = [
    [undefined, { kind: 'void' }, 'option', true],
    ['()', { kind: 'void' }, 'option', true],
    ['Option<()>', { kind: 'void' }, 'option', false],
    ['Result<(), String>', { kind: 'void' }, 'result-option', true],
    ['Result<Option<()>, MyError>', { kind: 'void' }, 'result-option', false],
    ['Option<i32>', scalar('int4'), 'option', false],
    ['i32', scalar('int4'), 'option', true],
    ['Result<i64, String>', scalar('int8'), 'result-option', true],
    ['Option<String>', scalar('text'), 'option', false],
    ["Option<&'static str>", scalar('text'), 'option', false, owned],
    ["&'a str", scalar('text'), 'option', true, owned],
    ['Result<Option<&str>, String>', scalar('text'), 'result-option', false, owned],
    ['Option<&[u8]>', scalar('bytea'), 'option', false, owned],
    ['&core::ffi::CStr', scalar('cstring'), 'option', true, owned],
    ['Option<Vec<u8>>', scalar('bytea'), 'option', false],
    ['char', scalar('varchar'), 'option', true, '|v: char| ::std::string::ToString::to_string(&v)'],
    [
      "Result<Option<String>, Box<dyn std::error::Error + Send + Sync + 'static>>",
      scalar('text'),
      'result-option',
      false,
    ],
    ['std::result::Result<Option<Vec<Option<f64>>>, Error<Vec<(u8, u8)>>>', array('float8'), 'result-option', false],
    ['Option<Vec<i32>>', array('int4'), 'option', false, '|v| v.into_iter().map(Some).collect::<::std::vec::Vec<_>>()'],
    [
      'Vec<&str>',
      array('text'),
      'option',
      true,
      `|v| v.into_iter().map(Some).map(|e| e.map(${owned})).collect::<::std::vec::Vec<_>>()`,
    ],
    [
      'Vec<Option<&[u8]>>',
      array('bytea'),
      'option',
      true,
      `|v| v.into_iter().map(|e| e.map(${owned})).collect::<::std::vec::Vec<_>>()`,
    ],
    [
      'Vec<AnyNumeric>',
      array('numeric'),
      'option',
      true,
      '|v| v.into_iter().map(Some).collect::<::std::vec::Vec<_>>()',
    ],
    ['Vec<Option<Date>>', array('date'), 'option', true],
  ];
  for (const [text, type, rsReturn, notNull, convert] of cases) {
    test(String(text), () =>
      assert.deepEqual(sqlTypeOfRustReturn(text, 'result of f'), {
        type,
        rsReturn,
        ...(notNull ? { notNull: true } : {}),
        ...(convert ? { convert } : {}),
      }),
    );
  }

  test('unsupported results are named', () => {
    rejects(() => sqlTypeOfRustReturn('Option<u64>', 'result of f'), /`Option<u64>`/);
    rejects(() => sqlTypeOfRustReturn('&mut str', 'result of f'), /`&mut str`/);
    rejects(() => sqlTypeOfRustReturn('Vec<Option<Vec<i32>>>', 'result of f'), /not supported/);
  });
});

describe('composite_type! in .rs signatures', () => {
  const pair = (array: boolean): SqlType => ({ kind: 'composite', name: 'pair', array });
  test('argument, result and array spellings name the SQL type', () => {
    assert.deepEqual(sqlTypeOfRustParam('composite_type!("pair")', 'argument `p`'), {
      type: pair(false),
      nullable: false,
    });
    assert.deepEqual(sqlTypeOfRustParam('Option<pgrx::composite_type!(\'a, "pair")>', 'argument `p`'), {
      type: pair(false),
      nullable: true,
    });
    assert.deepEqual(sqlTypeOfRustParam('Vec<Option<composite_type!("pair")>>', 'argument `ps`').type, pair(true));
    assert.deepEqual(sqlTypeOfRustParam('composite_type!("myschema.pair")', 'argument `p`').type, {
      kind: 'composite',
      name: 'myschema.pair',
      array: false,
    });
    assert.deepEqual(sqlTypeOfRustReturn('Result<Option<composite_type!("pair")>, E>', 'result'), {
      type: pair(false),
      rsReturn: 'result-option',
    });
    assert.deepEqual(sqlTypeOfRustReturn('Vec<composite_type!("pair")>', 'result'), {
      type: pair(true),
      rsReturn: 'option',
      notNull: true,
      convert: '|v| v.into_iter().map(Some).collect::<::std::vec::Vec<_>>()',
    });
  });

  test('a name that is not a plain composite type name is refused before any SQL is written', () => {
    for (const [literal, why] of [
      ['"pair\\"; DROP TABLE t; --"', /is not a plain lowercase SQL type name/],
      ['"Pair"', /is not a plain lowercase SQL type name/],
      ['""', /is not a plain lowercase SQL type name/],
      ['"a.b.c"', /is not a plain lowercase SQL type name/],
      ['"int4"', /names the base type int4, not a composite type/],
      ['"text"', /names the base type text/],
      ['"void"', /names the base type void/],
    ] as const) {
      for (const refused of [
        () => sqlTypeOfRustParam(`composite_type!(${literal})`, 'argument `p` of f'),
        () => sqlTypeOfRustReturn(`Option<composite_type!(${literal})>`, 'result of f'),
      ]) {
        assert.throws(refused, (e: unknown) => {
          assert.ok(e instanceof PlrustError);
          assert.equal(e.code, 'UNSUPPORTED_TYPE');
          assert.match(e.message, /^(argument `p`|result) of f: composite_type!\(/);
          assert.match(e.message, why);
          assert.match(e.hint ?? '', /Name a composite type/);
          return true;
        });
      }
    }
    rejects(() => sqlTypeOfRustParam('composite_type!(r"pair")', 'argument `p`'), /not supported/);
    rejects(() => sqlTypeOfRustParam('composite_type!(PAIR)', 'argument `p`'), /not supported/);
    rejects(() => sqlTypeOfRustParam('other_macro!("pair")', 'argument `p`'), /not supported/);
  });
});

describe('char in .rs signatures', () => {
  test('a varchar the call converts', () => {
    assert.deepEqual(sqlTypeOfRustParam('char', 'argument `c`'), {
      type: scalar('varchar'),
      nullable: false,
      asChar: true,
    });
    assert.deepEqual(sqlTypeOfRustParam('Option<core::primitive::char>', 'argument `c`'), {
      type: scalar('varchar'),
      nullable: true,
      asChar: true,
    });
  });
});

describe('SQL -> Rust (SQL bodies)', () => {
  test('argument spellings follow upstream PL/Rust', () => {
    assert.equal(rustParamType(scalar('int4'), false), 'i32');
    assert.equal(rustParamType(scalar('int4'), true), 'Option<i32>');
    assert.equal(rustParamType(scalar('text'), false), '&str');
    assert.equal(rustParamType(scalar('varchar'), true), 'Option<&str>');
    assert.equal(rustParamType(scalar('bytea'), false), '&[u8]');
    assert.equal(rustParamType(array('text'), true), "Option<Array<'_, &str>>");
    assert.equal(rustParamType(array('float8'), false), "Array<'_, f64>");
    assert.throws(() => rustParamType({ kind: 'void' }, false), PlrustError);
  });

  test('result spellings own their data', () => {
    assert.equal(rustResultType(scalar('text')), 'String');
    assert.equal(rustResultType(scalar('bytea')), 'Vec<u8>');
    assert.equal(rustResultType(array('varchar')), 'Vec<Option<String>>');
    assert.equal(rustResultType(scalar('int2')), 'i16');
    assert.equal(rustResultType({ kind: 'void' }), '()');
  });

  test("runtime SQL types (varchar shares text's)", () => {
    assert.equal(runtimeSqlType(scalar('varchar')), '::plrust_rt::sql::Text');
    assert.equal(runtimeSqlType(array('int8')), '::plrust_rt::sql::Array<::plrust_rt::sql::Int8>');
    assert.equal(runtimeSqlType({ kind: 'void' }), '::plrust_rt::sql::Void');
  });

  test('every SQL type round-trips through its Rust spelling', () => {
    const asText = (t: SqlType): SqlType =>
      t.kind === 'scalar' && t.name === 'varchar'
        ? scalar('text')
        : t.kind === 'array' && t.element === 'varchar'
          ? array('text')
          : t;
    for (const name of SCALAR_TYPES) {
      for (const t of [scalar(name), array(name)]) {
        for (const nullable of [false, true]) {
          assert.deepEqual(sqlTypeOfRustParam(rustParamType(t, nullable), 'arg'), { type: asText(t), nullable });
        }
        assert.deepEqual(sqlTypeOfRustReturn(`Option<${rustResultType(t)}>`, 'result').type, asText(t));
      }
    }
  });
});

describe('the types of docs/TYPES.md', () => {
  test('SQL spellings', () => {
    const cases: [string, SqlType][] = [
      ['"char"', scalar('"char"')],
      ['pg_catalog."char"[]', array('"char"')],
      ['timestamp with time zone', scalar('timestamptz')],
      ['timestamp(3) with time zone', scalar('timestamptz')],
      ['TIME WITHOUT TIME ZONE', scalar('time')],
      ['numeric(10, 2)', scalar('numeric')],
      ['decimal[]', array('numeric')],
      ['jsonb ARRAY', array('jsonb')],
      ['tstzrange', scalar('tstzrange')],
    ];
    for (const [sql, t] of cases) assert.deepEqual(parseSqlType(sql, 'x', false), t, sql);
    const f = parseSqlFile('CREATE FUNCTION f(c "char") RETURNS "char"[] LANGUAGE plrust AS $$ Ok(None) $$;', 'f.sql');
    assert.deepEqual(f.functions[0]!.args[0]!.type, scalar('"char"'), 'a quoted "char" in a .sql file');
    assert.deepEqual(f.functions[0]!.returns, array('"char"'));
    assert.throws(
      () => parseSqlFile('CREATE FUNCTION g(d char) RETURNS int LANGUAGE plrust AS $$ Ok(None) $$;', 'g.sql'),
      /type char is not supported/,
      'char without quotes is char(1), another type',
    );
  });

  test('Rust spellings: bare from the prelude, through pgrx:: and pg_sys:: paths', () => {
    const cases: [string, SqlType][] = [
      ['i8', scalar('"char"')],
      ['pg_sys::Oid', scalar('oid')],
      ['pgrx::AnyNumeric', scalar('numeric')],
      ['pgrx::datum::Date', scalar('date')],
      ['::pgrx::prelude::TimestampWithTimeZone', scalar('timestamptz')],
      ['JsonB', scalar('jsonb')],
      ['&core::ffi::CStr', scalar('cstring')],
      ['Range<i64>', scalar('int8range')],
      ['pgrx::Range<AnyNumeric>', scalar('numrange')],
      ['Vec<Option<Range<Date>>>', array('daterange')],
      ['Vec<Option<pgrx::pg_sys::ItemPointerData>>', array('tid')],
    ];
    for (const [rust, t] of cases) assert.deepEqual(sqlTypeOfRustParam(rust, 'x').type, t, rust);
    assert.throws(() => sqlTypeOfRustParam('Range<f64>', 'argument `r`'), /Range<f64>` is not supported/);
    assert.throws(() => sqlTypeOfRustParam('mymod::Date', 'argument `d`'), /not supported/);
  });
});

describe('composite types (named only by the handler)', () => {
  test('composite:<name> and its array parse, print back for the hash, and map to PgHeapTuple', () => {
    const one = parseSqlType('composite:public.pair', 'argument p', false);
    const many = parseSqlType('composite:"My Schema".pair[]', 'argument ps', false);
    assert.deepEqual(one, { kind: 'composite', name: 'public.pair', array: false });
    assert.deepEqual(many, { kind: 'composite', name: '"My Schema".pair', array: true });
    assert.equal(sqlTypeName(many), 'composite:"My Schema".pair[]');
    assert.match(rustParamType(one, true), /^Option<::plrust_rt::trigger::PgHeapTuple<'static, /);
    assert.equal(runtimeSqlType(many), '::plrust_rt::sql::Array<::plrust_rt::composite::Composite>');
    // a user's SQL type name is never taken for a composite: only the catalog knows one
    assert.throws(() => parseSqlType('pair', 'argument p', false), /type pair is not supported/);
  });
});
