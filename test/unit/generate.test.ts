import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { FunctionDef } from '../../src/functions/definition.js';
import {
  findInsertions,
  generateCrate,
  mapGeneratedPosition,
  rustcArgs,
  signatureJson,
  USER_MODULE_FILE,
} from '../../src/compile/generate.js';
import { CHECKPOINT_CALL, instrument, instrumentDetailed } from '../../src/analysis/instrument.js';
import { runtimeRustcArgs } from '../../src/toolchain/runtime-crate.js';
import { parseRsFile } from '../../src/functions/rs-file.js';
import { PlrustError } from '../../src/util/errors.js';
import { packageRoot } from '../../src/util/package-root.js';

function sqlDef(over: Partial<FunctionDef> = {}): FunctionDef {
  return {
    sqlName: 'public.add',
    rustName: 'add',
    args: [
      { name: 'a', type: { kind: 'scalar', name: 'int4' } },
      { name: 'b', type: { kind: 'scalar', name: 'text' } },
    ],
    returns: { kind: 'array', element: 'text' },
    strict: false,
    volatility: 'immutable',
    parallel: 'safe',
    source: '\n  Ok(Some(vec![b.map(String::from)]))\n',
    origin: { file: 'fns.sql', line: 10, col: 40 },
    ...over,
  };
}

const rsSource = ['pub fn twice(x: i32) -> Option<i32> {', '    Some(x * 2)', '}'].join('\n');
const rsDef = (): FunctionDef => parseRsFile(rsSource, 'src/fns.rs').functions[0]!;

describe('signature JSON', () => {
  test('compact, keys in ABI order, SQL type names', () => {
    assert.equal(
      signatureJson(sqlDef()),
      '{"name":"public.add","args":[{"name":"a","type":"int4"},{"name":"b","type":"text"}],"returns":"text[]","strict":false}',
    );
  });
});

describe('generateCrate: SQL body', () => {
  const def = sqlDef();
  const crate = generateCrate(def, instrument(def.source, 'fn-body'));
  const userLines = crate.userModule.split('\n');

  test('upstream PL/Rust signature: Option arguments when not strict, owned results', () => {
    assert.equal(
      userLines[0],
      "#[allow(unused_imports)] use ::pgrx::prelude::*; pub fn add(a: Option<i32>, b: Option<&str>) -> Result<Option<Vec<Option<String>>>, Box<dyn std::error::Error + Send + Sync + 'static>> { ::plrust_rt::checkpoint(); {",
    );
    const strict = generateCrate(sqlDef({ strict: true }), sqlDef().source).userModule;
    assert.match(strict, /^#\[allow\(unused_imports\)\] use ::pgrx::prelude::\*; pub fn add\(a: i32, b: &str\) ->/);
  });

  test('user line n is user.rs line n + 1, and the file ends by closing both blocks', () => {
    assert.equal(crate.userLineOffset, 1);
    assert.equal(crate.userLines, 3);
    assert.match(userLines[2]!, /Ok\(Some\(vec!\[b\.map\(String::from\)\]\)\)/);
    assert.equal(userLines[4], '}}');
  });

  test('lib.rs: lint attributes on the user module, conversions typed by SQL, no placeholder left', () => {
    assert.match(
      crate.source,
      /#\[forbid\(unsafe_code, deprecated_safe_2024\)\]\n#\[deny\(unused_attributes\)\]\npub mod user;/,
    );
    assert.match(crate.source, /let a0 = ::plrust_rt::wrapper::arg::<::plrust_rt::sql::Int4, _>\(args, 0, "a"\)\?;/);
    assert.match(crate.source, /let a1 = ::plrust_rt::wrapper::arg::<::plrust_rt::sql::Text, _>\(args, 1, "b"\)\?;/);
    assert.match(crate.source, /outcome::<::plrust_rt::sql::Array<::plrust_rt::sql::Text>, _>\(user::add\(a0, a1\)\)/);
    assert.match(crate.source, /call\(args, nargs, result, error, 2, &SOURCE_MAP, \|args\|/);
    assert.doesNotMatch(crate.source, /\{\{[A-Z_]+\}\}/);
    assert.match(
      crate.source,
      /user_file: "fns\.sql",\n\s+line_offset: 1,\n\s+source_lines: 3,\n\s+origin_line: 10,\n\s+origin_col: 40,/,
    );
  });

  test('the signature is a C string literal with escapes', () => {
    const odd = generateCrate(sqlDef({ sqlName: 'public."we\\ird"\nname' }), sqlDef().source);
    assert.ok(odd.source.includes(String.raw`c"{\"name\":\"public.\\\"we\\\\ird\\\"\\nname\",`), odd.source);
  });

  test('a function without arguments ignores the argument slice', () => {
    const none = generateCrate(sqlDef({ args: [], source: 'Ok(None)' }), 'Ok(None)');
    assert.match(none.source, /call\(args, nargs, result, error, 0, &SOURCE_MAP, \|_\| \{/);
    assert.match(none.source, /user::add\(\)\)/);
  });

  test('keyword argument names become raw identifiers; non-identifiers are refused', () => {
    const kw = generateCrate(
      sqlDef({ args: [{ name: 'type', type: { kind: 'scalar', name: 'bool' } }], source: 'Ok(None)' }),
      'Ok(None)',
    );
    assert.match(kw.userModule, /; pub fn add\(r#type: Option<bool>\)/);
    assert.match(kw.source, /arg::<::plrust_rt::sql::Bool, _>\(args, 0, "type"\)/);
    for (const name of ['my arg', '1x', 'self', '']) {
      assert.throws(
        () =>
          generateCrate(
            sqlDef({ args: [{ name, type: { kind: 'scalar', name: 'bool' } }], source: 'Ok(None)' }),
            'Ok(None)',
          ),
        (e: unknown) => e instanceof PlrustError && e.code === 'INVALID_RUST_NAME',
      );
    }
  });
});

describe('generateCrate: a .rs function', () => {
  const def = rsDef();
  const crate = generateCrate(def, instrument(def.source, 'fn-body'));

  test('the .rs file is the body, so its lines keep their numbers (offset 1 in user.rs)', () => {
    assert.equal(crate.userLineOffset, 1);
    assert.equal(crate.userLines, def.source.split('\n').length);
    assert.deepEqual(
      crate.userModule.split('\n').slice(1, 4),
      instrument(def.source, 'fn-body').split('\n').slice(0, 3),
    );
    assert.deepEqual(mapGeneratedPosition(crate, 'user.rs', 3, 5), { file: 'src/fns.rs', line: 2, col: 5 });
    assert.match(crate.source, /user::twice\(a0\)/);
  });

  test('insertions are recorded where instrument() put them', () => {
    const placed = instrumentDetailed(def.source, 'fn-body').insertions;
    assert.ok(placed.length >= 2, 'the body entry and the fn entry');
    assert.deepEqual(
      crate.insertions,
      placed.map((p) => ({ line: p.line + 1, col: p.col, length: p.text.length })),
    );
  });
});

describe('findInsertions', () => {
  test('the checkpoint call and whitespace around it, in code points', () => {
    const original = 'let é = || { x };';
    const instrumented = 'let é = || { ::plrust_rt::checkpoint(); x };';
    assert.deepEqual(findInsertions(original, instrumented, 0), [
      { line: 1, col: 14, length: CHECKPOINT_CALL.length + 1 },
    ]);
  });

  test('several insertions on one line, offset by the header', () => {
    const original = 'fn f() { loop { } }';
    const instrumented = 'fn f() {::plrust_rt::checkpoint(); loop {::plrust_rt::checkpoint(); } }';
    assert.deepEqual(findInsertions(original, instrumented, 1), [
      { line: 2, col: 9, length: CHECKPOINT_CALL.length },
      { line: 2, col: 42, length: CHECKPOINT_CALL.length },
    ]);
  });

  test('a line that does not align contributes nothing; a changed line count is a bug', () => {
    assert.deepEqual(findInsertions('abc', 'xyz', 0), []);
    assert.throws(
      () => findInsertions('a\nb', 'a', 0),
      (e: unknown) => e instanceof PlrustError && e.code === 'INSTRUMENT_MISMATCH',
    );
  });
});

describe('mapGeneratedPosition', () => {
  const def = sqlDef({ source: 'let v = || { 1 };\nOk(None)' });
  const crate = generateCrate(def, 'let v = || { ::plrust_rt::checkpoint(); 1 };\nOk(None)');

  test('first body line: origin column added, insertion removed', () => {
    assert.deepEqual(mapGeneratedPosition(crate, '/tmp/x/user.rs', 2, 1), { file: 'fns.sql', line: 10, col: 40 });
    // `1` is at instrumented column 41, original column 14.
    assert.deepEqual(mapGeneratedPosition(crate, USER_MODULE_FILE, 2, 41), { file: 'fns.sql', line: 10, col: 53 });
    // Inside the inserted call: the place it was inserted at.
    assert.deepEqual(mapGeneratedPosition(crate, USER_MODULE_FILE, 2, 20), { file: 'fns.sql', line: 10, col: 53 });
  });

  test('later lines keep their columns; header, footer and lib.rs are not user positions', () => {
    assert.deepEqual(mapGeneratedPosition(crate, USER_MODULE_FILE, 3, 4), { file: 'fns.sql', line: 11, col: 4 });
    assert.equal(mapGeneratedPosition(crate, USER_MODULE_FILE, 1, 5), null);
    assert.equal(mapGeneratedPosition(crate, USER_MODULE_FILE, 4, 1), null);
    assert.equal(mapGeneratedPosition(crate, 'lib.rs', 2, 1), null);
  });
});

describe('rustc command lines', () => {
  const args = rustcArgs({
    sysroot: '/tc/sysroot',
    targetSpec: '/tc/targets/aarch64-postgres-linux-gnu.json',
    runtimeRlib: '/tc/runtime/aarch64-postgres-linux-gnu/libplrust_rt.rlib',
    src: '/work/crate/lib.rs',
    out: '/work/out/f.so',
    linker: 'aarch64-linux-gnu-gcc',
    errorFormat: 'json',
  });
  const pairs = (flag: string): string[] => args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));

  test('function library: trust-relevant flags are all there', () => {
    assert.equal(args[0], '/work/crate/lib.rs');
    assert.ok(args.includes('-Zallow-features='));
    assert.deepEqual(pairs('--crate-type'), ['cdylib']);
    assert.deepEqual(pairs('--edition'), ['2021']);
    assert.deepEqual(pairs('--target'), ['/tc/targets/aarch64-postgres-linux-gnu.json']);
    assert.deepEqual(pairs('--sysroot'), ['/tc/sysroot']);
    for (const c of [
      'panic=unwind',
      'overflow-checks=on',
      'opt-level=2',
      'strip=symbols',
      'linker=aarch64-linux-gnu-gcc',
    ]) {
      assert.ok(pairs('-C').includes(c), c);
    }
    assert.deepEqual(pairs('--extern'), [
      'plrust_rt=/tc/runtime/aarch64-postgres-linux-gnu/libplrust_rt.rlib',
      'serde_json=/tc/runtime/aarch64-postgres-linux-gnu/libserde_json.rlib',
    ]);
    assert.ok(args.includes('--remap-path-prefix=/work/crate/='));
    assert.ok(args.includes('--error-format=json'));
    assert.deepEqual(args.slice(-2), ['-o', '/work/out/f.so']);
  });

  test('runtime: only alloc_error_hook may be enabled', () => {
    const rt = runtimeRustcArgs({ sysroot: '/s', targetSpec: '/t/x.json', out: '/o/libplrust_rt.rlib' });
    assert.ok(rt.includes('-Zallow-features=alloc_error_hook'));
    assert.deepEqual(rt.slice(rt.indexOf('--crate-type'), rt.indexOf('--crate-type') + 2), ['--crate-type', 'rlib']);
    assert.ok(rt.includes('panic=unwind'));
  });
});

describe('ABI constants agree between the C header, the runtime crate and docs/ABI.md', () => {
  const root = packageRoot();
  const header = fs.readFileSync(path.join(root, 'handler', 'plrust_abi.h'), 'utf8');
  const rust = fs.readFileSync(path.join(root, 'runtime', 'src', 'abi.rs'), 'utf8');
  const doc = fs.readFileSync(path.join(root, 'docs', 'ABI.md'), 'utf8');
  const defines = (text: string): Map<string, number> =>
    new Map([...text.matchAll(/#define (PLRUST_[A-Z_]+)\s+(\d+)/g)].map((m) => [m[1]!, Number(m[2])]));

  test('status codes and version', () => {
    const c = defines(header);
    const d = defines(doc);
    const r = new Map(
      [...rust.matchAll(/pub const (PLRUST_[A-Z_]+): [iu](?:8|32) = (\d+);/g)].map((m) => [m[1]!, Number(m[2])]),
    );
    assert.ok(c.size >= 10);
    assert.deepEqual([...c].sort(), [...r].sort());
    assert.deepEqual([...c].sort(), [...d].sort());
  });
});
