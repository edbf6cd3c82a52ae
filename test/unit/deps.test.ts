/**
 * Issue 16, without a compiler: Cargo version requirements, upstream's
 * sectioned bodies and the .rs header, the allow-list's format and
 * resolution against a real directory source written here.
 */
import { indexPath, isSparseUrl, sourceLocation } from '../../src/deps/source.js';
import { declaredHelpers } from '../../src/deps/store.js';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseRequirement, parseVersion, satisfies, isBoundedRequirement } from '../../src/deps/semver.js';
import { rsHeaderToBody, splitBody } from '../../src/deps/body.js';
import { entryStatuses, parseAllowList, resolveDependencies } from '../../src/deps/allowlist.js';
import { directorySource } from '../../src/deps/source.js';
import { parseRsFile } from '../../src/functions/rs-file.js';
import { PlrustError } from '../../src/util/errors.js';

const v = (s: string) => parseVersion(s)!;
const ok = (ver: string, req: string) => satisfies(v(ver), parseRequirement(req));

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof PlrustError, String(e));
    return `${e.code}: ${e.message}`;
  }
  return assert.fail('expected an error');
}

/** A directory source with the given crate versions (Cargo.toml + .cargo-checksum.json each). */
function source(crates: Array<[string, string]>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plrust-deps-unit-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  for (const [name, version] of crates) {
    const d = path.join(dir, `${name}-${version}`);
    fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, 'Cargo.toml'), `[package]\nname = "${name}"\nversion = "${version}"\n`);
    fs.writeFileSync(path.join(d, '.cargo-checksum.json'), '{"package":"","files":{}}');
  }
  // Not a crate: no checksum file, so cargo would not take it either.
  fs.mkdirSync(path.join(dir, 'stray'));
  return dir;
}

describe('Cargo version requirements', () => {
  test('caret, tilde, exact, ranges, wildcards', () => {
    assert.ok(ok('1.7.1', '1'));
    assert.ok(ok('1.7.1', '^1.7'));
    assert.ok(!ok('2.0.0', '^1.7'));
    assert.ok(ok('0.2.139', '0.2'));
    assert.ok(!ok('0.3.0', '0.2'));
    assert.ok(!ok('0.0.4', '0.0.3'));
    assert.ok(ok('1.2.9', '~1.2.3'));
    assert.ok(!ok('1.3.0', '~1.2.3'));
    assert.ok(ok('1.0.152', '=1.0.152'));
    assert.ok(!ok('1.0.153', '=1.0.152'));
    assert.ok(ok('1.9.0', '>=1.7, <2'));
    assert.ok(!ok('1.6.9', '>=1.7, <2'));
    assert.ok(ok('5.0.0', '*'));
    assert.ok(ok('1.4.0', '1.*'));
    assert.ok(!ok('1.2.3', '>1.2.3'));
    assert.ok(ok('1.2.3', '<=1.2'));
  });

  test('only exact, two-sided or wildcard requirements are bounded', () => {
    for (const r of ['=1.2.3', '>=1, <2', '*']) assert.ok(isBoundedRequirement(parseRequirement(r)), r);
    for (const r of ['1.2.3', '>1.1', '^1', '=1.2']) assert.ok(!isBoundedRequirement(parseRequirement(r)), r);
  });

  test('unreadable requirements are refused', () => {
    assert.match(
      code(() => parseRequirement('latest')),
      /BAD_VERSION_REQ: "latest" is not a version requirement/,
    );
    assert.match(
      code(() => parseRequirement('1,')),
      /an empty comparator/,
    );
  });
});

describe('sectioned bodies', () => {
  test('[dependencies] then [code]: the code and its line offset', () => {
    const s = splitBody(
      '\n[dependencies]\nregex = "1"\nserde = { version = "1", features = ["derive"], default-features = false }\n\n[code]\nOk(Some(1))\n',
    );
    assert.equal(s.code, 'Ok(Some(1))\n');
    assert.equal(s.codeLineOffset, 6);
    assert.deepEqual(s.dependencies, [
      { name: 'regex', version: '1' },
      { name: 'serde', version: '1', features: ['derive'], defaultFeatures: false },
    ]);
  });

  test('dotted tables as in Cargo.toml; no other section', () => {
    const s = splitBody('[dependencies]\n[dependencies.serde]\nversion = "1"\nfeatures = ["derive"]\n[code]\nOk(None)');
    assert.deepEqual(s.dependencies, [{ name: 'serde', version: '1', features: ['derive'] }]);
    assert.match(
      code(() => splitBody('[dependencies]\nregex = "1"\n[features]\nx = []\n[code]\n')),
      /only have a \[dependencies\] section before \[code\], not \[features\]/,
    );
  });

  test('a body without sections is all code', () => {
    const body = '    let x = [1];\n    Ok(Some(x[0]))';
    assert.deepEqual(splitBody(body), { code: body, codeLineOffset: 0, dependencies: [] });
  });

  test('mistakes are refused with what is wrong', () => {
    assert.match(
      code(() => splitBody('[dependencies]\nregex = "1"\n')),
      /no \[code\] line/,
    );
    assert.match(
      code(() => splitBody('[dependencies]\nregex = \n[code]\n')),
      /not valid TOML/,
    );
    assert.match(
      code(() => splitBody('[dependencies]\nregex = { git = "https://x" }\n[code]\n')),
      /regex.git is not supported/,
    );
    assert.match(
      code(() => splitBody('[dependencies]\n"../x" = "1"\n[code]\n')),
      /"..\/x" is not a crate name/,
    );
    assert.match(
      code(() => splitBody('[dependencies]\nfoo-bar = "1"\nfoo_bar = "1"\n[code]\n')),
      /names the crate foo_bar twice/,
    );
  });

  test('a .rs header becomes the same body, and diagnostics keep file lines', () => {
    const src =
      '//! [dependencies]\n//! regex = "1"\n\npub fn m(s: &str) -> Option<bool> {\n    Some(s.is_empty())\n}\n';
    const h = rsHeaderToBody(src)!;
    assert.ok(h.body.startsWith('[dependencies]\n regex = "1"\n[code]\n'));
    const { functions, errors } = parseRsFile(src, 'f.rs');
    assert.deepEqual(errors, []);
    const def = functions[0]!;
    const s = splitBody(def.source);
    assert.deepEqual(s.dependencies, [{ name: 'regex', version: '1' }]);
    // The code's first line (file line 3) is origin.line + codeLineOffset.
    assert.equal(def.origin.line + s.codeLineOffset, 3);
    assert.equal(s.code.split('\n')[1], 'pub fn m(s: &str) -> Option<bool> {');
  });
});

describe('the allow-list', () => {
  const src = directorySource(
    source([
      ['regex', '1.7.1'],
      ['regex', '1.5.4'],
      ['serde', '1.0.152'],
      ['libc', '0.2.139'],
    ]),
  );
  const allow = parseAllowList(
    'regex = ">=1.7, <2"\nserde = [{ version = "=1.0.152", features = ["derive"] }, "=1.0.100"]\nlibc = "*"\nghost = "=1.0.0"\n',
    'allowed.toml',
  );

  test('the source lists crate directories, not strays', () => {
    assert.deepEqual(
      src
        .versions('regex')
        .map((x) => x.join('.'))
        .sort(),
      ['1.5.4', '1.7.1'],
    );
    assert.deepEqual(src.versions('stray'), []);
  });

  test('unbounded or malformed entries are refused', () => {
    assert.match(
      code(() => parseAllowList('rand = "0.8.5"', 'a.toml')),
      /BAD_ALLOW_LIST: a.toml: rand = "0.8.5" is not bounded/,
    );
    assert.match(
      code(() => parseAllowList('rand = []', 'a.toml')),
      /rand has an empty list/,
    );
    assert.match(
      code(() => parseAllowList('rand = { version = "=1.0.0", path = "/x" }', 'a.toml')),
      /rand.path is not supported/,
    );
  });

  test('resolution: highest version both accept, the allow-list features', () => {
    assert.deepEqual(
      resolveDependencies(
        [
          { name: 'regex', version: '*' },
          { name: 'serde', version: '1', features: ['derive'] },
          { name: 'libc', version: '0.2.139' },
        ],
        allow,
        src,
      ),
      [
        { name: 'regex', version: '1.7.1', features: [], defaultFeatures: true },
        { name: 'serde', version: '1.0.152', features: ['derive'], defaultFeatures: true },
        { name: 'libc', version: '0.2.139', features: [], defaultFeatures: true },
      ],
    );
  });

  test('each refusal names the crate and why', () => {
    const r = (name: string, version: string, extra: object = {}) =>
      code(() => resolveDependencies([{ name, version, ...extra }], allow, src));
    assert.match(r('rand', '0.8'), /DEPENDENCY_NOT_ALLOWED: crate rand is not in the dependency allow-list/);
    assert.match(r('regex', '=1.5.4'), /DEPENDENCY_VERSION_NOT_ALLOWED: crate regex version "=1.5.4" is outside/);
    assert.match(r('serde', '*', { features: ['rc'] }), /DEPENDENCY_FEATURE_NOT_ALLOWED: crate serde: features \[rc\]/);
    assert.match(r('serde', '*', { defaultFeatures: false }), /without default features are not what/);
    assert.match(r('ghost', '*'), /DEPENDENCY_NOT_IN_SOURCE: crate ghost is allowed \("=1.0.0"\) but/);
    assert.match(
      code(() => resolveDependencies([{ name: 'regex', version: '1' }], undefined, src)),
      /NO_ALLOW_LIST: the function has \[dependencies\] \(regex\) but no dependency allow-list is configured/,
    );
  });

  test('entry statuses: what `plrust deps list` shows', () => {
    const st = entryStatuses(allow, src).map((s) => `${s.entry.name} ${s.entry.version} ${s.resolved?.version ?? '-'}`);
    assert.deepEqual(st, [
      'regex >=1.7, <2 1.7.1',
      'serde =1.0.152 1.0.152',
      'serde =1.0.100 -',
      'libc * 0.2.139',
      'ghost =1.0.0 -',
    ]);
  });
});

describe('sources and units', () => {
  test("a mirror is a sparse index URL; Cargo's index layout by name length", () => {
    assert.ok(isSparseUrl('sparse+https://mirror.example/index/'));
    assert.ok(isSparseUrl('sparse+http://127.0.0.1:8080/'));
    for (const not of ['https://mirror.example/', '/usr/share/cargo/registry', 'sparse+file:///x', 'sparse+https://'])
      assert.ok(!isSparseUrl(not), not);
    assert.deepEqual(['a', 'cc', 'syn', 'serde', 'Serde_JSON'].map(indexPath), [
      '1/a',
      '2/cc',
      '3/s/syn',
      'se/rd/serde',
      'se/rd/serde_json',
    ]);
    assert.equal(sourceLocation('/w', 'reg'), '/w/reg');
    assert.equal(sourceLocation('/w', 'sparse+https://m/i/'), 'sparse+https://m/i/');
  });

  test('derive helper attributes are read from proc_macro_derive declarations', () => {
    assert.deepEqual(
      declaredHelpers(
        '#[proc_macro_derive(Serialize, attributes(serde))]\npub fn a() {}\n#[proc_macro_derive( Deserialize , attributes( serde, other ))]\npub fn b() {}\n#[proc_macro_derive(Plain)]\npub fn c() {}\n',
      ),
      ['other', 'serde'],
    );
  });
});
