import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { lexRust, type LexResult, type Token } from '../../src/analysis/lexer.js';
import { buildTokenTrees, isGroup, type TokenTree } from '../../src/analysis/token-tree.js';

function tokens(src: string): Token[] {
  const r = lexRust(src);
  if (!r.ok) assert.fail(`unexpected lex error ${r.error.line}:${r.error.col}: ${r.error.message}`);
  return r.tokens;
}

function kinds(src: string): string[] {
  return tokens(src).map((t) => `${t.kind}:${t.text}`);
}

function lexError(src: string): Extract<LexResult, { ok: false }>['error'] {
  const r = lexRust(src);
  if (r.ok) assert.fail(`expected a lex error for ${JSON.stringify(src)}`);
  return r.error;
}

describe('lexer: identifiers and keywords', () => {
  test('raw identifiers carry the plain name', () => {
    const [t] = tokens('r#async');
    assert.equal(t!.kind, 'raw-ident');
    assert.equal(t!.value, 'async');
    assert.equal(t!.text, 'r#async');
  });

  test('identifiers are NFC-normalised as rustc does (KELVIN SIGN is K)', () => {
    const [t] = tokens('\u212Aey');
    assert.equal(t!.value, 'Key');
  });

  test('non-ASCII identifiers are identifiers', () => {
    assert.deepEqual(kinds('größe'), ['ident:größe']);
  });

  test('an identifier glued to a quote or # is a reserved prefix', () => {
    assert.equal(lexError('foo"bar"').kind, 'reserved-prefix');
    assert.equal(lexError('k#x').kind, 'reserved-prefix');
    assert.equal(lexError('#"guarded"#').kind, 'reserved-prefix');
  });
});

describe('lexer: lifetimes versus char literals', () => {
  test("'a is a lifetime, 'a' a char", () => {
    assert.deepEqual(kinds("'a 'a' 'static '_"), ["lifetime:'a", "char:'a'", "lifetime:'static", "lifetime:'_"]);
    assert.equal(tokens("'static")[0]!.value, 'static');
  });

  test('escaped quote and unicode escapes are chars', () => {
    assert.deepEqual(kinds("'\\'' '\\u{1F600}' '\\\\' '\"'"), [
      "char:'\\''",
      "char:'\\u{1F600}'",
      "char:'\\\\'",
      "char:'\"'",
    ]);
  });

  test('a non-ASCII char literal is one token', () => {
    assert.deepEqual(kinds("'😀' 'é'"), ["char:'😀'", "char:'é'"]);
  });

  test('lifetimes in generics do not open char literals', () => {
    assert.deepEqual(kinds("fn f<'a>(x: &'a str) -> &'a str"), [
      'ident:fn',
      'ident:f',
      'punct:<',
      "lifetime:'a",
      'punct:>',
      'open:(',
      'ident:x',
      'punct::',
      'punct:&',
      "lifetime:'a",
      'ident:str',
      'close:)',
      'punct:->',
      'punct:&',
      "lifetime:'a",
      'ident:str',
    ]);
  });

  test('raw lifetimes', () => {
    const [t] = tokens("'r#fn");
    assert.equal(t!.kind, 'lifetime');
    assert.equal(t!.value, 'fn');
  });

  test('byte literals', () => {
    assert.deepEqual(kinds("b'x' b'\\'' b'\\n'"), ["byte:b'x'", "byte:b'\\''", "byte:b'\\n'"]);
  });

  test('bad char literals are errors with a position', () => {
    assert.equal(lexError("''").kind, 'invalid-char-literal');
    assert.equal(lexError("let c = 'ab';").kind, 'invalid-char-literal');
    assert.equal(lexError("'1a").kind, 'invalid-lifetime');
    const u = lexError("\n  '\\n");
    assert.equal(u.kind, 'unterminated-char');
    assert.deepEqual([u.line, u.col], [2, 3]);
  });
});

describe('lexer: strings', () => {
  test('string kinds', () => {
    assert.deepEqual(kinds('"s" b"b" c"c" r"r" r#"h"# br"x" br##"y"## cr"z" cr#"w"#'), [
      'string:"s"',
      'byte-string:b"b"',
      'c-string:c"c"',
      'raw-string:r"r"',
      'raw-string:r#"h"#',
      'raw-byte-string:br"x"',
      'raw-byte-string:br##"y"##',
      'raw-c-string:cr"z"',
      'raw-c-string:cr#"w"#',
    ]);
  });

  test('raw strings end only at a quote followed by the same number of hashes', () => {
    assert.deepEqual(kinds('r##"a "# b "## x'), ['raw-string:r##"a "# b "##', 'ident:x']);
    assert.equal(tokens('r###"x"## still "###')[0]!.text, 'r###"x"## still "###');
  });

  test('a raw string keeps backslashes and quotes literally', () => {
    const [t] = tokens('r#"\\" } "#');
    assert.equal(t!.kind, 'raw-string');
    assert.equal(tokens('r#"\\" } "#').length, 1);
  });

  test('escapes: \\\\ ends the escape, \\" does not end the string', () => {
    assert.deepEqual(kinds('"\\\\" x "\\"}"'), ['string:"\\\\"', 'ident:x', 'string:"\\"}"']);
  });

  test('strings may span lines; endLine follows', () => {
    const [t] = tokens('"a\nb"');
    assert.equal(t!.line, 1);
    assert.equal(t!.endLine, 2);
  });

  test('literal suffixes belong to the literal', () => {
    const t = tokens('"x"suffix 1u8 1.5f64');
    assert.equal(t.length, 3);
    assert.equal(t[0]!.suffix, 'suffix');
    assert.equal(t[1]!.suffix, 'u8');
    assert.equal(t[2]!.suffix, 'f64');
  });

  test('unterminated strings are errors at the opening quote', () => {
    const e = lexError('fn f() {\n    let s = "never closed;\n}');
    assert.equal(e.kind, 'unterminated-string');
    assert.deepEqual([e.line, e.col], [2, 13]);
    const r = lexError('x = r#"open " }');
    assert.equal(r.kind, 'unterminated-raw-string');
    assert.deepEqual([r.line, r.col], [1, 5]);
    assert.equal(lexError('r#x"').kind, 'reserved-prefix');
    assert.equal(lexError('r##x').kind, 'invalid-raw-string');
  });
});

describe('lexer: numbers', () => {
  test('integers, floats, ranges, method calls and tuple fields', () => {
    assert.deepEqual(kinds('1..2'), ['integer:1', 'punct:..', 'integer:2']);
    assert.deepEqual(kinds('1.0 1e10 1.5e-3 2. 0.5E+2'), [
      'float:1.0',
      'float:1e10',
      'float:1.5e-3',
      'float:2.',
      'float:0.5E+2',
    ]);
    assert.deepEqual(kinds('1.foo()'), ['integer:1', 'punct:.', 'ident:foo', 'open:(', 'close:)']);
    assert.deepEqual(kinds('0xff_u8 0o17 0b1010 1_000'), [
      'integer:0xff_u8',
      'integer:0o17',
      'integer:0b1010',
      'integer:1_000',
    ]);
    assert.deepEqual(kinds('x.0.1'), ['ident:x', 'punct:.', 'float:0.1']);
    assert.deepEqual(kinds('0..=9'), ['integer:0', 'punct:..=', 'integer:9']);
  });
});

describe('lexer: punctuation and delimiters', () => {
  test('multi-character puncts are glued greedily', () => {
    assert.deepEqual(
      tokens(':: => -> ..= ... .. <<= >>= << >> <= >= == != && || += -= *= /= %= ^= &= |= # ! $ ?').map((t) => t.text),
      [
        '::',
        '=>',
        '->',
        '..=',
        '...',
        '..',
        '<<=',
        '>>=',
        '<<',
        '>>',
        '<=',
        '>=',
        '==',
        '!=',
        '&&',
        '||',
        '+=',
        '-=',
        '*=',
        '/=',
        '%=',
        '^=',
        '&=',
        '|=',
        '#',
        '!',
        '$',
        '?',
      ],
    );
    assert.deepEqual(kinds('a<-1'), ['ident:a', 'punct:<', 'punct:-', 'integer:1']);
  });

  test('delimiters are open/close tokens', () => {
    assert.deepEqual(kinds('([{}])'), ['open:(', 'open:[', 'open:{', 'close:}', 'close:]', 'close:)']);
  });

  test('unknown characters are errors', () => {
    const e = lexError('let x = 1;\nlet y = x \u037E');
    assert.equal(e.kind, 'unknown-character');
    assert.deepEqual([e.line, e.col], [2, 11]);
    assert.equal(lexError('`x`').kind, 'unknown-character');
    assert.equal(lexError('a \\ b').kind, 'unknown-character');
  });
});

describe('lexer: comments', () => {
  test('plain comments produce no tokens; doc comments do', () => {
    const t = tokens('// plain\n/* block */ //// four slashes\n/***/ /**/ /*** stars ***/ x');
    assert.deepEqual(
      t.map((k) => k.text),
      ['x'],
    );
  });

  test('doc comment kinds and values', () => {
    const t = tokens('/// outer\n//! inner\n/** block outer */\n/*! block inner */');
    assert.deepEqual(
      t.map((k) => [k.kind, k.docStyle, k.value]),
      [
        ['doc-comment', 'outer', ' outer'],
        ['doc-comment', 'inner', ' inner'],
        ['doc-comment', 'outer', ' block outer '],
        ['doc-comment', 'inner', ' block inner '],
      ],
    );
  });

  test('block comments nest', () => {
    assert.deepEqual(kinds('/* a /* b */ } still comment */ y'), ['ident:y']);
  });

  test('unterminated nested block comment is an error at its start', () => {
    const e = lexError('x\n  /* a /* b */ c');
    assert.equal(e.kind, 'unterminated-block-comment');
    assert.deepEqual([e.line, e.col], [2, 3]);
  });

  test('a lone CR does not end a line comment (only LF does)', () => {
    assert.deepEqual(kinds('// c\r} x\ny'), ['ident:y']);
  });

  test('comment markers inside strings are text', () => {
    assert.deepEqual(kinds('"http://x /* y" z'), ['string:"http://x /* y"', 'ident:z']);
  });
});

describe('lexer: shebang', () => {
  test('#! at the start not followed by [ is a shebang token', () => {
    const t = tokens('#!/usr/bin/env rust-script\nfn main() {}');
    assert.equal(t[0]!.kind, 'shebang');
    assert.equal(t[0]!.text, '#!/usr/bin/env rust-script');
    assert.equal(t[1]!.text, 'fn');
    assert.equal(t[1]!.line, 2);
  });

  test('#![attr] at the start is an inner attribute, also across comments', () => {
    assert.deepEqual(kinds('#![allow(x)]').slice(0, 3), ['punct:#', 'punct:!', 'open:[']);
    assert.deepEqual(kinds('#! // c\n /* d */ [allow(x)]').slice(0, 3), ['punct:#', 'punct:!', 'open:[']);
  });

  test('#! with a doc comment before [ is still a shebang (rustc rule)', () => {
    assert.equal(tokens('#! /// doc\n[x]')[0]!.kind, 'shebang');
  });

  test('#! later in the file is punctuation', () => {
    assert.deepEqual(kinds('x\n#!/bin'), ['ident:x', 'punct:#', 'punct:!', 'punct:/', 'ident:bin']);
  });
});

describe('lexer: positions', () => {
  test('line, code-point column, UTF-16 index and UTF-8 byte offset', () => {
    const t = tokens('"é😀" x\n  y');
    const x = t[1]!;
    assert.equal(x.text, 'x');
    assert.equal(x.line, 1);
    assert.equal(x.col, 6);
    assert.equal(x.index, 6);
    assert.equal(x.offset, 9);
    const y = t[2]!;
    assert.deepEqual([y.line, y.col, y.offset], [2, 3, 13]);
  });

  test('a leading byte-order mark is skipped', () => {
    assert.deepEqual(kinds('\uFEFFx'), ['ident:x']);
    assert.deepEqual([tokens('\uFEFFx')[0]!.col, tokens('\uFEFFx')[0]!.offset], [1, 3]);
  });
});

function shape(trees: readonly TokenTree[]): string {
  return trees.map((t) => (isGroup(t) ? `${t.delim}${shape(t.children)}${t.close.text}` : t.text)).join(' ');
}

describe('token trees', () => {
  test('balanced groups nest', () => {
    const { trees, issues } = buildTokenTrees(tokens('fn f(x: [u8; 2]) { g({ 1 }) }'));
    assert.deepEqual(issues, []);
    assert.equal(shape(trees), 'fn f (x : [u8 ; 2]) {g ({1})}');
  });

  test('a stray close is reported at its position', () => {
    const { issues } = buildTokenTrees(tokens('fn f() {}\n}'));
    assert.equal(issues.length, 1);
    assert.equal(issues[0]!.kind, 'unexpected-close');
    assert.deepEqual([issues[0]!.at.line, issues[0]!.at.col], [2, 1]);
  });

  test('a mismatched close names the open it conflicts with', () => {
    const { issues } = buildTokenTrees(tokens('f(a, [b)'));
    assert.equal(issues[0]!.kind, 'mismatched-close');
    assert.equal(issues[0]!.open!.text, '[');
    assert.match(issues[0]!.message, /innermost open delimiter is `\[` at 1:6/);
    assert.ok(issues.some((i) => i.kind === 'unclosed-open' && i.at.text === '['));
  });

  test('an unclosed open is reported at the open', () => {
    const { issues } = buildTokenTrees(tokens('mod m {\n  fn f() {'));
    assert.deepEqual(
      issues.map((i) => [i.kind, i.at.line, i.at.col]),
      [
        ['unclosed-open', 2, 10],
        ['unclosed-open', 1, 7],
      ],
    );
  });

  test('delimiters inside strings, chars and comments do not count', () => {
    const { issues } = buildTokenTrees(tokens('f(\'}\', "{", r#")"#) // ]\n/* { */'));
    assert.deepEqual(issues, []);
  });
});
