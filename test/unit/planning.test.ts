/** Pure planning functions: what to build, which files to write, how to name and hash things. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { applyBlock, removeBlock, readBlock, BEGIN_MARK } from '../../src/install/conf.js';
import { parseTargets } from '../../src/config/schema.js';
import { targetsToBuild, checkLinkers } from '../../src/toolchain/install-toolchain.js';
import { deriveSpec } from '../../src/targets/spec.js';
import { loadTargetDefinition } from '../../src/targets/definitions.js';
import { parseRustcVV, toolchainId } from '../../src/toolchain/rustc-probe.js';
import { detectSourceVersion, planSource, distUrl } from '../../src/toolchain/source.js';
import { relevantLogLines, cargoBuildArgs } from '../../src/toolchain/build-std.js';
import { planFiles, defaultsText } from '../../src/install/install-extension.js';
import { definitionHash, definitionText } from '../../src/functions/definition-hash.js';
import { parseRsFile } from '../../src/functions/rs-file.js';
import { createFunctionSql } from '../../src/compile/artifacts.js';
import { parseSqlFile } from '../../src/functions/sql-file.js';
import { cacheKey } from '../../src/compile/cache.js';
import { artifactKey } from '../../src/compile/compile-function.js';
import { PlrustError } from '../../src/util/errors.js';
import type { PgInstallation } from '../../src/install/pg-config.js';

describe('postgresql.conf block', () => {
  const original = "shared_buffers = 128MB\n# a comment\nwork_mem = '4MB'\n";
  test('added once, replaced in place, removed to the byte', () => {
    const a = applyBlock(original, { 'plrust.home': '/h', 'plrust.compiler': '/usr/bin/node,/p' });
    assert.equal(a.change, 'added');
    assert.ok(a.text.startsWith(original), 'the rest of the file is untouched');
    assert.deepEqual(readBlock(a.text).settings, { 'plrust.home': '/h', 'plrust.compiler': '/usr/bin/node,/p' });
    const again = applyBlock(a.text, { 'plrust.home': '/h', 'plrust.compiler': '/usr/bin/node,/p' });
    assert.equal(again.change, 'unchanged');
    assert.equal(again.text, a.text, 'idempotent');
    const upd = applyBlock(a.text + 'max_connections = 10\n', {
      'plrust.home': "/it's",
      'plrust.compiler': '/usr/bin/node,/p',
    });
    assert.equal(upd.change, 'updated');
    assert.deepEqual(upd.changedKeys, ['plrust.home']);
    assert.equal(readBlock(upd.text).settings!['plrust.home'], "/it's", 'quotes round-trip');
    assert.ok(upd.text.endsWith('max_connections = 10\n'), 'lines after the block stay after it');
    assert.equal(upd.text.split(BEGIN_MARK).length, 2, 'one block only');
    const removed = removeBlock(upd.text);
    assert.equal(removed.change, 'removed');
    assert.equal(removed.text, original + 'max_connections = 10\n');
    assert.equal(removeBlock(original).change, 'absent');
  });
});

describe('targets', () => {
  test('parseTargets', () => {
    assert.deepEqual(parseTargets('all'), ['x86_64', 'aarch64']);
    assert.deepEqual(parseTargets('aarch64, x86_64,aarch64'), ['aarch64', 'x86_64']);
    assert.match(parseTargets('x86_64,mips') as string, /unknown target mips/);
  });
  test('targetsToBuild: only what is missing, everything with --force', () => {
    assert.deepEqual(targetsToBuild(['x86_64', 'aarch64'], ['x86_64'], false), ['aarch64']);
    assert.deepEqual(targetsToBuild(['x86_64'], ['x86_64'], false), []);
    assert.deepEqual(targetsToBuild(['x86_64'], ['x86_64'], true), ['x86_64']);
  });
  test('a missing cross linker is named with its Debian package before anything is built', () => {
    assert.throws(
      () => checkLinkers(['aarch64'], 'x86_64', '/nonexistent'),
      (e: unknown) =>
        e instanceof PlrustError &&
        e.code === 'LINKER_MISSING' &&
        /aarch64-linux-gnu-gcc/.test(e.message) &&
        /gcc-aarch64-linux-gnu/.test(e.hint ?? ''),
    );
  });
  test("deriveSpec keeps rustc's layout, sets the vendor, and the cross linker only when cross-compiling", () => {
    const base = { arch: 'aarch64', 'data-layout': 'e-m:e-LAYOUT', vendor: 'unknown', metadata: { tier: 1 } };
    const def = loadTargetDefinition('aarch64');
    const cross = deriveSpec(base, def, 'x86_64');
    assert.equal(cross.vendor, 'postgres');
    assert.equal(cross['data-layout'], 'e-m:e-LAYOUT');
    assert.equal(cross.linker, 'aarch64-linux-gnu-gcc');
    assert.equal(cross.metadata, undefined);
    assert.equal(deriveSpec(base, def, 'aarch64').linker, undefined);
  });
});

describe('compiler and source', () => {
  const vv =
    'rustc 1.96.0 (ac68faa20 2026-05-25)\nbinary: rustc\ncommit-hash: ac68faa20c58cbccd01ee7208bf3b6e93a7d7f96\ncommit-date: 2026-05-25\nhost: x86_64-unknown-linux-gnu\nrelease: 1.96.0\nLLVM version: 22.1.8\n';
  test('parseRustcVV and the toolchain id', () => {
    const info = parseRustcVV(vv);
    assert.equal(info.version, '1.96.0');
    assert.equal(info.llvmVersion, '22.1.8');
    assert.equal(toolchainId(info), 'rust-1.96.0-ac68faa2');
    assert.throws(() => parseRustcVV('gcc (Debian) 12'), /not the output of rustc -vV/);
  });
  test('detectSourceVersion from a version file or a rustc-<version> directory', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'srcver-'));
    fs.mkdirSync(path.join(root, 'rust-src-1.97.0', 'rust-src', 'lib', 'rustlib', 'src', 'rust', 'library'), {
      recursive: true,
    });
    fs.writeFileSync(path.join(root, 'rust-src-1.97.0', 'version'), '1.97.0 (abc 2026-07-01)\n');
    assert.equal(
      detectSourceVersion(path.join(root, 'rust-src-1.97.0', 'rust-src', 'lib', 'rustlib', 'src', 'rust', 'library')),
      '1.97.0',
    );
    fs.mkdirSync(path.join(root, 'rustc-1.95.0', 'library'), { recursive: true });
    assert.equal(detectSourceVersion(path.join(root, 'rustc-1.95.0', 'library')), '1.95.0');
    fs.mkdirSync(path.join(root, 'plain', 'library'), { recursive: true });
    assert.equal(detectSourceVersion(path.join(root, 'plain', 'library')), undefined);
    fs.rmSync(root, { recursive: true });
  });
  test('planSource: the flag wins; without a local source the dist server (mirror) is used', () => {
    const rustc = { ...parseRustcVV(vv), path: '/x/rustc', sysroot: '/nonexistent-sysroot' };
    assert.equal(planSource(rustc, { rustSrc: 'http://m/rust-src.tar.gz', distServer: 'https://d' }).kind, 'flag-url');
    assert.equal(planSource(rustc, { rustSrc: '/a/b.tar.gz', distServer: 'https://d' }).kind, 'flag-archive');
    assert.equal(planSource(rustc, { rustSrc: '/a/library', distServer: 'https://d' }).kind, 'flag-dir');
    const other = { ...rustc, version: '1.90.0' };
    const p = planSource(other, { distServer: 'http://mirror.internal/rust/' });
    assert.equal(p.kind, 'dist-server');
    assert.equal(p.location, 'http://mirror.internal/rust/dist/rust-src-1.90.0.tar.gz');
    assert.equal(
      distUrl('https://static.rust-lang.org', '1.96.0'),
      'https://static.rust-lang.org/dist/rust-src-1.96.0.tar.gz',
    );
  });
  test('build log excerpts start at the first error', () => {
    const log =
      'Compiling a\nCompiling b\nerror[E0425]: cannot find value `x`\n --> std/src/lib.rs:1:1\nwarning: unused\nerror: aborting';
    assert.deepEqual(relevantLogLines(log, 2), ['error[E0425]: cannot find value `x`', ' --> std/src/lib.rs:1:1']);
    assert.ok(cargoBuildArgs('/s/x.json').includes('-Zjson-target-spec'));
    assert.ok(cargoBuildArgs('/s/x.json').includes('--offline'));
  });
});

describe('install plan', () => {
  const pg: PgInstallation = {
    pgConfig: '/pg/bin/pg_config',
    version: '15.18',
    major: 15,
    bindir: '/pg/bin',
    pkglibdir: '/pg/lib',
    sharedir: '/pg/share',
    includedirServer: '/pg/include/server',
    pgxs: '/pg/lib/pgxs/src/makefiles/pgxs.mk',
    arch: 'x86_64',
  };
  test('every file with its destination and role; prebuilt artifacts under their definition hash', () => {
    const files = planFiles({
      pg,
      handler: { library: '/b/plrust.so', control: '/b/plrust.control', scripts: ['/b/plrust--0.1.sql'] },
      defaultsFile: '/w/plrust.defaults',
      prebuilt: [
        {
          artifact: {
            meta: { definitionHash: 'a'.repeat(64), arch: 'aarch64' } as never,
            library: '/o/f/aarch64-postgres-linux-gnu.so',
          },
          shaFile: '/w/x.sha256',
        },
      ],
      toolchainCopy: {
        from: '/home/tc',
        files: ['manifest.json', 'sysroot/lib/x.rlib'],
        destRoot: '/pg/share/plrust/home/toolchains/t',
      },
    });
    assert.deepEqual(
      files.map((f) => [f.dest, f.role]),
      [
        ['/pg/lib/plrust.so', 'handler'],
        ['/pg/share/extension/plrust.control', 'control'],
        ['/pg/share/extension/plrust--0.1.sql', 'script'],
        ['/pg/share/extension/plrust.defaults', 'defaults'],
        [`/pg/share/plrust/prebuilt/${'a'.repeat(64)}/aarch64.so`, 'prebuilt'],
        [`/pg/share/plrust/prebuilt/${'a'.repeat(64)}/aarch64.so.sha256`, 'prebuilt'],
        ['/pg/share/plrust/home/toolchains/t/manifest.json', 'toolchain'],
        ['/pg/share/plrust/home/toolchains/t/sysroot/lib/x.rlib', 'toolchain'],
      ],
    );
  });
  test('the defaults file quotes values as postgresql.conf does', () => {
    const t = defaultsText({
      home: "/o'brien/.plrust",
      compiler: ['/usr/bin/node', '/p/bin/plrust'],
      workDir: '/var/cache/plrust/k',
      targets: ['x86_64'],
    });
    assert.match(t, /^plrust\.home = '\/o''brien\/\.plrust'$/m);
    assert.match(t, /^plrust\.compiler = '\/usr\/bin\/node,\/p\/bin\/plrust'$/m);
    assert.match(t, /^plrust\.targets = 'x86_64'$/m);
    assert.match(t, /^plrust\.work_dir = '\/var\/cache\/plrust\/k'$/m);
  });
});

describe('definitions', () => {
  test('the definition hash is sha256 of the documented text', () => {
    const def = {
      strict: true,
      returns: { kind: 'scalar', name: 'int4' } as const,
      args: [
        { name: 'a', type: { kind: 'scalar', name: 'int4' } as const },
        { name: 'xs', type: { kind: 'array', element: 'text' } as const },
      ],
      source: ' Ok(Some(a)) ',
    };
    const text = 'plrust-definition-v1\nstrict=true\nreturns=int4\narg=a:int4\narg=xs:text[]\nbody=\n Ok(Some(a)) ';
    assert.equal(definitionText(def), text);
    assert.equal(definitionHash(def), crypto.createHash('sha256').update(text).digest('hex'));
  });

  test('a .rs pub fn becomes a SQL body: the whole file plus a call; strictness from the parameters', () => {
    const src =
      '/// plrust: immutable\npub fn add(a: i32, b: Option<i32>) -> Option<i32> {\n    Some(a + b.unwrap_or(0))\n}\n\nfn helper() {}\n';
    const { functions, errors } = parseRsFile(src, 'm.rs');
    assert.deepEqual(errors, []);
    const f = functions[0]!;
    assert.equal(f.sqlName, 'add');
    assert.equal(f.strict, false, 'an Option parameter makes it non-strict');
    assert.equal(f.volatility, 'immutable');
    assert.ok(f.source.startsWith(src.trimEnd()), 'the file comes first, so line numbers stay');
    assert.match(f.source, /let a = match a \{ Some\(v\) => v, None => return Ok\(None\) \}; Ok\(add\(a, b\)\)\n$/);
    const strict = parseRsFile('pub fn f(x: i64) -> Result<Option<i64>, String> { Ok(Some(x)) }', 's.rs').functions[0]!;
    assert.equal(strict.strict, true);
    assert.match(
      strict.source,
      /match f\(x\) \{ Ok\(v\) => Ok\(v\), Err\(e\) => Err\(e\.to_string\(\)\.into\(\)\) \}\n$/,
    );
    const bad = parseRsFile('/// plrust: strict\npub fn g(x: Option<i32>) -> Option<i32> { x }', 'b.rs');
    assert.equal(bad.functions.length, 0);
    assert.match(bad.errors[0]!, /b\.rs:2:\d+: g is annotated strict but takes Option arguments/);
    const unsupported = parseRsFile('pub fn h(x: u128) -> Option<i32> { None }', 'u.rs');
    assert.match(unsupported.errors[0]!, /u128/);
  });

  test('.rs calls convert what the SQL body and the function disagree on', () => {
    const src = [
      "pub fn first<'a>(s: &'a str) -> Option<&'a str> { s.split(' ').next() }",
      'pub fn nums(n: i32) -> Vec<i32> { vec![n] }',
      'pub fn one(c: char, d: Option<char>) -> char { c }',
      'pub fn rows(p: composite_type!("pair"), ps: Option<Vec<Option<composite_type!("pair")>>>) -> Result<composite_type!("pair"), String> { Ok(p) }',
      'pub fn unit() {}',
    ].join('\n');
    const { functions, errors } = parseRsFile(src, 'c.rs');
    assert.deepEqual(errors, []);
    const calls = functions.map((f) => f.source.split('\n').at(-2));
    assert.deepEqual(calls, [
      'Ok(first(s).map(|v| ::std::borrow::ToOwned::to_owned(v)))',
      'Ok(Some(nums(n)).map(|v| v.into_iter().map(Some).collect::<::std::vec::Vec<_>>()))',
      'let c = match c { Some(v) => v, None => return Ok(None) }; ' +
        'let c = ::pgrx::rs_fn::char_arg(c, "c")?; ' +
        'let d = match d { Some(a) => Some(::pgrx::rs_fn::char_arg(a, "d")?), None => None }; ' +
        'Ok(Some(one(c, d)).map(|v: char| ::std::string::ToString::to_string(&v)))',
      'let p = match p { Some(v) => v, None => return Ok(None) }; ' +
        'let p = ::pgrx::rs_fn::composite_arg(p); ' +
        'let ps = match ps { Some(a) => Some(::pgrx::rs_fn::composite_arg(a)), None => None }; ' +
        'match rows(p, ps) { Ok(v) => Ok(Some(v).map(::pgrx::rs_fn::composite_result)), Err(e) => Err(e.to_string().into()) }',
      'Ok(Some(unit()))',
    ]);
    assert.deepEqual(
      functions.map((f) => [f.strict, f.returns]),
      [
        [true, { kind: 'scalar', name: 'text' }],
        [true, { kind: 'array', element: 'int4' }],
        [false, { kind: 'scalar', name: 'varchar' }],
        [false, { kind: 'composite', name: 'pair', array: false }],
        [true, { kind: 'void' }],
      ],
    );
    const sql = createFunctionSql(functions[3]!);
    assert.match(sql, /^CREATE OR REPLACE FUNCTION rows\(p pair, ps pair\[\]\)\n\s+RETURNS pair CALLED ON NULL INPUT/);
  });

  test('the generated CREATE FUNCTION parses back to the same definition (and hash)', () => {
    const { functions } = parseRsFile(
      'pub fn weird(s: &str) -> Option<String> { Some(format!("$plrust$ {s}")) }',
      'w.rs',
    );
    const sql = createFunctionSql(functions[0]!);
    const back = parseSqlFile(sql, 'functions.sql').functions[0]!;
    assert.equal(back.source, functions[0]!.source);
    assert.equal(definitionHash(back), definitionHash(functions[0]!));
    assert.match(sql, /AS \$plrust1\$/, 'the dollar tag avoids one that occurs in the body');
  });

  test('an artifact key changes with the toolchain, the checker version and the source, and nothing else', () => {
    const inputs = {
      toolchain: 'rust-1.96.0-ac68faa2',
      runtimeSha: 'r',
      specSha: 's',
      wrapper: 'w',
      user: 'u',
      triple: 'x86_64-postgres-linux-gnu',
    };
    const v = { plrust: '0.1.0', checker: '1', abi: 1 };
    const base = artifactKey(inputs, v);
    assert.equal(artifactKey({ ...inputs }, { ...v }), base);
    assert.notEqual(artifactKey({ ...inputs, toolchain: 'rust-1.97.0-00000000' }, v), base);
    assert.notEqual(artifactKey({ ...inputs, runtimeSha: 'r2' }, v), base);
    assert.notEqual(artifactKey(inputs, { ...v, checker: '2' }), base);
    assert.notEqual(artifactKey(inputs, { ...v, plrust: '0.2.0' }), base);
    assert.notEqual(artifactKey({ ...inputs, user: 'u2' }, v), base);
    assert.notEqual(artifactKey({ ...inputs, triple: 'aarch64-postgres-linux-gnu' }, v), base);
  });

  test('cache keys do not depend on key order', () => {
    assert.equal(cacheKey({ a: 1, b: 'x' }), cacheKey({ b: 'x', a: 1 }));
    assert.notEqual(cacheKey({ a: 1, b: 'x' }), cacheKey({ a: 1, b: 'y' }));
  });
});
