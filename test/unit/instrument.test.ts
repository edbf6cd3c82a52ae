import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CHECKPOINT_CALL,
  instrument,
  instrumentDetailed,
  type InstrumentContext,
} from '../../src/analysis/instrument.js';
import { PlrustError } from '../../src/util/errors.js';
import { packageRoot } from '../../src/util/package-root.js';

const RUSTC = '/usr/bin/rustc';

/** Instrument with a short marker so expectations stay readable. */
function cp(src: string, context: InstrumentContext = 'items'): string {
  return instrument(src, context, { call: 'CP();' });
}

describe('where checkpoints go', () => {
  test('fn bodies and loop bodies', () => {
    assert.equal(
      cp('fn f(n: u32) { loop { break } while n > 0 { } for i in 0..n { } }'),
      'fn f(n: u32) { CP(); loop { CP(); break } while n > 0 { CP(); } for i in 0..n { CP(); } }',
    );
  });

  test('labelled loops, while let, for over a struct pattern, for over an open range', () => {
    assert.equal(
      cp("fn f() { 'a: while let Some(x) = it.next() { } }"),
      "fn f() { CP(); 'a: while let Some(x) = it.next() { CP(); } }",
    );
    assert.equal(cp('fn f() { for P { x, y } in ps { } }'), 'fn f() { CP(); for P { x, y } in ps { CP(); } }');
    assert.equal(cp('fn f() { for i in 0.. { } }'), 'fn f() { CP(); for i in 0.. { CP(); } }');
  });

  test('block-like expressions in a loop condition are not mistaken for the body', () => {
    assert.equal(cp('fn f() { while { a() } { } }'), 'fn f() { CP(); while { a() } { CP(); } }');
    assert.equal(
      cp('fn f() { while match x { _ => true } { } }'),
      'fn f() { CP(); while match x { _ => true } { CP(); } }',
    );
    assert.equal(
      cp('fn f() { while if a { b } else { c } { } }'),
      'fn f() { CP(); while if a { b } else { c } { CP(); } }',
    );
  });

  test('expression closures are wrapped, block closures get the call first', () => {
    assert.equal(
      cp('fn f() { v.iter().map(|x| x + 1).sum() }'),
      'fn f() { CP(); v.iter().map(|x| { CP(); x + 1 }).sum() }',
    );
    assert.equal(cp('fn f() { let g = move || { 1 }; }'), 'fn f() { CP(); let g = move || { CP(); 1 }; }');
    assert.equal(cp('fn f() { let g = |a: u8| -> u8 { a }; }'), 'fn f() { CP(); let g = |a: u8| -> u8 { CP(); a }; }');
    assert.equal(
      cp('fn f() { m(|a| a, |b| |c| b + c); }'),
      'fn f() { CP(); m(|a| { CP(); a }, |b| { CP(); |c| { CP(); b + c } }); }',
    );
    assert.equal(cp('fn f() { let g = || x; g() }'), 'fn f() { CP(); let g = || { CP(); x }; g() }');
  });

  test('bit-or, logical or and or-patterns are not closures', () => {
    assert.equal(cp('fn f() { a | b; c || d; }'), 'fn f() { CP(); a | b; c || d; }');
    assert.equal(
      cp('fn f() { match x { | A | B => 1, C(_) | D => 2, _ => 3 } }'),
      'fn f() { CP(); match x { | A | B => 1, C(_) | D => 2, _ => 3 } }',
    );
    assert.equal(
      cp('fn f() { match x { A => |y| y, _ => |y| 0 } }'),
      'fn f() { CP(); match x { A => |y| { CP(); y }, _ => |y| { CP(); 0 } } }',
    );
  });

  test('signatures: where clauses, impl Trait returns, fn pointers, trait declarations', () => {
    assert.equal(
      cp('fn f<T>(t: T) -> u8 where T: Into<u8> { t.into() }'),
      'fn f<T>(t: T) -> u8 where T: Into<u8> { CP(); t.into() }',
    );
    assert.equal(
      cp('fn f() -> impl Iterator<Item = u8> { (0..3).map(|x| x) }'),
      'fn f() -> impl Iterator<Item = u8> { CP(); (0..3).map(|x| { CP(); x }) }',
    );
    assert.equal(cp('fn f() -> impl Fn() -> u8 { || 1 }'), 'fn f() -> impl Fn() -> u8 { CP(); || { CP(); 1 } }');
    assert.equal(
      cp('trait T { fn a(&self); fn b(&self) where Self: Sized { } }'),
      'trait T { fn a(&self); fn b(&self) where Self: Sized { CP(); } }',
    );
    assert.equal(cp('fn f(g: fn(u8) -> u8) -> u8 { g(1) }'), 'fn f(g: fn(u8) -> u8) -> u8 { CP(); g(1) }');
    assert.equal(
      cp('impl<T> Tr for W<T> where T: Fn() { fn m(&self) { } }'),
      'impl<T> Tr for W<T> where T: Fn() { fn m(&self) { CP(); } }',
    );
  });

  test('compile-time code is skipped, run-time code inside it is not', () => {
    assert.equal(cp('const fn c() { loop { } }'), 'const fn c() { loop { } }');
    assert.equal(cp('const X: u8 = { while a { } 1 };'), 'const X: u8 = { while a { } 1 };');
    assert.equal(cp('static S: L = L::new(|| { loop { } });'), 'static S: L = L::new(|| { CP(); loop { CP(); } });');
    assert.equal(
      cp('fn f() { let a = [0; { loop { break 1 } }]; let b = const { for _ in x { } }; }'),
      'fn f() { CP(); let a = [0; { loop { break 1 } }]; let b = const { for _ in x { } }; }',
    );
    assert.equal(
      cp('enum E { A = { let mut i = 0; while i < 2 { i += 1 } i } }'),
      'enum E { A = { let mut i = 0; while i < 2 { i += 1 } i } }',
    );
    assert.equal(
      cp('const X: u8 = { fn helper() -> u8 { 1 } helper() };'),
      'const X: u8 = { fn helper() -> u8 { CP(); 1 } helper() };',
    );
  });

  test('macro arguments are run-time code, even in an array length position', () => {
    assert.equal(
      cp('fn f() { let v = vec![0; { loop { break 2 } }]; }'),
      'fn f() { CP(); let v = vec![0; { loop { CP(); break 2 } }]; }',
    );
  });

  test('macro_rules: transcribers are instrumented, matchers are not', () => {
    assert.equal(
      cp('macro_rules! m { ($($x:expr),*) => { $( loop { $x } )* }; (| $y:ident |) => { || $y }; }'),
      'macro_rules! m { ($($x:expr),*) => { $( loop { CP(); $x } )* }; (| $y:ident |) => { || { CP(); $y } }; }',
    );
  });

  test('inner attributes and inner doc comments stay first', () => {
    assert.equal(
      cp('fn f() {\n    #![allow(unused)]\n    //! docs\n    1\n}'),
      'fn f() {\n    #![allow(unused)]\n    //! docs\n    CP(); 1\n}',
    );
    assert.equal(cp('#![allow(unused)]\nOk(Some(1))', 'fn-body'), '#![allow(unused)]\nCP(); Ok(Some(1))');
  });

  test('fn-body context: the first statement is the checkpoint', () => {
    assert.equal(
      cp('let x = 1;\nfor _ in 0..x { }\nOk(Some(x))', 'fn-body'),
      'CP(); let x = 1;\nfor _ in 0..x { CP(); }\nOk(Some(x))',
    );
  });

  test('the default call is the runtime checkpoint', () => {
    assert.equal(CHECKPOINT_CALL, '::plrust_rt::checkpoint();');
    assert.equal(instrument('fn f() {}', 'items'), 'fn f() {::plrust_rt::checkpoint(); }');
  });

  test('line numbers never change; insertion positions are reported in original coordinates', () => {
    const src = fs.readFileSync(path.join(packageRoot(), 'test', 'corpus', 'ok', 'iterators-closures.rs'), 'utf8');
    const { code, insertions } = instrumentDetailed(src, 'items');
    assert.equal(code.split('\n').length, src.split('\n').length);
    const srcLines = src.split('\n');
    const outLines = code.split('\n');
    assert.ok(insertions.length > 10);
    assert.ok(insertions.every((ins) => !ins.text.includes('\n')));
    // Removing what was inserted on each line, at the reported columns, gives back that line.
    for (const [i, line] of srcLines.entries()) {
      const out = [...outLines[i]!];
      for (const ins of insertions.filter((x) => x.line === i + 1)) {
        const at = ins.col - 1;
        assert.equal(
          out.slice(at, at + [...ins.text].length).join(''),
          ins.text,
          `line ${i + 1}: insertion not at ${ins.col}`,
        );
        out.splice(at, [...ins.text].length);
      }
      assert.equal(out.join(''), line, `line ${i + 1} changed`);
    }
    // apply_twice's body `f(f(x))` starts at line 3, column 5.
    assert.deepEqual(
      { ...insertions[0]!, text: undefined },
      { index: src.indexOf('f(f(x))'), line: 3, col: 5, site: 'fn', text: undefined },
    );
  });

  test('bodies supplied by macro metavariables are refused', () => {
    for (const src of [
      'macro_rules! m { ($b:block) => { loop $b }; }',
      'macro_rules! m { ($b:block) => { fn g() $b }; }',
    ]) {
      assert.throws(
        () => instrument(src, 'items'),
        (e: unknown) => e instanceof PlrustError && e.code === 'INSTRUMENT_UNRESOLVED',
      );
    }
  });

  test('loops, fns and closure bars in user-defined macro arguments are refused', () => {
    for (const src of [
      'macro_rules! m { ($($t:tt)*) => { $($t)* }; }\nfn f() { m!(loop {}, {}); }',
      'fn f() { m!(|x| x); }',
      'fn f() { m!(fn g() {}); }',
      'macro_rules! vec { () => {}; }\nfn f() { vec![|x| x]; }',
    ]) {
      assert.throws(
        () => instrument(src, 'items'),
        (e: unknown) => e instanceof PlrustError && e.code === 'INSTRUMENT_UNRESOLVED',
        src,
      );
    }
    assert.equal(
      cp('fn f() { vec![|x| x]; std::vec![loop { break }]; }'),
      'fn f() { CP(); vec![|x| { CP(); x }]; std::vec![loop { CP(); break }]; }',
    );
  });

  test('transcriber metavariables that may be empty do not hide a closure', () => {
    assert.equal(
      cp('macro_rules! m { ($v:vis) => { $v | x | x }; }'),
      'macro_rules! m { ($v:vis) => { $v | x | { CP(); x } }; }',
    );
    assert.equal(
      cp('macro_rules! m { ($($a:expr)?) => { $($a)? | x | x }; }'),
      'macro_rules! m { ($($a:expr)?) => { $($a)? | x | { CP(); x } }; }',
    );
    assert.equal(cp('macro_rules! m { ($a:expr) => { $a | 1 }; }'), 'macro_rules! m { ($a:expr) => { $a | 1 }; }');
  });

  test('static initializers inside macro arguments (thread_local!) are run-time code', () => {
    assert.equal(
      cp('thread_local! { static T: u8 = { while a { } 1 }; }'),
      'thread_local! { static T: u8 = { while a { CP(); } 1 }; }',
    );
  });

  test('unlexable or unbalanced input is refused', () => {
    assert.throws(
      () => instrument('fn f() { "open }', 'items'),
      (e: unknown) => e instanceof PlrustError && e.code === 'INSTRUMENT_LEX',
    );
    assert.throws(
      () => instrument('fn f() { } }', 'items'),
      (e: unknown) => e instanceof PlrustError && e.code === 'INSTRUMENT_DELIMITERS',
    );
  });
});

describe('instrumented code compiles and runs with the real rustc', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plrust-instrument-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const USER_ITEMS = `
pub fn loop_n(n: u32) -> u32 {
    let mut i = 0;
    loop {
        if i == n { break; }
        i += 1;
    }
    i
}
pub fn while_n(n: u32) -> u32 { let mut i = 0; while i < n { i += 1 } i }
pub fn for_n(n: u32) -> u32 { let mut s = 0; for k in 0..n { s += k; } s }
pub fn map_sum(v: &[u32]) -> u32 { v.iter().map(|x| x + 1).sum() }
pub fn for_each_block(v: &[u32]) -> u32 { let mut s = 0; v.iter().for_each(|x| { s += x; }); s }
pub fn fact(n: u64) -> u64 { if n == 0 { 1 } else { n * fact(n - 1) } }
const TABLE: [u32; 4] = { let mut t = [0; 4]; let mut i = 0; while i < 4 { t[i] = i as u32 * 2; i += 1; } t };
pub fn table_sum() -> u32 { TABLE.iter().sum() }
static LAZY: std::sync::LazyLock<u32> = std::sync::LazyLock::new(|| 41 + 1);
pub fn lazy() -> u32 { *LAZY }
macro_rules! count_to { ($n:expr) => {{ let mut k = 0; while k < $n { k += 1; } k }}; }
pub fn macro_loop() -> u32 { count_to!(3) }
pub trait Greet { fn hello(&self) -> u32 { 7 } fn name(&self) -> u32; }
pub struct G;
impl Greet for G { fn name(&self) -> u32 { 1 } }
pub fn trait_default() -> u32 { G.hello() + G.name() }
pub fn nested_closure(v: &[u32]) -> u32 { v.iter().map(|x| v.iter().filter(|y| *y < x).count() as u32).sum() }
pub fn drain(v: Vec<u32>) -> u32 {
    let mut v = v;
    let mut s = 0;
    'outer: while let Some(x) = v.pop() {
        if x == 0 { break 'outer; }
        s += x;
    }
    s
}
pub fn where_clause<T>(t: T) -> u32 where T: Into<u32> { t.into() }
pub fn returns_impl() -> impl Iterator<Item = u32> { (0..3).map(|x| x * 2) }
const fn pure() -> u32 { let mut i = 0; while i < 5 { i += 1; } i }
pub fn uses_const_fn() -> u32 { const P: u32 = pure(); P + 5 }
pub fn pick(k: u8) -> u32 { let g = match k { 0 => |x: u32| x + 1, _ => |x: u32| x * 2 }; g(4) }
thread_local! { static TL: u32 = { let mut i = 0; while i < 3 { i += 1; } i }; }
pub fn thread_local_init() -> u32 { TL.with(|v| *v) }
pub fn runaway() { loop {} }
pub fn endless_iter() -> usize { std::iter::repeat(1u8).map(|b| b as usize).sum() }
`;

  const USER_BODY = `let n = n.unwrap_or(0);
let mut acc = a.unwrap_or(0);
for _ in 0..n { acc += 1; }
Ok(Some(acc))`;

  const HARNESS = (items: string, body: string) => `
extern crate self as plrust_rt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
static COUNT: AtomicU64 = AtomicU64::new(0);
static LIMIT: AtomicU64 = AtomicU64::new(u64::MAX);
pub fn checkpoint() {
    let n = COUNT.fetch_add(1, Relaxed) + 1;
    if n > LIMIT.load(Relaxed) { panic!("canceling statement due to statement timeout"); }
}
fn measure<R: std::fmt::Debug>(name: &str, f: impl FnOnce() -> R) {
    COUNT.store(0, Relaxed);
    let r = f();
    println!("{name} {r:?} {}", COUNT.load(Relaxed));
}
mod user {
#![forbid(unsafe_code)]
${items}
}
mod body {
#![forbid(unsafe_code)]
pub fn call(a: Option<i32>, n: Option<i32>) -> Result<Option<i32>, Box<dyn std::error::Error + Send + Sync + 'static>> {
${body}
}
}
fn main() {
    measure("loop_n", || user::loop_n(5));
    measure("while_n", || user::while_n(4));
    measure("for_n", || user::for_n(4));
    measure("map_sum", || user::map_sum(&[1, 2, 3]));
    measure("for_each_block", || user::for_each_block(&[1, 2, 3]));
    measure("fact", || user::fact(5));
    measure("table_sum", || user::table_sum());
    measure("lazy", || user::lazy());
    measure("macro_loop", || user::macro_loop());
    measure("trait_default", || user::trait_default());
    measure("nested_closure", || user::nested_closure(&[1, 2, 3]));
    measure("drain", || user::drain(vec![0, 1, 2]));
    measure("where_clause", || user::where_clause(7u8));
    measure("returns_impl", || user::returns_impl().sum::<u32>());
    measure("uses_const_fn", || user::uses_const_fn());
    measure("pick", || user::pick(0));
    measure("thread_local_init", || user::thread_local_init());
    measure("body", || body::call(Some(2), Some(3)).unwrap());
    std::panic::set_hook(Box::new(|_| {}));
    LIMIT.store(10_000, Relaxed);
    measure("runaway_stopped", || std::panic::catch_unwind(|| user::runaway()).is_err());
    measure("endless_iter_stopped", || std::panic::catch_unwind(|| user::endless_iter()).is_err());
}
`;

  test('every inserted checkpoint runs: exact counts per construct, and runaway code is stopped', () => {
    const source = HARNESS(instrument(USER_ITEMS, 'items'), instrument(USER_BODY, 'fn-body'));
    const file = path.join(dir, 'main.rs');
    fs.writeFileSync(file, source);
    const exe = path.join(dir, 'main');
    execFileSync(RUSTC, ['--edition', '2021', '-A', 'warnings', '-C', 'opt-level=1', '-o', exe, file], {
      stdio: 'pipe',
    });
    // A missing checkpoint makes `runaway` spin forever: the timeout turns that into a failure.
    const out = execFileSync(exe, { encoding: 'utf8', timeout: 30_000 });
    const got = Object.fromEntries(
      out
        .trim()
        .split('\n')
        .map((l) => {
          const [name, ...rest] = l.split(' ');
          return [name!, rest.join(' ')];
        }),
    );
    assert.deepEqual(got, {
      loop_n: '5 7', // fn entry + 6 loop iterations (the sixth breaks)
      while_n: '4 5',
      for_n: '6 5',
      map_sum: '9 4', // fn entry + one closure call per element
      for_each_block: '6 4',
      fact: '120 6', // one per recursive call
      table_sum: '12 1', // the const initializer's loop is compile-time: not instrumented
      lazy: '42 2', // the LazyLock closure inside a static runs at run time
      macro_loop: '3 4',
      trait_default: '8 3', // default method body counts
      nested_closure: '3 13', // 1 + 3 outer + 9 inner closure calls
      drain: '3 4',
      where_clause: '7 1',
      returns_impl: '6 4',
      uses_const_fn: '10 1', // const fn bodies are skipped (the checker rejects const fn)
      pick: '5 2',
      thread_local_init: '3 5', // fn + `with` closure + 3 iterations of the lazily run initializer
      body: 'Some(5) 4', // first statement of the SQL body + 3 iterations
      runaway_stopped: 'true 10001',
      endless_iter_stopped: 'true 10001',
    });
  });

  test('the instrumented legitimate corpus type-checks', () => {
    const root = path.join(packageRoot(), 'test', 'corpus', 'ok');
    let crate = '#![allow(warnings)]\nextern crate self as plrust_rt;\npub fn checkpoint() {}\n';
    const files = fs
      .readdirSync(root)
      .filter((f) => f.endsWith('.rs'))
      .sort();
    for (const f of files) {
      const src = fs.readFileSync(path.join(root, f), 'utf8');
      const mod = f.replace(/\W/g, '_');
      const fnBody = /^\/\/ context: fn-body$/m.test(src);
      const code = instrument(src, fnBody ? 'fn-body' : 'items');
      assert.notEqual(code, src, `${f} got no checkpoints`);
      if (fnBody) {
        const args = /^\/\/ args: (.*)$/m.exec(src)![1];
        const ret = /^\/\/ returns: (.*)$/m.exec(src)![1];
        crate += `mod ${mod} {\n#![forbid(unsafe_code)]\npub fn body(${args}) -> Result<Option<${ret}>, Box<dyn std::error::Error + Send + Sync + 'static>> {\n${code}\n}\n}\n`;
      } else {
        crate += `mod ${mod} {\n#![forbid(unsafe_code)]\n${code}\n}\n`;
      }
    }
    const file = path.join(dir, 'corpus.rs');
    fs.writeFileSync(file, crate);
    execFileSync(
      RUSTC,
      ['--edition', '2021', '--crate-type', 'lib', '--emit=metadata', '-o', path.join(dir, 'libcorpus.rmeta'), file],
      { stdio: 'pipe' },
    );
  });
});
