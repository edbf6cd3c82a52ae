import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { checkSource, RULES, type CheckContext, type RuleId } from '../../src/analysis/checker/index.js';
import { packageRoot } from '../../src/util/package-root.js';

function rules(src: string, context: CheckContext = 'items'): RuleId[] {
  return checkSource(src, { file: 't.rs', context }).map((d) => d.rule);
}

function fires(src: string, rule: RuleId, context: CheckContext = 'items'): void {
  const got = rules(src, context);
  assert.ok(got.includes(rule), `expected ${rule} for:\n${src}\ngot: ${JSON.stringify(got)}`);
}

function clean(src: string, context: CheckContext = 'items'): void {
  const got = checkSource(src, { file: 't.rs', context });
  assert.deepEqual(
    got.map((d) => d.message),
    [],
    `expected no diagnostics for:\n${src}`,
  );
}

interface RuleCase {
  rule: RuleId;
  /** Source that must fire the rule, and where (line, col). */
  positive: string;
  at: [number, number];
  context?: CheckContext;
  /** The text that, placed in a string or comment, must not fire (default: positive). */
  inert?: string;
}

const CASES: readonly RuleCase[] = [
  { rule: 'lex-error', positive: 'fn f() {\n    let s = "unterminated;\n}', at: [2, 13] },
  { rule: 'unbalanced-delimiters', positive: 'pub fn f() {}\n}\n#[no_mangle] fn g() {}', at: [2, 1] },
  { rule: 'shebang', positive: '#!/bin/sh\npub fn f() {}', at: [1, 1], inert: '#!/bin/sh' },
  {
    rule: 'forbidden-macro',
    positive: 'pub fn f() -> &\'static str {\n    include_str!("/etc/passwd")\n}',
    at: [2, 5],
  },
  { rule: 'macro-splice', positive: 'macro_rules! c {\n    ($m:ident) => { $m!("x") };\n}', at: [2, 21] },
  { rule: 'extern-block', positive: 'extern "C" {\n    fn system(c: *const u8) -> i32;\n}', at: [1, 1] },
  { rule: 'extern-crate', positive: 'extern crate libc;', at: [1, 1] },
  { rule: 'extern-fn', positive: 'pub extern "C" fn f() {}', at: [1, 5] },
  { rule: 'path-attribute', positive: '#[path = "/etc/passwd"]\nmod m {}', at: [1, 3] },
  { rule: 'out-of-line-module', positive: 'pub mod secrets;', at: [1, 5] },
  { rule: 'forbidden-attribute', positive: '#[no_mangle]\npub fn f() {}', at: [1, 3] },
  { rule: 'fn-pointer-type', positive: 'fn f(h: u8) {\n    let g: fn(u8) -> u8 = k;\n}', at: [2, 12] },
  { rule: 'dyn-fn-trait', positive: 'fn f(x: Box<dyn Fn(u8)>) {}', at: [1, 13] },
  { rule: 'lifetime-trait', positive: "trait T<'a> {\n    fn f(&self) -> &'a u8;\n}", at: [1, 9] },
  { rule: 'static-ref-impl', positive: "impl<T> Tr for &'static T {}", at: [1, 16] },
  { rule: 'auto-trait-impl', positive: 'struct S;\nimpl Unpin for S {}', at: [2, 1] },
  { rule: 'mem-forget', positive: 'fn f(v: Vec<u8>) {\n    std::mem::forget(v)\n}', at: [2, 15] },
  { rule: 'leak', positive: "fn f() -> &'static mut [u8] { Box::leak(vec![1u8].into_boxed_slice()) }", at: [1, 36] },
  { rule: 'stdio-macro', positive: 'fn f() {\n    println!("x");\n}', at: [2, 5] },
  { rule: 'panic-hook', positive: 'fn f() {\n    std::panic::set_hook(Box::new(|_| {}));\n}', at: [2, 17] },
  { rule: 'async', positive: 'async fn f() {}', at: [1, 1] },
  { rule: 'unsafe', positive: 'fn f() -> u8 {\n    unsafe { 1 }\n}', at: [2, 5] },
  { rule: 'const-fn', positive: 'pub const fn f() -> u8 { 1 }', at: [1, 5] },
  { rule: 'uninstrumentable', positive: 'macro_rules! l {\n    ($b:block) => { loop $b };\n}', at: [2, 21] },
  { rule: 'reserved-name', positive: 'mod m {}\nmod core {\n    pub fn f() {}\n}', at: [2, 5] },
  { rule: 'dyn-assoc-binding', positive: 'fn f(b: Box<dyn Tr<u8, Out = i32>>) {}', at: [1, 13] },
  { rule: 'dyn-generic-arg', positive: 'fn f() {\n    g::<dyn Tr>();\n}', at: [2, 9] },
  { rule: 'dyn-impl', positive: 'trait A {}\ntrait B {}\nimpl A for dyn B {}', at: [3, 1] },
  { rule: 'blanket-impl', positive: 'trait A {}\nimpl<T: ?Sized> A for T {}', at: [2, 1] },
  { rule: 'fn-trait-impl', positive: 'trait A {}\nstruct W<F>(F);\nimpl<F: Fn()> A for W<F> {}', at: [3, 9] },
  { rule: 'higher-ranked', positive: "fn f<T>() where for<'a> &'a T: Clone {}", at: [1, 17] },
  { rule: 'outlives-bound', positive: "fn f<T: Clone + 'static>(t: T) {}", at: [1, 17] },
  { rule: 'projection-input', positive: 'fn f<I: Iterator>(it: I, x: I::Item) {}', at: [1, 29] },
  { rule: 'stdio', positive: 'fn f() {\n    let _ = std::io::stdout();\n}', at: [2, 22] },
];

/** Ways to make text inert: it must then never fire any rule. */
const INERT: ReadonlyArray<[string, (text: string) => string]> = [
  ['string literal', (t) => `const S: &str = "${t.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}";`],
  ['raw string', (t) => `const S: &str = r##"${t}"##;`],
  ['byte string', (t) => `const B: &[u8] = br#"${t}"#;`],
  [
    'line comments',
    (t) =>
      t
        .split('\n')
        .map((l) => `// ${l}`)
        .join('\n'),
  ],
  ['block comment', (t) => `/* ${t} */`],
  [
    'doc comments',
    (t) =>
      `${t
        .split('\n')
        .map((l) => `/// ${l}`)
        .join('\n')}\nfn documented() {}`,
  ],
];

describe('every rule fires on its positive case and not inside strings or comments', () => {
  for (const c of CASES) {
    test(`${c.rule}: fires at ${c.at.join(':')}`, () => {
      const ds = checkSource(c.positive, { file: 'case.rs', context: c.context ?? 'items' });
      const d = ds.find((x) => x.rule === c.rule);
      assert.ok(d, `${c.rule} did not fire; got ${JSON.stringify(ds.map((x) => x.rule))}`);
      assert.deepEqual([d.line, d.col], c.at);
      assert.equal(d.file, 'case.rs');
      assert.ok(d.message.startsWith(`case.rs:${c.at[0]}:${c.at[1]}: ${c.rule}: `), d.message);
      assert.equal(d.message, `case.rs:${d.line}:${d.col}: ${c.rule}: ${d.explanation}`);
      assert.ok(d.explanation.length > 10);
    });
    for (const [how, wrap] of INERT) {
      test(`${c.rule}: inert inside a ${how}`, () => {
        clean(wrap(c.inert ?? c.positive));
      });
    }
  }

  test('the cases cover every rule id', () => {
    assert.deepEqual(new Set(CASES.map((c) => c.rule)), new Set(RULES.map((r) => r.id)));
  });
});

describe('forbidden-macro and stdio-macro', () => {
  test('every forbidden macro name, whatever delimiters', () => {
    for (const name of [
      'include',
      'include_str',
      'include_bytes',
      'env',
      'option_env',
      'asm',
      'global_asm',
      'naked_asm',
    ]) {
      for (const call of [`${name}!("x")`, `${name}!["x"]`, `${name}! {"x"}`, `${name} ! ("x")`]) {
        fires(`fn f() { let _ = ${call}; }`, 'forbidden-macro');
      }
    }
  });

  test('path-qualified and raw-identifier forms', () => {
    for (const call of [
      'core::include_str!("x")',
      '::std::env!("HOME")',
      'std::arch::asm!("nop")',
      'core::arch::global_asm!("")',
      'r#include_bytes!("x")',
      '$crate::include!("x")',
    ]) {
      fires(`fn f() { let _ = ${call}; }`, 'forbidden-macro');
    }
  });

  test('renames through use … as are reported at the rename and at the call', () => {
    const ds = checkSource('use std::{env as e, fmt};\nfn f() { let _ = e!("HOME"); }', {
      file: 't.rs',
      context: 'items',
    });
    assert.deepEqual(
      ds.map((d) => [d.rule, d.line, d.col]),
      [
        ['forbidden-macro', 1, 11],
        ['forbidden-macro', 2, 18],
      ],
    );
    fires('use core::include_str as read;', 'forbidden-macro');
    fires('pub use ::std::println as say;', 'stdio-macro');
    fires('use std::env::{self as environ};', 'forbidden-macro');
  });

  test('`env` as a name passes; the other forbidden macro names are rejected even outside a call', () => {
    clean('use std::env;\nfn f() { let env = 1; let _ = env; let _ = std::env::var_os("X"); }');
    // A user macro can join a name and a `!` handed to it separately.
    fires('fn include() {}', 'forbidden-macro');
    fires(
      'macro_rules! j { ($m:ident $b:tt $a:tt) => { $m $b $a }; }\nfn f() { j!(include_str ! ("x")); }',
      'forbidden-macro',
    );
    fires('fn f() { let dbg = 1; let _ = dbg; }', 'stdio-macro');
  });

  test('every stdio macro, qualified or renamed; formatting macros pass', () => {
    for (const call of [
      'print!("x")',
      'println!()',
      'eprint!("x")',
      'eprintln!("{}", 1)',
      'dbg!(1)',
      'std::println!("x")',
      '::core::dbg!(1)',
    ]) {
      fires(`fn f() { ${call}; }`, 'stdio-macro');
    }
    fires('use std::dbg as trace;', 'stdio-macro');
    clean(
      'use std::fmt::Write;\nfn f(o: &mut String) { let _ = format!("{}", 1); let _ = write!(o, "x"); let _ = writeln!(o); }',
    );
  });

  test('macro_rules definitions and $crate paths are not splices', () => {
    clean('macro_rules! twice { ($e:expr) => { $e * 2 }; }\nfn f() -> i32 { twice!(3) }');
    clean('macro_rules! m { () => { $crate::helper() }; }\nfn helper() {}');
  });

  test('metavariables in use trees are splices', () => {
    fires('macro_rules! r { ($p:ident) => { use std::$p as q; }; }', 'macro-splice');
  });
});

describe('attributes', () => {
  test('allowlisted attributes pass', () => {
    clean(
      [
        '#![allow(unused)]',
        '#![deny(warnings)]',
        '//! Module docs.',
        '#[derive(Debug, Clone, PartialEq)]',
        '#[repr(C)]',
        '#[non_exhaustive]',
        'struct S { a: u8 }',
        '#[inline(always)]',
        '#[must_use = "use it"]',
        '#[doc = "x"]',
        '#[doc(hidden)]',
        '#[cfg(test)]',
        '#[cfg_attr(test, allow(dead_code))]',
        '#[rustfmt::skip]',
        '#[track_caller]',
        '#[deprecated(note = "old")]',
        'fn f() {}',
        '#[diagnostic::on_unimplemented(message = "nope")]',
        'trait T {}',
      ].join('\n'),
    );
  });

  test('the named dangerous attributes are rejected', () => {
    for (const attr of [
      'no_mangle',
      'export_name = "x"',
      'link(name = "c")',
      'link_name = "x"',
      'link_section = ".init_array"',
      'used',
      'global_allocator',
      'target_feature(enable = "avx2")',
      'naked',
      'panic_handler',
    ]) {
      fires(`#[${attr}]\nfn f() {}`, 'forbidden-attribute');
    }
  });

  test('unsafe(...) attributes, inner crate-level attributes and unknown attributes are rejected', () => {
    fires('#[unsafe(export_name = "x")]\nfn f() {}', 'forbidden-attribute');
    for (const inner of [
      'feature(never_type)',
      'no_std',
      'recursion_limit = "4096"',
      'debugger_visualizer(gdb_script_file = "/etc/passwd")',
      'crate_type = "bin"',
      'inline',
    ]) {
      fires(`#![${inner}]\nfn f() {}`, 'forbidden-attribute');
    }
    fires('#![cfg_attr(all(), feature(x))]', 'forbidden-attribute');
    fires('#[custom_attribute]\nfn f() {}', 'forbidden-attribute');
    fires('#[tool::unknown]\nfn f() {}', 'forbidden-attribute');
  });

  test('cfg_attr is checked as if its attributes were written directly', () => {
    fires('#[cfg_attr(not(test), no_mangle)]\nfn f() {}', 'forbidden-attribute');
    fires('#[cfg_attr(all(), path = "/etc/passwd")]\nmod m {}', 'path-attribute');
  });

  test('attributes inside fn bodies and on expressions are checked too', () => {
    fires('fn f() {\n    #[no_mangle]\n    fn g() {}\n}', 'forbidden-attribute', 'items');
    fires('#[used]\nstatic X: u8 = 1;\nOk(None)', 'forbidden-attribute', 'fn-body');
  });

  test('attributes built from metavariables are splices', () => {
    fires('macro_rules! m { ($a:meta) => { #[$a] fn f() {} }; }', 'macro-splice');
  });
});

describe('soundness rules', () => {
  test('dyn Fn* in its many spellings', () => {
    for (const ty of [
      'Box<dyn FnMut()>',
      '&dyn std::ops::FnOnce() -> u8',
      '&(dyn Send + Fn())',
      "Box<dyn for<'a> Fn(&'a u8)>",
      "&dyn 'static + Fn()",
      'Box<dyn AsyncFn()>',
      'Box<dyn ::core::ops::Fn(u8)>',
    ]) {
      fires(`fn f(x: ${ty}) {}`, 'dyn-fn-trait');
    }
  });

  test('impl Fn and generic Fn bounds pass; other trait objects pass', () => {
    clean('fn f(g: impl Fn(u8) -> u8) -> impl Fn(u8) -> u8 { move |x| g(x) }');
    clean('fn f<F: for<\'a> Fn(&\'a str) -> usize>(g: F) -> usize where F: Copy { g("x") }');
    clean("fn f(x: &dyn std::fmt::Display, y: Box<dyn std::error::Error + Send + Sync + 'static>) {}");
  });

  test('Fn* supertraits and renamed Fn traits are rejected', () => {
    fires('trait Call: Fn(u8) -> u8 {}', 'dyn-fn-trait');
    fires('trait Call<T>: Send + FnMut(T) {}', 'dyn-fn-trait');
    fires('use std::ops::Fn as F;', 'dyn-fn-trait');
    fires('macro_rules! m { ($t:path) => { type B = Box<dyn $t>; }; }', 'macro-splice');
  });

  test('fn-pointer types in every position', () => {
    fires('struct S { f: fn() }', 'fn-pointer-type');
    fires('type F = extern "C" fn(i32);', 'fn-pointer-type');
    fires("fn f(g: for<'a> fn(&'a u8)) {}", 'fn-pointer-type');
    fires('fn f() -> Vec<fn() -> u8> { vec![] }', 'fn-pointer-type');
    clean('fn named() {}\nmacro_rules! m { ($n:ident) => { fn $n() {} }; }');
  });

  test('lifetime parameters on traits, not lifetime bounds', () => {
    fires("trait T<'a, 'b> {}", 'lifetime-trait');
    fires("pub trait T<'a: 'static, X> {}", 'lifetime-trait');
    clean(
      "trait T<X> { fn f(&self, x: &X) -> &X; }\nstruct Holder<'a> { s: &'a str }\nimpl<'a> Holder<'a> { fn get(&self) -> &'a str { self.s } }",
    );
  });

  test('outlives and Any bounds on generic types, but not on trait objects or impl Trait', () => {
    fires("trait T<X: 'static> {}", 'outlives-bound');
    fires("fn f<I: Iterator + 'static>(x: I::Item) {}", 'outlives-bound');
    fires("fn f<'a, I>(x: I) where I: Iterator + 'a {}", 'outlives-bound');
    fires("fn f<'a, 'b>() where 'a: 'b {}", 'outlives-bound');
    fires("struct S<'a, 'b: 'static>(&'a u8, &'b u8);", 'outlives-bound');
    fires('fn f<T: std::any::Any>(x: T) {}', 'outlives-bound');
    fires("trait Keep: 'static {}", 'outlives-bound');
    fires("trait Tr { type Out: 'static; }", 'outlives-bound');
    clean(
      "fn f(e: Box<dyn std::error::Error + Send + Sync + 'static>) {}\nfn g<'a>(v: &'a [u8]) -> impl Iterator<Item = &'a u8> + 'a { v.iter() }\nfn h(x: &dyn std::any::Any) -> bool { x.is::<u8>() }",
    );
    clean("fn f() { 'outer: loop { break 'outer; } }");
  });

  test('projections of generic types where values come in, but not where they go out', () => {
    fires('fn f<I: Iterator>(x: <I as Iterator>::Item) {}', 'projection-input');
    fires('fn f<I: Iterator, X: Into<I::Item>>(x: X) {}', 'projection-input');
    fires('fn f<I, X>(x: X) where I: Iterator, X: Into<I::Item> {}', 'projection-input');
    fires('struct Carry<I: Iterator> { item: I::Item }', 'projection-input');
    fires('trait Keep: Iterator { fn keep(x: Self::Item) {} }', 'projection-input');
    clean(
      'fn first<I: Iterator>(mut it: I) -> Option<I::Item> where I::Item: Clone { it.next() }\nfn make<T: Default>() -> T { T::default() }',
    );
  });

  test("&'static in impl headers, directly or through aliases", () => {
    fires("impl Tr for &'static str {}", 'static-ref-impl');
    fires("impl<T> Tr for Wrapper<&'static T> {}", 'static-ref-impl');
    fires("impl<T> Tr<&'static T> for W {}", 'static-ref-impl');
    fires("type S = &'static str;\ntype S2 = Option<S>;\nimpl Tr for S2 {}", 'static-ref-impl');
    clean(
      'impl<\'a> Tr for &\'a str {}\nfn f() -> &\'static str { "x" }\nfn g() -> impl Iterator<Item = &\'static str> { ["x"].into_iter() }\nstruct W;\nimpl W { const S: &\'static str = "x"; }',
    );
  });

  test('auto-trait impls, qualified, negative, unsafe or renamed', () => {
    for (const header of [
      'unsafe impl Send for X {}',
      'unsafe impl<T> Sync for W<T> {}',
      'impl std::panic::RefUnwindSafe for X {}',
      'impl core::panic::UnwindSafe for X {}',
      'impl !Send for X {}',
      'impl ::std::marker::Unpin for X {}',
    ]) {
      fires(header, 'auto-trait-impl');
    }
    fires('use std::marker::Unpin as Movable;', 'auto-trait-impl');
    clean(
      'struct X;\nimpl Clone for X { fn clone(&self) -> X { X } }\nfn f() -> impl Send { 1 }\nfn g<T>(t: T) where T: Send + Sync {}',
    );
    fires('macro_rules! m { ($t:ident) => { impl $t for X {} }; }', 'macro-splice');
  });
});

describe('leaks, hooks and keywords', () => {
  test('mem::forget however it is reached', () => {
    fires('use std::mem;\nfn f(v: Vec<u8>) { mem::forget(v) }', 'mem-forget');
    fires('use std::mem as m;\nfn f(v: Vec<u8>) { m::forget(v) }', 'mem-forget');
    fires('use std::mem::forget as f;', 'mem-forget');
    fires('use core::mem::{swap, forget};', 'mem-forget');
    fires('use std::mem::*;', 'mem-forget');
    clean('use std::mem::{self, swap};\nfn f(a: &mut u8, b: &mut u8) { mem::swap(a, b); swap(a, b); }');
    // Handed to a macro in pieces, the name is all there is to see.
    fires(
      'macro_rules! c { ($p:path, $n:ident, $v:expr) => { $p::$n($v) }; }\nfn f() { c!(std::mem, forget, 1); }',
      'mem-forget',
    );
  });

  test('leak calls', () => {
    fires('fn f(v: Vec<u8>) { let _ = Vec::leak(v); }', 'leak');
    fires('fn f(s: String) { let _ = s.leak(); }', 'leak');
    fires('fn f(b: Box<u8>) { let _ = std::boxed::Box::leak(b); }', 'leak');
    fires('fn f(b: Box<u8>) { let _ = Box::<u8>::leak(b); }', 'leak');
    fires(
      'macro_rules! c { ($t:ident, $n:ident, $v:expr) => { $t::$n($v) }; }\nfn f() { c!(Box, leak, Box::new(1)); }',
      'leak',
    );
    clean('fn f() { let leaky = 1; let _ = leaky; }');
  });

  test('the leak message follows the memory model: memory lives as long as the library, not the call', () => {
    const [d] = checkSource('fn f(s: String) { let _ = s.leak(); }', { file: 't.rs', context: 'items' });
    assert.match(d?.message ?? '', /plrust\.memory_limit until the library is unloaded/);
    assert.doesNotMatch(d?.message ?? '', /frees after the call/);
  });

  test('panic hooks', () => {
    fires('fn f() { let _ = std::panic::take_hook(); }', 'panic-hook');
    fires('use std::panic::set_hook;', 'panic-hook');
    fires('use std::panic::*;', 'panic-hook');
    clean('fn f() -> bool { std::panic::catch_unwind(|| 1).is_ok() }');
  });

  test('async, await, unsafe and const fn as keywords only', () => {
    fires('fn f() { let x = async { 1 }; }', 'async');
    fires('fn f(x: impl std::future::Future) { let _ = x.await; }', 'async');
    fires('unsafe fn f() {}', 'unsafe');
    fires('unsafe trait T {}', 'unsafe');
    fires('impl X { pub const unsafe fn f() {} }', 'const-fn');
    clean('fn f() { let r#async = 1; let r#await = r#async; let _ = r#await; }');
    clean('const X: u8 = 1;\nconst _: () = ();\nfn f(p: *const u8) -> usize { let _ = const { 1 + 1 }; p as usize }');
  });

  test('extern in all its forms', () => {
    fires('unsafe extern "C" { safe fn getpid() -> i32; }', 'extern-block');
    fires('extern { fn abort(); }', 'extern-block');
    fires('extern crate std as s;', 'extern-crate');
    fires('extern fn f() {}', 'extern-fn');
    fires('pub extern "C-unwind" fn f() {}', 'extern-fn');
  });

  test('out-of-line modules, also from macros', () => {
    fires('mod a;', 'out-of-line-module');
    fires('macro_rules! m { ($n:ident) => { mod $n; }; }', 'out-of-line-module');
    clean('mod a { pub fn f() {} }\npub mod b {}');
  });

  test('loops, fns and closures that cannot hold a checkpoint', () => {
    fires('macro_rules! m { ($c:expr, $b:block) => { while $c $b }; }', 'uninstrumentable');
    fires('macro_rules! m { ($b:block) => { fn g() $b }; }', 'uninstrumentable');
    fires('macro_rules! m { ($p:pat, $e:expr, $b:block) => { for $p in $e $b }; }', 'uninstrumentable');
    clean('macro_rules! m { ($c:expr, $($t:tt)*) => { while $c { $($t)* } }; }');
  });

  test('user-defined macros may not be handed loops, fns or closure bars', () => {
    const def = 'macro_rules! m { ($($t:tt)*) => { $($t)* }; }\n';
    for (const args of [
      'loop {}',
      'while x {}',
      'for i in v {}',
      'fn g() {}',
      '|x| x',
      '|| 1',
      'a | b',
      'vec![|x| x]',
    ]) {
      fires(`${def}fn f() { m!(${args}); }`, 'uninstrumentable');
    }
    fires('macro_rules! vec { ($($t:tt)*) => { $($t)* }; }\nfn f() { vec![|x| x]; }', 'uninstrumentable');
    fires('fn f() { $crate::m!(|x| x); }', 'uninstrumentable');
  });

  test('std macros may be handed closures, loops and bit-or', () => {
    clean(
      'fn f(v: Vec<i32>) { assert!(v.iter().all(|x| *x > 0)); let _ = vec![v.iter().map(|x| x | 1).count()]; let _ = format!("{}", loop { break 1 }); let _ = matches!(v.len(), 1 | 2); std::thread_local! { static T: u8 = 1; } }',
    );
    clean('fn f() { let _ = ::std::vec![|| 1]; let _ = core::matches!(1, 1 | 2); }');
  });
});

describe('contexts and reporting', () => {
  test('an SQL body in fn-body context passes; closing the fn is reported as such', () => {
    clean('let x = a.unwrap_or(0);\nOk(Some(x + 1))', 'fn-body');
    const [d] = checkSource('Ok(None)\n}\nfn evil() {', { file: 'body.sql', context: 'fn-body' });
    assert.equal(d!.rule, 'unbalanced-delimiters');
    assert.match(d!.message, /^body\.sql:2:1: unbalanced-delimiters: .*close the function body/);
  });

  test('diagnostics are sorted by position and not duplicated', () => {
    const ds = checkSource('fn f() { println!("a"); }\nunsafe fn g() { unsafe {} }', {
      file: 't.rs',
      context: 'items',
    });
    assert.deepEqual(
      ds.map((d) => [d.rule, d.line, d.col]),
      [
        ['stdio-macro', 1, 10],
        ['unsafe', 2, 1],
        ['unsafe', 2, 17],
      ],
    );
  });

  test('a lex error stops checking and is the only diagnostic', () => {
    assert.deepEqual(rules('include_str!("x"); /* open'), ['lex-error']);
  });
});

interface CorpusFile {
  name: string;
  source: string;
  expect: RuleId | undefined;
  context: CheckContext;
}

function corpus(dir: 'escapes' | 'ok'): CorpusFile[] {
  const root = path.join(packageRoot(), 'test', 'corpus', dir);
  return fs
    .readdirSync(root)
    .filter((f) => f.endsWith('.rs'))
    .sort()
    .map((name) => {
      const source = fs.readFileSync(path.join(root, name), 'utf8');
      // The header comments are the first lines (after a shebang, for the shebang case).
      const header = source.split('\n').slice(0, 4).join('\n');
      const expect = /^\/\/ expect: (\S+)$/m.exec(header)?.[1] as RuleId | undefined;
      const context: CheckContext = /^\/\/ context: fn-body$/m.test(header) ? 'fn-body' : 'items';
      return { name, source, expect, context };
    });
}

describe('escape corpus', () => {
  const files = corpus('escapes');
  const known = new Set(RULES.map((r) => r.id));

  test('has at least 30 escape attempts, each naming a known rule', () => {
    assert.ok(files.length >= 30, `only ${files.length} files`);
    for (const f of files) {
      assert.ok(f.expect !== undefined, `${f.name} has no // expect: line`);
      assert.ok(known.has(f.expect), `${f.name} expects unknown rule ${f.expect}`);
    }
  });

  for (const f of files) {
    test(`${f.name} is rejected for ${f.expect ?? '?'}`, () => {
      const ds = checkSource(f.source, { file: f.name, context: f.context });
      assert.ok(ds.length > 0, `${f.name} was accepted`);
      assert.ok(
        ds.some((d) => d.rule === f.expect),
        `${f.name}: expected ${f.expect}, got:\n${ds.map((d) => d.message).join('\n')}`,
      );
    });
  }
});

describe('legitimate programs', () => {
  const files = corpus('ok');

  test('there are legitimate programs to check', () => {
    assert.ok(files.length >= 5);
  });

  for (const f of files) {
    test(`${f.name} passes with no diagnostics`, () => {
      assert.deepEqual(
        checkSource(f.source, { file: f.name, context: f.context }).map((d) => d.message),
        [],
      );
    });
  }
});

describe('derive helper attributes', () => {
  const helpers = new Set(['serde']);
  const rules = (src: string, h: ReadonlySet<string> = helpers) =>
    checkSource(src, { file: 'f.rs', context: 'items', helpers: h }).map((d) => d.rule);

  test('inert arguments of a declared helper pass', () => {
    assert.deepEqual(
      rules(
        '#[derive(serde::Deserialize)]\n#[serde(rename_all = "camelCase", deny_unknown_fields)]\nstruct P {\n    #[serde(rename = "type", default)]\n    a: i32,\n    #[serde(with = "my::module", skip_serializing_if = "Option::is_none", bound(deserialize = "T: Clone + Default"))]\n    b: Option<i32>,\n}\n',
      ),
      [],
    );
  });

  test('an undeclared helper, code-shaped arguments and code in strings are refused', () => {
    assert.deepEqual(rules('#[serde(rename = "x")]\nstruct P;', new Set()), ['forbidden-attribute']);
    for (const bad of [
      '#[serde(from = "[u8; { 1 }]")]',
      '#[serde(bound = "T: \'static")]',
      '#[serde(from = "fn()")]',
      '#[serde(from = "unsafe_thing::X<{ unsafe { 1 } }>")]',
      '#[serde(with = "a\\u{7b}")]',
      '#[serde(with = concat!("a", "b"))]',
      '#[serde(with = $m)]',
      '#[serde[rename = "x"]]',
    ]) {
      assert.ok(rules(`${bad}\nstruct P;`).length > 0, `${bad} passed`);
    }
  });
});
