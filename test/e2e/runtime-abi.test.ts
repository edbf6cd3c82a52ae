/**
 * The function-library ABI end to end: FunctionDef -> generated crate ->
 * real rustc against a postgres-vendor sysroot -> .so -> the C test host
 * (natively on x86_64, under qemu-user on aarch64).
 *
 * Sysroot and spec: the shared test toolchain's (test/helpers/toolchain.ts),
 * which has both targets; nothing here is skipped.
 *
 * Run from the repository root: npm run build && node --test dist/test/e2e/runtime-abi.test.js
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FunctionDef, SqlType } from '../../src/functions/definition.js';
import { generateCrate, rustcArgs, RUSTC_ENV } from '../../src/compile/generate.js';
import { instrument } from '../../src/analysis/instrument.js';
import { buildRuntime } from '../../src/toolchain/runtime-crate.js';
import { getTestSysroot } from '../helpers/std-sysroot.js';
import { parseRsFile } from '../../src/functions/rs-file.js';
import { buildHost, runHost, type HostArch, type HostOptions, type HostOutput } from '../helpers/host.js';
import { DEBIAN_RUSTC as RUSTC } from '../helpers/toolchain.js';

const WORK = fs.mkdtempSync(path.join(os.tmpdir(), 'plrust-runtime-abi-'));

const triple = (arch: HostArch): string => `${arch}-postgres-linux-gnu`;

interface Toolchain {
  arch: HostArch;
  sysroot: string;
  spec: string;
  rlib: string;
  host: string;
}

const toolchains = new Map<HostArch, Toolchain>();
const compileTimes: { arch: HostArch; name: string; ms: number }[] = [];
const runtimeTimes: string[] = [];

async function toolchain(arch: HostArch): Promise<Toolchain> {
  const known = toolchains.get(arch);
  if (known) return known;
  // The shared test toolchain's restricted sysroot and generated spec (named <triple>.json, as rustc requires).
  const { sysroot, spec } = await getTestSysroot(arch);
  const t0 = Date.now();
  const { rlib } = await buildRuntime({
    rustc: RUSTC,
    sysroot,
    targetSpec: spec,
    outDir: path.join(WORK, 'runtime', arch),
  });
  runtimeTimes.push(`${arch} ${Date.now() - t0} ms`);
  const tc = { arch, sysroot, spec, rlib, host: buildHost(arch, path.join(WORK, 'host')) };
  toolchains.set(arch, tc);
  return tc;
}

type Compiled = { ok: true; so: string; dir: string } | { ok: false; stderr: string };

let counter = 0;

async function compile(
  arch: HostArch,
  def: FunctionDef,
  opts: { instrumented?: string; editLib?: (lib: string) => string } = {},
): Promise<Compiled> {
  const tc = await toolchain(arch);
  const instrumented = opts.instrumented ?? instrument(def.source, 'fn-body');
  const crate = generateCrate(def, instrumented);
  const dir = path.join(WORK, 'crates', `${arch}-${def.rustName}-${counter++}`);
  fs.mkdirSync(dir, { recursive: true });
  const lib = path.join(dir, 'lib.rs');
  fs.writeFileSync(lib, opts.editLib ? opts.editLib(crate.source) : crate.source);
  fs.writeFileSync(path.join(dir, 'user.rs'), crate.userModule);
  const so = path.join(dir, `${triple(arch)}.so`);
  const t0 = Date.now();
  const r = spawnSync(
    RUSTC,
    rustcArgs({ sysroot: tc.sysroot, targetSpec: tc.spec, runtimeRlib: tc.rlib, src: lib, out: so }),
    {
      env: { ...process.env, ...RUSTC_ENV },
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) return { ok: false, stderr: r.stderr };
  compileTimes.push({ arch, name: def.rustName, ms: Date.now() - t0 });
  return { ok: true, so, dir };
}

async function library(arch: HostArch, def: FunctionDef): Promise<string> {
  const c = await compile(arch, def);
  if (!c.ok) assert.fail(`${def.rustName} did not compile:\n${c.stderr}`);
  return c.so;
}

function call(arch: HostArch, so: string, args: string[], options: HostOptions = {}): HostOutput {
  const run = runHost(arch, toolchains.get(arch)!.host, so, args, options);
  assert.equal(run.signal, null, `host died on ${run.signal}: ${run.stderr}`);
  return run.output;
}

function sqlType(name: string): SqlType {
  if (name === 'void') return { kind: 'void' };
  if (name.endsWith('[]')) return { kind: 'array', element: name.slice(0, -2) as never };
  return { kind: 'scalar', name: name as never };
}

function sqlFn(rustName: string, args: [string, string][], returns: string, body: string, strict = false): FunctionDef {
  return {
    sqlName: `public.${rustName}`,
    rustName,
    args: args.map(([name, t]) => ({ name, type: sqlType(t) })),
    returns: sqlType(returns),
    strict,
    volatility: 'immutable',
    parallel: 'safe',
    source: body,
    origin: { file: 'fns.sql', line: 10, col: 5 },
  };
}

/** A `pub fn` of a .rs file, turned into a definition by the same code `plrust build` uses. */
function rsFn(rustName: string, source: string): FunctionDef {
  const { functions, errors } = parseRsFile(source, 'fns.rs');
  assert.deepEqual(errors, []);
  const def = functions.find((f) => f.rustName === rustName);
  assert.ok(def, `${rustName} is a pub fn of the source`);
  return def;
}

function exportedSymbols(so: string): string[] {
  const r = spawnSync('nm', ['-D', '--defined-only', so], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length === 3 && /^[TDBR]$/.test(f[1]!))
    .map((f) => f[2]!)
    .sort();
}

after(() => {
  const lines = compileTimes.map((c) => `  ${c.arch.padEnd(7)} ${String(c.ms).padStart(5)} ms  ${c.name}`);
  const ms = (arch: HostArch): number[] =>
    compileTimes
      .filter((c) => c.arch === arch)
      .map((c) => c.ms)
      .sort((a, b) => a - b);
  const median = (xs: number[]): string => (xs.length ? `${xs[Math.floor(xs.length / 2)]} ms` : 'n/a');
  console.log(`runtime crate: ${runtimeTimes.join(', ')}`);
  console.log(`function compile times (rustc, cdylib):\n${lines.join('\n')}`);
  console.log(
    `median: x86_64 ${median(ms('x86_64'))}, aarch64 ${median(ms('aarch64'))} (${compileTimes.length} libraries)`,
  );
  fs.rmSync(WORK, { recursive: true, force: true });
});

/** One sql-body identity-like function per type: a type-specific operation, NULL in -> NULL out. */
const TYPE_CASES: { type: string; body: string; calls: [string, unknown][] }[] = [
  {
    type: 'bool',
    body: 'Ok(x.map(|v| !v))',
    calls: [
      ['true', false],
      ['f', true],
      ['NULL', null],
    ],
  },
  {
    type: 'int2',
    body: 'Ok(x.map(|v| v.wrapping_mul(3)))',
    calls: [
      ['-5', -15],
      ['32767', 32765],
      ['NULL', null],
    ],
  },
  {
    type: 'int4',
    body: 'Ok(x.map(|v| v.wrapping_mul(3)))',
    calls: [
      ['-5', -15],
      ['2147483647', 2147483645],
      ['NULL', null],
    ],
  },
  {
    type: 'int8',
    body: 'Ok(x.map(|v| v * 3))',
    calls: [
      ['9000000000', 27000000000],
      ['-5', -15],
      ['NULL', null],
    ],
  },
  {
    type: 'float4',
    body: 'Ok(x.map(|v| v * 2.0))',
    calls: [
      ['1.25', 2.5],
      ['NULL', null],
    ],
  },
  {
    type: 'float8',
    body: 'Ok(x.map(|v| v * 2.0))',
    calls: [
      ['1e300', 2e300],
      ['-inf', '-Infinity'],
      ['NULL', null],
    ],
  },
  {
    type: 'text',
    body: 'Ok(x.map(|s| s.to_uppercase()))',
    calls: [
      ['héllo wörld', 'HÉLLO WÖRLD'],
      ['', ''],
      ['NULL', null],
    ],
  },
  {
    type: 'varchar',
    body: 'Ok(x.map(|s| format!("<{s}>")))',
    calls: [
      ['ab', '<ab>'],
      ['NULL', null],
    ],
  },
  {
    type: 'bytea',
    body: 'Ok(x.map(|b| b.iter().rev().copied().collect()))',
    calls: [
      ['\\x0102ff', '\\xff0201'],
      ['\\x', '\\x'],
      ['NULL', null],
    ],
  },
  {
    type: 'bool[]',
    body: 'Ok(x.map(|v| v.into_iter().map(|e| e.map(|b| !b)).collect()))',
    calls: [
      ['{t,NULL,f}', [false, null, true]],
      ['{}', []],
      ['NULL', null],
    ],
  },
  {
    type: 'int2[]',
    body: 'Ok(x.map(|v| v.into_iter().map(|e| e.map(|n| n * 2)).collect()))',
    calls: [
      ['{1,NULL,-3}', [2, null, -6]],
      ['NULL', null],
    ],
  },
  {
    type: 'int4[]',
    body: 'Ok(x.map(|v| v.into_iter().rev().collect()))',
    calls: [
      ['{1,NULL,3}', [3, null, 1]],
      ['{NULL}', [null]],
      ['{}', []],
    ],
  },
  {
    type: 'int8[]',
    body: 'Ok(x.map(|v| v.into_iter().map(|e| e.map(|n| n * 2)).collect()))',
    calls: [['{4000000000,NULL}', [8000000000, null]]],
  },
  {
    type: 'float4[]',
    body: 'Ok(x.map(|v| v.into_iter().map(|e| e.map(|n| n * 2.0)).collect()))',
    calls: [['{0.5,NULL}', [1, null]]],
  },
  {
    type: 'float8[]',
    body: 'Ok(x.map(|v| v.into_iter().map(|e| e.map(|n| n / 4.0)).collect()))',
    calls: [['{1,NULL,-2}', [0.25, null, -0.5]]],
  },
  {
    type: 'text[]',
    body: 'Ok(x.map(|v| v.into_iter().map(|e| e.map(|s| s.to_uppercase())).collect()))',
    calls: [
      ['{a,NULL,"b,c","",ü}', ['A', null, 'B,C', '', 'Ü']],
      ['{}', []],
      ['NULL', null],
    ],
  },
  {
    type: 'varchar[]',
    body: 'Ok(x.map(|v| v.into_iter().filter(|e| e.is_some()).map(|e| e.map(String::from)).collect()))',
    calls: [['{x,NULL,y}', ['x', 'y']]],
  },
  {
    type: 'bytea[]',
    body: 'Ok(x.map(|v| v.into_iter().map(|e| e.map(|b| b.to_vec())).collect()))',
    calls: [['{\\x00ff,NULL,\\x}', ['\\x00ff', null, '\\x']]],
  },
];

describe('runtime ABI on x86_64', () => {
  const arch: HostArch = 'x86_64';

  before(async () => {
    await toolchain(arch);
  });

  for (const c of TYPE_CASES) {
    test(`${c.type} in and out, NULL and non-NULL`, async () => {
      const so = await library(arch, sqlFn(`id_${c.type.replace('[]', '_array')}`, [['x', c.type]], c.type, c.body));
      for (const [arg, expected] of c.calls) {
        assert.deepEqual(call(arch, so, [arg]), { status: 'ok', result: expected, live_bytes: 0 }, `argument ${arg}`);
      }
    });
  }

  test('void result, and the signature JSON', async () => {
    const so = await library(arch, sqlFn('nothing', [['n', 'int8']], 'void', 'let _ = n;\nOk(Some(()))', true));
    assert.deepEqual(call(arch, so, ['1']), { status: 'ok', result: null, live_bytes: 0 });
    assert.deepEqual(call(arch, so, [], { signature: true }).signature, {
      name: 'public.nothing',
      args: [{ name: 'n', type: 'int8' }],
      returns: 'void',
      strict: true,
    });
  });

  test('the library exports exactly the four ABI symbols', async () => {
    const so = await library(arch, sqlFn('exports', [], 'int4', 'Ok(Some(1))'));
    assert.deepEqual(exportedSymbols(so), ['plrust_abi_version', 'plrust_call', 'plrust_init', 'plrust_signature']);
  });

  test('Err becomes status err; a panic reports message and the user file location', async () => {
    const body = [
      '',
      '  let a = a.unwrap_or(0);',
      '  if a == 98 { return Err(format!("bad a: {a}").into()) }',
      '  if a == 99 { panic!("boom {}", a) }',
      '  Ok(Some(a + b.ok_or("b is NULL")?))',
      '',
    ].join('\n');
    const so = await library(
      arch,
      sqlFn(
        'add',
        [
          ['a', 'int4'],
          ['b', 'int4'],
        ],
        'int4',
        body,
      ),
    );
    assert.deepEqual(call(arch, so, ['40', '2']), { status: 'ok', result: 42, live_bytes: 0 });
    assert.deepEqual(call(arch, so, ['98', '1']), { status: 'err', message: 'bad a: 98', location: '', live_bytes: 0 });
    // body line 4 is line 10 + 4 - 1 of fns.sql; `panic!` is at column 16 of that line.
    assert.deepEqual(call(arch, so, ['99', '1']), {
      status: 'panic',
      message: 'boom 99',
      location: 'fns.sql:13:16',
      live_bytes: 0,
    });
    // `?` works in a SQL body: its error type is Box<dyn Error + Send + Sync>.
    assert.deepEqual(call(arch, so, ['1', 'NULL']), {
      status: 'err',
      message: 'b is NULL',
      location: '',
      live_bytes: 0,
    });
    // Overflow checks are on: `a + b` overflowing is a panic at the user's line.
    const overflow = call(arch, so, ['2147483647', '1']);
    assert.equal(overflow.status, 'panic');
    assert.equal(overflow.message, 'attempt to add with overflow');
    assert.match(overflow.location!, /^fns\.sql:14:\d+$/);
  });

  test('.rs item: Result<Option<T>, E: Display>, strict arguments, and columns after an inserted checkpoint', async () => {
    const source = [
      'pub struct Refused(String);',
      'impl std::fmt::Display for Refused {',
      '    fn fmt(&self, f: &mut std::fmt::Formatter<\'_>) -> std::fmt::Result { write!(f, "refused: {}", self.0) }',
      '}',
      'pub fn greet(name: &str, times: i64) -> Result<Option<String>, Refused> { let v = vec![1i64]; let _ = v[times as usize];',
      '    if name.is_empty() { return Err(Refused("empty name".into())); }',
      '    Ok(Some(name.repeat(times as usize)))',
      '}',
    ].join('\n');
    const so = await library(arch, rsFn('greet', source));
    assert.deepEqual(call(arch, so, ['ab', '0']), { status: 'ok', result: '', live_bytes: 0 });
    assert.deepEqual(call(arch, so, ['', '0']), {
      status: 'err',
      message: 'refused: empty name',
      location: '',
      live_bytes: 0,
    });
    const oob = call(arch, so, ['ab', '3']);
    assert.equal(oob.status, 'panic');
    assert.match(oob.message!, /index out of bounds/);
    // rustc places an index panic at the `[`: its column in the user's line
    // 5, not in the instrumented line (which has a checkpoint inserted before it).
    const col = source.split('\n')[4]!.indexOf('[times as usize]') + 1;
    assert.equal(oob.location, `fns.rs:5:${col}`);
    const strictNull = call(arch, so, ['NULL', '1']);
    assert.equal(strictNull.status, 'bad_args');
    assert.match(strictNull.message!, /argument `name` is NULL/);
  });

  test('text that is not UTF-8 is refused as bad_args before user code runs', async () => {
    const so = await library(arch, rsFn('len', 'pub fn len(s: &str) -> Option<i64> { Some(s.len() as i64) }'));
    const host = toolchains.get(arch)!.host;
    const r = spawnSync('sh', ['-c', '"$0" "$1" "$(printf \'\\377x\')"', host, so], { encoding: 'utf8' });
    const out = JSON.parse(r.stdout) as HostOutput;
    assert.equal(out.status, 'bad_args');
    assert.match(out.message!, /argument `s` is not valid UTF-8/);
  });

  test('panic payloads: non-string, a payload whose Drop panics, a replaced panic hook', async () => {
    const source = [
      'use std::sync::atomic::{AtomicI32, Ordering};',
      'static CALLS: AtomicI32 = AtomicI32::new(0);',
      'struct Bomb;',
      'impl Drop for Bomb { fn drop(&mut self) { panic!("bomb went off") } }',
      'pub fn payloads(kind: i32) -> Option<i32> {',
      '    match kind {',
      '        1 => std::panic::panic_any(42u32),',
      '        2 => std::panic::panic_any(Bomb),',
      '        3 => { if CALLS.fetch_add(1, Ordering::Relaxed) == 0 { std::panic::set_hook(Box::new(|_| {})); } panic!("after set_hook") }',
      '        _ => Some(kind),',
      '    }',
      '}',
    ].join('\n');
    const so = await library(arch, rsFn('payloads', source));
    assert.deepEqual(call(arch, so, ['1']), {
      status: 'panic',
      message: 'explicit panic with a non-string payload',
      location: 'fns.rs:7:14',
      live_bytes: 0,
    });
    const bomb = call(arch, so, ['2']);
    assert.equal(bomb.status, 'panic');
    assert.equal(bomb.message, 'explicit panic with a non-string payload');
    const hooked = call(arch, so, ['3']);
    assert.equal(hooked.status, 'panic');
    assert.equal(hooked.message, 'after set_hook');
    assert.equal(hooked.location, '', 'the user hook replaced ours, so no location was recorded');
    // The next call in the same process has the hook back.
    assert.match(call(arch, so, ['3'], { repeat: 2 }).location!, /^fns\.rs:9:\d+$/);
  });

  test('results are released by the host and state in statics survives across calls', async () => {
    const source = [
      'use std::sync::Mutex;',
      'static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());',
      'pub fn remember(s: &str) -> Option<String> {',
      '    let mut seen = SEEN.lock().unwrap();',
      '    seen.push(s.to_string());',
      '    Some(seen.join(","))',
      '}',
    ].join('\n');
    const so = await library(arch, rsFn('remember', source));
    const once = call(arch, so, ['x']);
    assert.equal(once.result, 'x');
    const many = call(arch, so, ['x'], { repeat: 5 });
    assert.equal(many.result, 'x,x,x,x,x', 'the static kept its heap data between calls');
    assert.ok((many.live_bytes ?? 0) > 0, 'the kept strings are still allocated');

    const echo = await library(
      arch,
      sqlFn(
        'echo',
        [['s', 'text[]']],
        'text[]',
        'Ok(s.map(|v| v.into_iter().map(|e| e.map(String::from)).collect()))',
        false,
      ),
    );
    const one = call(arch, echo, ['{abc,NULL,def}']);
    const fifty = call(arch, echo, ['{abc,NULL,def}'], { repeat: 50 });
    assert.deepEqual(fifty.result, ['abc', null, 'def']);
    assert.equal(fifty.live_bytes, one.live_bytes, 'no memory is left behind per call');
  });

  test('cancel: a runaway loop stops at its checkpoint, and catching the panic does not help', async () => {
    const source = [
      'pub fn spin(n: i32) -> Option<i32> {',
      '    let mut x = n;',
      '    loop {',
      '        x = x.wrapping_add(1);',
      '    }',
      '}',
    ].join('\n');
    const so = await library(arch, rsFn('spin', source));
    const out = call(arch, so, ['1'], { interruptAfterMs: 100 });
    assert.equal(out.status, 'canceled');
    // At the checkpoint in the loop body (the instrumenter may put it on the
    // `loop {` line or before the body's first statement).
    assert.match(out.location!, /^fns\.rs:[34]:\d+$/);

    const stubborn = [
      'pub fn stubborn() -> Option<i32> {',
      '    let caught = std::panic::catch_unwind(|| loop {});',
      '    Some(if caught.is_err() { 7 } else { 0 })',
      '}',
    ].join('\n');
    const so2 = await library(arch, rsFn('stubborn', stubborn));
    assert.equal(call(arch, so2, [], { interruptAfterMs: 100 }).status, 'canceled');
  });

  test('stack depth: deep recursion stops at the host limit, shallow recursion works', async () => {
    const source = [
      'fn depth(n: u64) -> u64 {',
      '    if n == 0 { return 0; }',
      '    std::hint::black_box(depth(n - 1)) + 1',
      '}',
      'pub fn recurse(n: i64) -> Option<i64> { Some(depth(n as u64) as i64) }',
    ].join('\n');
    const so = await library(arch, rsFn('recurse', source));
    assert.deepEqual(call(arch, so, ['1000'], { stackLimitKb: 512 }), { status: 'ok', result: 1000, live_bytes: 0 });
    const deep = call(arch, so, ['100000000'], { stackLimitKb: 512 });
    assert.equal(deep.status, 'stack');
    assert.match(deep.location!, /^fns\.rs:[12]:\d+$/, 'at the checkpoint of depth()');
  });

  test('out of memory: a huge allocation, gradual exhaustion, and try_reserve still returning Err', async () => {
    const source = [
      'pub fn hog(kind: i32) -> Option<i64> {',
      '    match kind {',
      '        1 => { let v = vec![0u8; 1 << 40]; Some(std::hint::black_box(&v).len() as i64) }',
      '        2 => { let mut keep: Vec<Vec<u8>> = Vec::new(); loop { keep.push(vec![1u8; 1 << 20]); } }',
      '        3 => { let mut v: Vec<u8> = Vec::new(); Some(v.try_reserve(1 << 40).is_err() as i64) }',
      '        4 => { let mut keep: Vec<Box<u64>> = Vec::with_capacity(3 << 20); loop { keep.push(Box::new(1)); } }',
      '        _ => Some(0),',
      '    }',
      '}',
    ].join('\n');
    const so = await library(arch, rsFn('hog', source));
    const limit = 64 << 20;
    assert.deepEqual(call(arch, so, ['1'], { memLimit: limit }), {
      status: 'oom',
      message: 'out of memory',
      location: '',
      live_bytes: 0,
    });
    const gradual = call(arch, so, ['2'], { memLimit: limit });
    assert.equal(gradual.status, 'oom');
    assert.equal(gradual.live_bytes, 0, 'unwinding released everything the call had allocated');
    assert.deepEqual(call(arch, so, ['3'], { memLimit: limit }), { status: 'ok', result: 1, live_bytes: 0 });
    // Exhausted by 8-byte blocks: fewer than 8 bytes are left, so the
    // unwinder's own allocations must come from the emergency arena.
    assert.deepEqual(call(arch, so, ['4'], { memLimit: 32 << 20 }), {
      status: 'oom',
      message: 'out of memory',
      location: '',
      live_bytes: 0,
    });
  });

  test('init: a wrong ABI version is refused, a call before init reports not_initialized', async () => {
    const so = await library(arch, sqlFn('one', [], 'int4', 'Ok(Some(1))'));
    assert.equal(call(arch, so, [], { abiVersion: 3 }).status, 'abi_mismatch');
    assert.equal(call(arch, so, [], { noInit: true }).status, 'not_initialized');
  });

  test('rustc refuses #![feature] in user code and at the crate root', async () => {
    const def = rsFn('feat', '#![feature(core_intrinsics)]\npub fn feat() -> Option<i32> { Some(1) }');
    const inModule = await compile(arch, def);
    assert.equal(inModule.ok, false);
    if (!inModule.ok) assert.match(inModule.stderr, /`#!\[feature\]` attribute can only be used at the crate root/);

    const atRoot = await compile(arch, rsFn('feat', 'pub fn feat() -> Option<i32> { Some(1) }'), {
      editLib: (lib) => `#![feature(core_intrinsics)]\n${lib}`,
    });
    assert.equal(atRoot.ok, false);
    if (!atRoot.ok) assert.match(atRoot.stderr, /the feature `core_intrinsics` is not in the list of allowed features/);
  });

  test('rustc refuses unsafe code, also when a SQL body closes its function early', async () => {
    const direct = await compile(
      arch,
      rsFn('raw', 'pub fn raw() -> Option<i32> { let x = 1; Some(unsafe { *(&x as *const i32) }) }'),
    );
    assert.equal(direct.ok, false);
    if (!direct.ok) assert.match(direct.stderr, /usage of an `unsafe` block/);

    const escape = 'Ok(None) }}\n#[no_mangle] pub extern "C" fn evil() {}\nfn tail() {{';
    const escaped = await compile(arch, sqlFn('escape', [], 'int4', escape), { instrumented: escape });
    assert.equal(escaped.ok, false);
    if (!escaped.ok) assert.match(escaped.stderr, /declaration of a `no_mangle` function|usage of an unsafe attribute/);
  });
});

describe('runtime ABI on aarch64 under qemu', () => {
  const arch: HostArch = 'aarch64';

  before(async () => {
    await toolchain(arch);
  });

  test('scalars, NULL, Err, panic location and exports', async () => {
    const body = [
      '',
      '  let a = a.unwrap_or(0);',
      '  if a == 98 { return Err("bad a".into()) }',
      '  if a == 99 { panic!("boom {}", a) }',
      '  Ok(Some(a + b.unwrap_or(0)))',
      '',
    ].join('\n');
    const so = await library(
      arch,
      sqlFn(
        'add',
        [
          ['a', 'int4'],
          ['b', 'int4'],
        ],
        'int4',
        body,
      ),
    );
    assert.deepEqual(exportedSymbols(so), ['plrust_abi_version', 'plrust_call', 'plrust_init', 'plrust_signature']);
    assert.deepEqual(call(arch, so, ['40', '2']), { status: 'ok', result: 42, live_bytes: 0 });
    assert.deepEqual(call(arch, so, ['NULL', '2']), { status: 'ok', result: 2, live_bytes: 0 });
    assert.deepEqual(call(arch, so, ['98', '1']), { status: 'err', message: 'bad a', location: '', live_bytes: 0 });
    assert.deepEqual(call(arch, so, ['99', '1']), {
      status: 'panic',
      message: 'boom 99',
      location: 'fns.sql:13:16',
      live_bytes: 0,
    });
  });

  test('text and bytea arrays with NULL elements', async () => {
    const so = await library(
      arch,
      sqlFn(
        'upper',
        [['x', 'text[]']],
        'text[]',
        'Ok(x.map(|v| v.into_iter().map(|e| e.map(|s| s.to_uppercase())).collect()))',
      ),
    );
    assert.deepEqual(call(arch, so, ['{a,NULL,"b,c"}']).result, ['A', null, 'B,C']);
    const bytes = await library(
      arch,
      sqlFn('rev', [['x', 'bytea']], 'bytea', 'Ok(x.map(|b| b.iter().rev().copied().collect()))', false),
    );
    assert.deepEqual(call(arch, bytes, ['\\x0102']).result, '\\x0201');
  });

  test('cancel, stack depth and out of memory', async () => {
    const source = [
      'fn depth(n: u64) -> u64 {',
      '    if n == 0 { return 0; }',
      '    std::hint::black_box(depth(n - 1)) + 1',
      '}',
      'pub fn faults(kind: i32) -> Option<i64> {',
      '    match kind {',
      '        1 => loop {},',
      '        2 => Some(depth(100_000_000) as i64),',
      '        3 => { let v = vec![0u8; 1 << 40]; Some(std::hint::black_box(&v).len() as i64) }',
      '        _ => Some(0),',
      '    }',
      '}',
    ].join('\n');
    const so = await library(arch, rsFn('faults', source));
    assert.equal(call(arch, so, ['1'], { interruptAfterMs: 200 }).status, 'canceled');
    assert.equal(call(arch, so, ['2'], { stackLimitKb: 512 }).status, 'stack');
    assert.equal(call(arch, so, ['3'], { memLimit: 64 << 20 }).status, 'oom');
    assert.deepEqual(call(arch, so, ['0']), { status: 'ok', result: 0, live_bytes: 0 });
  });
});
