/**
 * Issue 16 from the command line: `plrust deps list|check|build` and
 * `plrust build --allowed` with a .rs file's `//! [dependencies]` header,
 * for both targets; a crate whose library imports a denied symbol is
 * refused with the symbol named and leaves nothing behind.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempHome } from '../helpers/plrust-install.js';
import { runPlrust } from '../helpers/cli.js';
import { startFileServer } from '../helpers/http-server.js';
import { serveSparseRegistry } from '../helpers/sparse-registry.js';

const REGISTRY = '/usr/share/cargo/registry';
let home = '';
let dir = '';

function write(name: string, text: string): string {
  const p = path.join(dir, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
  return p;
}

/** A vendor directory with one crate whose safe API calls socket(2), and whose macro wraps its argument in `unsafe`. */
function sneakySource(): string {
  const crate = path.join(dir, 'vendor', 'sneaky-0.1.0');
  write(
    'vendor/sneaky-0.1.0/Cargo.toml',
    '[package]\nname = "sneaky"\nversion = "0.1.0"\nedition = "2021"\n\n[lib]\npath = "lib.rs"\n',
  );
  write(
    'vendor/sneaky-0.1.0/lib.rs',
    'extern "C" {\n    fn socket(domain: i32, kind: i32, protocol: i32) -> i32;\n}\n\npub fn open() -> i32 {\n    unsafe { socket(2, 1, 0) }\n}\n\npub fn ptr(x: &i32) -> *const i32 {\n    x\n}\n\n#[macro_export]\nmacro_rules! peek {\n    ($p:expr) => {\n        unsafe { *$p }\n    };\n}\n',
  );
  write('vendor/sneaky-0.1.0/.cargo-checksum.json', '{"package":null,"files":{}}');
  return path.dirname(crate);
}

describe('plrust deps and plrust build with dependencies', { skip: !fs.existsSync(`${REGISTRY}/regex-1.7.1`) }, () => {
  before(async () => {
    home = await tempHome('deps-cli', { toolchain: true });
    dir = fs.mkdtempSync('/tmp/plrust-deps-cli-');
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    write(
      'allowed.toml',
      'regex = ">=1.7, <2"\nserde = { version = "=1.0.152", features = ["derive"] }\nserde_json = "*"\n',
    );
    write('missing.toml', 'regex = ">=1.7, <2"\nghost = "=1.0.0"\n');
    write('sneaky.toml', 'sneaky = "=0.1.0"\n');
  });

  test('deps list and check: what the source offers, and a missing crate fails', async () => {
    const list = await runPlrust(['deps', 'list', '--allowed', path.join(dir, 'missing.toml'), '--json'], { home });
    assert.equal(list.code, 0, list.stderr);
    const doc = JSON.parse(list.stdout) as { dependencies: Array<{ name: string; resolved: string | null }> };
    assert.deepEqual(
      doc.dependencies.map((d) => [d.name, d.resolved]),
      [
        ['regex', '1.7.1'],
        ['ghost', null],
      ],
    );
    const check = await runPlrust(['deps', 'check', '--allowed', path.join(dir, 'missing.toml')], { home });
    assert.notEqual(check.code, 0);
    assert.match(check.stderr, /1 allowed dependency is not in \/usr\/share\/cargo\/registry: ghost "=1.0.0"/);
  });

  test('.rs files with a //! [dependencies] header build for both targets; the libraries are self-contained', async () => {
    const rs = write(
      'src/words.rs',
      '//! [dependencies]\n//! regex = "1"\n\n/// Words of at least n letters.\npub fn long_words(s: &str, n: i32) -> Option<i64> {\n    let re = regex::Regex::new(&format!(r"\\b\\w{{{n},}}\\b")).ok()?;\n    Some(re.find_iter(s).count() as i64)\n}\n',
    );
    // serde's derive and serde_json, one unit: both link the same serde.
    const json = write(
      'src/json.rs',
      '//! [dependencies]\n//! serde = { version = "1", features = ["derive"] }\n//! serde_json = "1"\n\n#[derive(serde::Deserialize, serde::Serialize)]\nstruct Point {\n    x: i32,\n    #[serde(default)]\n    y: i32,\n}\n\npub fn point_sum(s: &str) -> Option<String> {\n    let p: Point = serde_json::from_str(s).ok()?;\n    serde_json::to_string(&Point { x: p.x + p.y, y: 0 }).ok()\n}\n',
    );
    const out = path.join(dir, 'out');
    const r = await runPlrust(
      ['build', '--allowed', path.join(dir, 'allowed.toml'), '--out-dir', out, '--json', rs, json],
      {
        home,
        timeoutMs: 20 * 60_000,
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const sql = fs.readFileSync(path.join(out, 'functions.sql'), 'utf8');
    assert.match(sql, /\[dependencies\]\n regex = "1"\n\[code\]/);
    for (const [fn, triple] of ['long_words', 'point_sum'].flatMap((f) =>
      ['x86_64-postgres-linux-gnu', 'aarch64-postgres-linux-gnu'].map((t) => [f, t] as const),
    )) {
      const lib = path.join(out, fn, `${triple}.so`);
      const dynamic = execFileSync('readelf', ['-d', '-W', lib], { encoding: 'utf8' });
      const needed = [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
      // regex is linked in: the library needs nothing but the C library's parts.
      for (const n of needed) assert.match(n!, /^(libc|libm|libgcc_s|ld-linux)[-.\w]*\.so/, `${triple} needs ${n}`);
      const header = execFileSync('readelf', ['-h', lib], { encoding: 'utf8' });
      assert.match(header, triple.startsWith('x86_64') ? /X86-64/ : /AArch64/);
    }
  });

  test('a crate whose library imports a denied symbol is refused with the symbol named', async () => {
    const vendor = sneakySource();
    const f = write(
      'sneaky.sql',
      'CREATE FUNCTION sock() RETURNS int4 LANGUAGE plrust AS $$\n[dependencies]\nsneaky = "0.1.0"\n[code]\nOk(Some(sneaky::open()))\n$$;\n',
    );
    const out = path.join(dir, 'sneaky-out');
    const r = await runPlrust(
      [
        'build',
        '--allowed',
        path.join(dir, 'sneaky.toml'),
        '--dependency-source',
        vendor,
        '--target',
        'x86_64',
        '--out-dir',
        out,
        f,
      ],
      { home, timeoutMs: 10 * 60_000 },
    );
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /sock links the crates sneaky, and its library imports what a trusted function may not use: socket@/,
    );
    assert.equal(fs.existsSync(path.join(out, 'functions.sql')), false, 'a refused build wrote its SQL');
    // The unit built for it is taken back as well.
    const units = fs.readdirSync(path.join(home, 'deps')).filter((u) => !u.startsWith('.'));
    for (const u of units)
      assert.doesNotMatch(
        fs.readFileSync(path.join(home, 'deps', u, 'unit.json'), 'utf8'),
        /sneaky/,
        `unit ${u} stayed`,
      );
    // rustc's unsafe_code lint is silent on another crate's macro; the expanded check is not.
    const peek = write(
      'peek.sql',
      'CREATE FUNCTION peek() RETURNS int4 LANGUAGE plrust AS $$\n[dependencies]\nsneaky = "0.1.0"\n[code]\nlet x = 7i32;\nOk(Some(sneaky::peek!(sneaky::ptr(&x))))\n$$;\n',
    );
    const p = await runPlrust(
      [
        'build',
        '--allowed',
        path.join(dir, 'sneaky.toml'),
        '--dependency-source',
        vendor,
        '--target',
        'x86_64',
        '--out-dir',
        path.join(dir, 'peek-out'),
        peek,
      ],
      { home, timeoutMs: 10 * 60_000 },
    );
    assert.equal(p.code, 4, p.stderr);
    assert.match(p.stderr, /unsafe: `unsafe` around the function's own code, written by a macro of an allowed crate/);
  });

  test('a registry mirror (sparse index URL on 127.0.0.1) is a source: listed, fetched once, built offline', async () => {
    const server = await startFileServer();
    try {
      const url = serveSparseRegistry(server, REGISTRY, path.join(dir, 'mirror'));
      write('mirror.toml', 'serde = { version = "=1.0.152", features = ["derive"] }\nserde_json = "*"\nghost = "*"\n');
      const list = await runPlrust(
        ['deps', 'list', '--allowed', path.join(dir, 'mirror.toml'), '--dependency-source', url, '--json'],
        { home },
      );
      assert.equal(list.code, 0, list.stderr);
      const doc = JSON.parse(list.stdout) as {
        source: string;
        dependencies: Array<{ name: string; resolved: string | null }>;
      };
      assert.equal(doc.source, url);
      assert.deepEqual(
        doc.dependencies.map((d) => [d.name, d.resolved]),
        [
          ['serde', '1.0.152'],
          ['serde_json', '1.0.87'],
          ['ghost', null],
        ],
      );
      const rs = write(
        'mirror/src/point.rs',
        '//! [dependencies]\n//! serde = { version = "1", features = ["derive"] }\n//! serde_json = "1"\n\n#[derive(serde::Serialize)]\nstruct P {\n    x: i32,\n}\n\npub fn point(x: i32) -> Option<String> {\n    serde_json::to_string(&P { x }).ok()\n}\n',
      );
      const out = path.join(dir, 'mirror-out');
      const args = [
        'build',
        '--allowed',
        path.join(dir, 'mirror.toml'),
        '--dependency-source',
        url,
        '--target',
        'x86_64',
      ];
      const r = await runPlrust([...args, '--out-dir', out, rs], { home, timeoutMs: 20 * 60_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(fs.existsSync(path.join(out, 'point', 'x86_64-postgres-linux-gnu.so')));
      const downloads = server.requests.filter((q) => q.path.startsWith('/crates/')).map((q) => q.path);
      assert.ok(downloads.includes('/crates/serde_derive/1.0.152/download'), downloads.join(' '));
      // The unit is stored: a second function with the same crates fetches nothing.
      const before = server.requests.length;
      const again = write('mirror/src/again.rs', fs.readFileSync(rs, 'utf8').replace('pub fn point', 'pub fn point2'));
      const r2 = await runPlrust([...args, '--out-dir', path.join(dir, 'mirror-out2'), again], { home });
      assert.equal(r2.code, 0, r2.stderr);
      assert.equal(server.requests.slice(before).filter((q) => q.path.startsWith('/crates/')).length, 0);
      // A crate the mirror does not have, and a mirror that does not answer, are refused by name.
      const ghost = write(
        'mirror/ghost.sql',
        'CREATE FUNCTION g() RETURNS int4 LANGUAGE plrust AS $$\n[dependencies]\nghost = "*"\n[code]\nOk(Some(1))\n$$;\n',
      );
      const g = await runPlrust([...args, '--out-dir', path.join(dir, 'ghost-out'), ghost], { home });
      assert.notEqual(g.code, 0);
      assert.match(
        g.stderr,
        /crate ghost is allowed \("\*"\) but the dependency source sparse\+http:\/\/127\.0\.0\.1:\d+\/index\/ has no such version/,
      );
      await server.close();
      const down = await runPlrust(
        ['deps', 'list', '--allowed', path.join(dir, 'mirror.toml'), '--dependency-source', url],
        { home },
      );
      assert.notEqual(down.code, 0);
      assert.match(down.stderr, /the dependency source sparse\+http:\/\/127\.0\.0\.1:\d+\/index\/ cannot be read/);
    } finally {
      await server.close();
    }
  });
});
