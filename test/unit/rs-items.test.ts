import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { extractRsItems, parseAnnotation, type DocLine } from '../../src/functions/rs-items.js';

const FILE = `//! Functions for the demo schema.
use std::collections::HashMap;

/// Adds one.
/// plrust: strict immutable parallel-safe name=add_one
#[inline]
pub fn add(x: i32, mut y: Option<i64>) -> Option<i32> {
    let _ = y.take();
    Some(x + 1)
}

fn helper() -> i32 { 1 }

pub(crate) fn crate_only() {}

pub struct NotAFunction { pub a: u8 }

impl NotAFunction {
    pub fn method(&self) -> u8 { self.a }
}

mod inner {
    pub fn nested() {}
}

const LIMIT: bool = 1 < 2;

/**
 * Counts words.
 * plrust: stable
 */
pub fn counts(m: HashMap<String, i32>, v: &[u8], s: &str, r#type: Vec<Option<i64>>) -> Result<Option<Vec<Option<i64>>>, Box<dyn std::error::Error + Send + Sync>> {
    Ok(None)
}

pub fn nothing() -> () {}

pub fn side_effect() {
    helper();
}
`;

describe('extractRsItems', () => {
  const { functions, diagnostics } = extractRsItems(FILE, 'demo.rs');

  test('lists only top-level plain-pub fns, in order', () => {
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(
      functions.map((f) => f.name),
      ['add', 'counts', 'nothing', 'side_effect'],
    );
  });

  test('parameters, normalised types and return types', () => {
    const add = functions[0]!;
    assert.deepEqual(
      add.params.map((p) => [p.name, p.type]),
      [
        ['x', 'i32'],
        ['y', 'Option<i64>'],
      ],
    );
    assert.equal(add.returnType, 'Option<i32>');
    const counts = functions[1]!;
    assert.deepEqual(
      counts.params.map((p) => [p.name, p.type]),
      [
        ['m', 'HashMap<String, i32>'],
        ['v', '&[u8]'],
        ['s', '&str'],
        ['type', 'Vec<Option<i64>>'],
      ],
    );
    assert.equal(counts.returnType, 'Result<Option<Vec<Option<i64>>>, Box<dyn std::error::Error + Send + Sync>>');
    assert.equal(functions[2]!.returnType, undefined);
    assert.equal(functions[3]!.returnType, undefined);
  });

  test('doc lines, annotations and spans', () => {
    const add = functions[0]!;
    assert.deepEqual(
      add.docs.map((d) => [d.text, d.line]),
      [
        ['Adds one.', 4],
        ['plrust: strict immutable parallel-safe name=add_one', 5],
      ],
    );
    assert.deepEqual(add.options, { strict: true, volatility: 'immutable', parallel: 'safe', sqlName: 'add_one' });
    assert.deepEqual(add.span, { startLine: 7, endLine: 10 });
    assert.deepEqual([add.line, add.col], [7, 8]);
    const counts = functions[1]!;
    assert.deepEqual(
      counts.docs.map((d) => d.text),
      ['Counts words.', 'plrust: stable'],
    );
    assert.deepEqual(counts.options, { strict: false, volatility: 'stable', parallel: 'unsafe', sqlName: undefined });
    assert.deepEqual(counts.span, { startLine: 32, endLine: 34 });
    assert.deepEqual(functions[3]!.docs, []);
    assert.deepEqual(functions[3]!.span, { startLine: 38, endLine: 40 });
  });

  test('generic functions and where clauses are diagnostics naming the function', () => {
    const r = extractRsItems(
      "pub fn id<T>(x: T) -> T { x }\npub fn w(x: i32) -> i32 where i32: Copy { x }\npub fn life<'a>(x: &'a str) -> &'a str { x }\n" +
        "pub fn two<'a, 'b: 'a>(x: &'a str, y: &'b str) -> &'a str { x }\npub fn mixed<'a, T>(x: &'a T) {}\npub fn n<const N: usize>() {}",
      'g.rs',
    );
    assert.deepEqual(
      r.diagnostics.map((d) => [d.code, d.line, d.col]),
      [
        ['generic-function', 1, 8],
        ['generic-function', 2, 25],
        ['generic-function', 5, 8],
        ['generic-function', 6, 8],
      ],
    );
    // Lifetime parameters only relate borrows: the SQL signature stays concrete.
    assert.deepEqual(
      r.functions.filter((f) => f.name === 'life' || f.name === 'two').map((f) => f.params.map((p) => p.type)),
      [["&'a str"], ["&'a str", "&'b str"]],
    );
    assert.match(r.diagnostics[0]!.message, /^g\.rs:1:8: generic-function: `id` is generic/);
    assert.match(r.diagnostics[1]!.message, /`w` has a `where` clause/);
    const it = extractRsItems('pub fn show(x: impl std::fmt::Display) -> String { x.to_string() }', 'i.rs');
    assert.deepEqual(
      it.diagnostics.map((d) => [d.code, d.line, d.col]),
      [['generic-function', 1, 16]],
    );
    assert.match(it.diagnostics[0]!.message, /parameter `x` of `show` has an `impl Trait` type/);
  });

  test('qualifiers, receivers and pattern parameters are diagnostics', () => {
    const r = extractRsItems(
      'pub unsafe fn u() {}\npub const fn c() {}\npub fn p((a, b): (i32, i32), _: i32) {}\npub fn s(&self) {}',
      'q.rs',
    );
    assert.deepEqual(
      r.diagnostics.map((d) => [d.code, d.line]),
      [
        ['unsupported-qualifier', 1],
        ['unsupported-qualifier', 2],
        ['unsupported-parameter', 3],
        ['unsupported-parameter', 3],
        ['unsupported-parameter', 4],
      ],
    );
  });

  test('bad annotations are reported at their doc line', () => {
    const r = extractRsItems(
      '/// plrust: strict\n/// plrust: immutable fast\npub fn f(x: i32) -> Option<i32> { Some(x) }',
      'a.rs',
    );
    assert.deepEqual(
      r.diagnostics.map((d) => [d.code, d.line]),
      [['bad-annotation', 2]],
    );
    assert.equal(r.functions[0]!.options.strict, true);
    assert.equal(r.functions[0]!.options.volatility, 'immutable');
  });

  test('lex errors and unbalanced delimiters are reported instead of items', () => {
    assert.equal(extractRsItems('pub fn f() { "open }', 'x.rs').diagnostics[0]!.code, 'lex-error');
    assert.equal(extractRsItems('pub fn f() { }\n}', 'x.rs').diagnostics[0]!.code, 'unbalanced-delimiters');
  });
});

describe('parseAnnotation', () => {
  const lines = (...texts: string[]): DocLine[] => texts.map((text, i) => ({ text, line: i + 1, col: 1 }));

  test('defaults are PostgreSQL defaults', () => {
    assert.deepEqual(parseAnnotation(lines('Just docs.'), 'f.rs'), {
      options: { strict: false, volatility: 'volatile', parallel: 'unsafe', sqlName: undefined },
      diagnostics: [],
    });
  });

  test('all options, across several lines', () => {
    const r = parseAnnotation(
      lines('plrust: strict', '  plrust:   volatile   parallel-restricted', 'plrust: name=app.do_it'),
      'f.rs',
    );
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual(r.options, { strict: true, volatility: 'volatile', parallel: 'restricted', sqlName: 'app.do_it' });
  });

  test('only lines starting with plrust: are annotations', () => {
    const r = parseAnnotation(lines('See plrust: docs', 'PLRUST: strict'), 'f.rs');
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.options.strict, false);
  });

  test('errors: unknown, duplicate, conflicting, invalid names', () => {
    const cases: Array<[string, RegExp]> = [
      ['plrust: leakproof', /unknown option `leakproof`/],
      ['plrust: strict strict', /`strict` is given more than once/],
      ['plrust: immutable stable', /`stable` conflicts with `immutable`/],
      ['plrust: parallel-safe parallel-unsafe', /conflicts with `parallel-safe`/],
      ['plrust: name=Upper', /not a valid SQL name/],
      ['plrust: name=a.b.c', /not a valid SQL name/],
      ['plrust: name=1abc', /not a valid SQL name/],
      [`plrust: name=${'x'.repeat(64)}`, /not a valid SQL name/],
      ['plrust: name=', /not a valid SQL name/],
      ['plrust: Strict', /unknown option `Strict`/],
    ];
    for (const [text, re] of cases) {
      const r = parseAnnotation(lines(text), 'f.rs');
      assert.equal(r.diagnostics.length, 1, text);
      assert.equal(r.diagnostics[0]!.code, 'bad-annotation');
      assert.match(r.diagnostics[0]!.message, re);
      assert.match(r.diagnostics[0]!.message, /^f\.rs:1:1: bad-annotation: /);
    }
    assert.deepEqual(parseAnnotation(lines(`plrust: name=${'x'.repeat(63)}`), 'f.rs').diagnostics, []);
  });
});
