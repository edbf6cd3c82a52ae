/**
 * `plrust build` end to end: the examples compiled for both targets with the
 * shared toolchain, each library loaded by the C test host (natively and
 * under qemu-aarch64) and called with NULL and non-NULL arguments; then
 * every kind of bad input, each with nothing written to the output directory.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseJson, REPO_ROOT, runPlrust, tempDir } from '../helpers/cli.js';
import { sharedToolchain, type SharedToolchain } from '../helpers/toolchain.js';
import { buildHost, runHost, type HostArch } from '../helpers/host.js';
import { MAX_INPUT_BYTES } from '../../src/functions/inputs.js';
import { checkSource } from '../../src/analysis/checker/index.js';

const EXAMPLES = path.join(REPO_ROOT, 'examples');

interface BuildDoc {
  ok: boolean;
  outDir: string;
  sql: string;
  functions: {
    name: string;
    artifacts: { arch: HostArch; path: string; sha256: string; definitionHash: string; triple: string }[];
  }[];
}

interface ErrorDoc {
  ok: false;
  error: {
    code: string;
    message: string;
    hint?: string;
    diagnostics?: { line: number; col: number; rule?: string; message: string; file: string }[];
  };
}

/** Every example with its calls: [args, expected status, expected result or message pattern]. */
const CALLS: Record<string, [string[], 'ok' | 'err', unknown][]> = {
  add_ints: [
    [['1', '2'], 'ok', 3],
    [['2147483647', '0'], 'ok', 2147483647],
  ],
  'public.greet': [
    [['world'], 'ok', 'hello, world'],
    [['NULL'], 'ok', 'hello, stranger'],
  ],
  reverse_text: [
    [['PL/Rust'], 'ok', 'tsuR/LP'],
    [['héllo'], 'ok', 'olléh'],
  ],
  checked_div: [
    [['10', '3'], 'ok', 3],
    [['1', '0'], 'err', /division by zero is not allowed here/],
  ],
  sum_array: [
    [['{1,2,NULL,40}'], 'ok', 43],
    [['{}'], 'ok', 0],
  ],
  parse_int: [
    [[' 42 '], 'ok', 42],
    [['forty-two'], 'err', /invalid digit/],
  ],
  hypotenuse: [[['3', '4'], 'ok', 5]],
  array_mean: [
    [['{1.5,NULL,2.5}'], 'ok', 2],
    [['{NULL}'], 'ok', null],
  ],
  is_even: [
    [['10'], 'ok', true],
    [['7'], 'ok', false],
    [['NULL'], 'ok', null],
  ],
  fizzbuzz: [
    [['5'], 'ok', ['1', '2', 'Fizz', '4', 'Buzz']],
    [['-1'], 'err', /between 0 and 10000, got -1/],
  ],
  xor_bytes: [[['\\x0102', '255'], 'ok', '\\xfefd']],
};

describe('plrust build of the examples', () => {
  let tc: SharedToolchain;
  let work: string;
  let doc: BuildDoc;
  const hosts: Partial<Record<HostArch, string>> = {};

  before(async () => {
    tc = await sharedToolchain();
    work = tempDir('build');
    const r = await runPlrust(['build', path.join(EXAMPLES, 'math.rs'), path.join(EXAMPLES, 'strings.sql'), '--json'], {
      home: tc.home,
      cwd: work,
    });
    assert.equal(r.code, 0, r.stderr);
    doc = parseJson<BuildDoc>(r);
    for (const arch of ['x86_64', 'aarch64'] as const) hosts[arch] = buildHost(arch, path.join(work, 'host'));
  });

  test('every function is built for both targets, with metadata, into target/plrust', () => {
    assert.equal(doc.outDir, path.join(work, 'target', 'plrust'));
    assert.deepEqual(doc.functions.map((f) => f.name).sort(), Object.keys(CALLS).sort());
    for (const f of doc.functions) {
      assert.deepEqual(f.artifacts.map((a) => a.arch).sort(), ['aarch64', 'x86_64']);
      for (const a of f.artifacts) {
        assert.ok(fs.existsSync(a.path), a.path);
        const meta = JSON.parse(fs.readFileSync(a.path.replace(/\.so$/, '.json'), 'utf8')) as Record<string, unknown>;
        assert.equal(meta.sha256, a.sha256);
        assert.equal(meta.toolchain, tc.id);
        assert.equal(meta.abiVersion, 2);
        assert.match(String(meta.definitionHash), /^[0-9a-f]{64}$/);
        assert.ok(typeof meta.checkerVersion === 'string');
      }
    }
    const sql = fs.readFileSync(doc.sql, 'utf8');
    assert.equal((sql.match(/CREATE OR REPLACE FUNCTION/g) ?? []).length, Object.keys(CALLS).length);
    assert.match(
      sql,
      /CREATE OR REPLACE FUNCTION hypotenuse\(a float8, b float8\)\n {4}RETURNS float8 STRICT IMMUTABLE PARALLEL SAFE/,
    );
  });

  for (const arch of ['x86_64', 'aarch64'] as const) {
    test(`every example runs on ${arch} with NULL and non-NULL arguments, arrays and errors`, () => {
      for (const f of doc.functions) {
        const lib = f.artifacts.find((a) => a.arch === arch)!.path;
        for (const [args, status, expected] of CALLS[f.name]!) {
          const { output } = runHost(arch, hosts[arch]!, lib, args);
          assert.equal(output.status, status, `${f.name}(${args.join(', ')}) on ${arch}: ${JSON.stringify(output)}`);
          if (status === 'ok') assert.deepEqual(output.result, expected, `${f.name}(${args.join(', ')}) on ${arch}`);
          else assert.match(String(output.message), expected as RegExp);
          assert.equal(output.live_bytes, 0, 'no memory left allocated after the call');
        }
      }
    });
  }

  test('plrust verify accepts every library built against the restricted std, on both architectures', async () => {
    const libs = doc.functions.flatMap((f) => f.artifacts.map((a) => a.path));
    const r = await runPlrust(['verify', ...libs, '--json']);
    assert.equal(r.code, 0, r.stdout);
    const v = parseJson<{ ok: boolean; libraries: { ok: boolean; machine: string; imported: { name: string }[] }[] }>(
      r,
    );
    assert.equal(v.ok, true);
    assert.deepEqual([...new Set(v.libraries.map((l) => l.machine))].sort(), ['aarch64', 'x86_64']);
    const imported = new Set(v.libraries.flatMap((l) => l.imported.map((i) => i.name)));
    for (const denied of ['open64', 'open', 'socket', 'getenv', 'abort', 'syscall', 'write'])
      assert.equal(imported.has(denied), false, `${denied} is not imported`);
  });

  test('a second build is served from the cache, and a changed body is not', async () => {
    const again = parseJson<BuildDoc & { functions: { artifacts: { cached?: boolean }[] }[] }>(
      await runPlrust(['build', path.join(EXAMPLES, 'math.rs'), path.join(EXAMPLES, 'strings.sql'), '--json'], {
        home: tc.home,
        cwd: work,
      }),
    );
    assert.deepEqual(
      again.functions.flatMap((f) => f.artifacts.map((a) => a.sha256)),
      doc.functions.flatMap((f) => f.artifacts.map((a) => a.sha256)),
      'identical libraries',
    );
    const human = await runPlrust(['build', path.join(EXAMPLES, 'math.rs'), path.join(EXAMPLES, 'strings.sql')], {
      home: tc.home,
      cwd: work,
    });
    assert.match(human.stdout, /\(22 from cache\)/);
    const changed = path.join(work, 'changed.sql');
    fs.writeFileSync(
      changed,
      `CREATE FUNCTION add_ints(a int, b int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(a * 1000 + b)) $$;`,
    );
    const c = await runPlrust(['build', changed, '--target', 'x86_64'], { home: tc.home, cwd: work });
    assert.match(c.stdout, /\(0 from cache\)/);
    const lib = path.join(work, 'target', 'plrust', 'add_ints', 'x86_64-postgres-linux-gnu.so');
    assert.equal(runHost('x86_64', hosts.x86_64!, lib, ['1', '2']).output.result, 1002);
  });
});

describe('plrust build refuses bad input, writing nothing', () => {
  let tc: SharedToolchain;
  before(async () => {
    tc = await sharedToolchain();
  });

  async function refused(
    name: string,
    content: string | Buffer,
    expect: { code: string; message?: RegExp; exit?: number },
  ) {
    const dir = tempDir('bad');
    const file = path.join(dir, name);
    fs.writeFileSync(file, content);
    const r = await runPlrust(['build', file, '--json', '--out-dir', path.join(dir, 'out')], {
      home: tc.home,
      cwd: dir,
    });
    assert.equal(r.code, expect.exit ?? 1, r.stdout + r.stderr);
    const e = parseJson<ErrorDoc>(r).error;
    assert.equal(e.code, expect.code, e.message);
    if (expect.message) assert.match(e.message, expect.message);
    assert.equal(fs.existsSync(path.join(dir, 'out')), false, 'nothing written to the output directory');
    return e;
  }

  test("a Rust syntax error is reported at the user's line, not the generated file's", async () => {
    const e = await refused(
      'syntax.sql',
      `-- line 1\nCREATE FUNCTION f(a int) RETURNS int STRICT LANGUAGE plrust AS $$\n    let x = ;\n    Ok(Some(a))\n$$;\n`,
      { code: 'COMPILE_FAILED' },
    );
    assert.match(e.message, /syntax\.sql:3:\d+: error: expected expression/);
  });

  test('a type error in a .rs file points at the .rs line', async () => {
    const e = await refused(
      'types.rs',
      `// helper first\nfn helper() -> i32 { 1 }\n\npub fn f(a: i32) -> Option<i32> {\n    let s: String = a;\n    Some(helper())\n}\n`,
      { code: 'COMPILE_FAILED' },
    );
    assert.match(e.message, /types\.rs:5:\d+: error: mismatched types/);
  });

  test('an untrusted construct is rejected by name before rustc runs', async () => {
    const e = await refused(
      'evil.rs',
      `pub fn f() -> Option<String> {\n    Some(include_str!("/etc/passwd").to_string())\n}\n`,
      { code: 'UNTRUSTED_CODE', exit: 4 },
    );
    assert.match(e.message, /evil\.rs:2:\d+: error: forbidden-macro/);
  });

  test('a macro that assembles env! from pieces gets past the first pass and is rejected after expansion', async () => {
    const source =
      'macro_rules! join {\n    ($m:ident, $b:tt, $a:tt) => { $m $b $a };\n}\n\npub fn f() -> Option<String> {\n    Some(join!(env, !, ("HOME")).to_string())\n}\n';
    assert.deepEqual(
      checkSource(source, { file: 'pieces.rs', context: 'items' }).map((d) => d.rule),
      [],
      'the first pass alone does not see the call',
    );
    const e = await refused('pieces.rs', source, { code: 'UNTRUSTED_CODE', exit: 4 });
    const d = e.diagnostics?.find((x) => x.rule === 'forbidden-macro');
    assert.ok(d, JSON.stringify(e.diagnostics));
    assert.equal(d.line, 6, 'reported at the call of the macro that produced it');
    assert.match(d.message, /`env!` reads the build environment \(in the expansion of `join!`\)/);
  });

  for (const [file, rule] of [
    ['coherence-dyn-turbofish.rs', 'blanket-impl'],
    ['coherence-assoc-alias.rs', 'dyn-generic-arg'],
    ['closure-blanket-static.rs', 'fn-trait-impl'],
    ['cve-rs-higher-ranked-pointer.rs', 'fn-pointer-type'],
    ['spoof-core-module.rs', 'reserved-name'],
    ['splice-fn-pointer-pieces.rs', 'macro-splice'],
  ] as const) {
    test(`escape corpus ${file} is refused with exit 4 for ${rule}`, async () => {
      const source = fs.readFileSync(path.join(REPO_ROOT, 'test', 'corpus', 'escapes', file), 'utf8');
      const e = await refused(file, source, { code: 'UNTRUSTED_CODE', exit: 4 });
      assert.ok(
        e.diagnostics?.some((d) => d.rule === rule),
        JSON.stringify(e.diagnostics),
      );
    });
  }

  test('an unsupported type names it and lists the supported ones', async () => {
    const e = await refused(
      'macaddr.sql',
      `CREATE FUNCTION f(a macaddr) RETURNS int LANGUAGE plrust AS $$ Ok(None) $$;`,
      {
        code: 'UNSUPPORTED_TYPE',
        message: /type macaddr is not supported/,
      },
    );
    assert.match(e.hint ?? '', /int4.*numeric.*jsonb.*tstzrange/);
  });

  test('non-UTF-8 input', async () => {
    await refused('latin1.rs', Buffer.from([0x70, 0x75, 0x62, 0x20, 0xe9, 0x0a]), {
      code: 'NOT_UTF8',
      message: /offset 4/,
    });
  });

  test('an empty file', async () => {
    await refused('empty.rs', '\n\n', { code: 'EMPTY_INPUT' });
  });

  test('duplicate function names', async () => {
    await refused(
      'dup.sql',
      `CREATE FUNCTION f(a int) RETURNS int LANGUAGE plrust AS $$ Ok(a) $$;\nCREATE FUNCTION f(a int) RETURNS int LANGUAGE plrust AS $$ Ok(a) $$;\n`,
      {
        code: 'INVALID_INPUT',
        message: /duplicate function f\(int4\)/,
      },
    );
  });

  test('a file over the size limit', async () => {
    await refused('huge.rs', `pub fn f() -> Option<i32> { Some(1) }\n//${'x'.repeat(MAX_INPUT_BYTES)}\n`, {
      code: 'INPUT_TOO_LARGE',
    });
  });

  test('one broken function fails the whole build: no partial output', async () => {
    await refused(
      'mixed.sql',
      `CREATE FUNCTION good(a int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(a)) $$;\nCREATE FUNCTION bad(a int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(a + "x")) $$;\n`,
      {
        code: 'COMPILE_FAILED',
        message: /1 of 2 functions failed/,
      },
    );
  });

  test('no toolchain: the message says to run plrust toolchain install', async () => {
    const dir = tempDir('notc');
    fs.writeFileSync(path.join(dir, 'f.rs'), 'pub fn f() -> Option<i32> { Some(1) }\n');
    const r = await runPlrust(['build', path.join(dir, 'f.rs'), '--json'], {
      home: path.join(dir, 'empty-home'),
      cwd: dir,
    });
    assert.equal(r.code, 1);
    const e = parseJson<ErrorDoc>(r).error;
    assert.equal(e.code, 'NO_TOOLCHAIN');
    assert.match(e.hint ?? '', /plrust toolchain install/);
    assert.equal(fs.existsSync(path.join(dir, 'target')), false);
  });
});
