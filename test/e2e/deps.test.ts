/**
 * Issue 16: functions with [dependencies] in a real server. Crates come
 * from Debian's directory registry (/usr/share/cargo/registry: regex, a pure
 * library; serde with serde_derive, a proc-macro, and serde_json; libc, a
 * build script), allowed by a TOML file named by plrust.allowed_dependencies.
 * regex is pre-built by `plrust deps build` into plrust.home; serde with
 * serde_json and libc are built by the server on first use. Every refusal
 * leaves no function.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { installPlrust, tempHome, uninstallPlrust } from '../helpers/plrust-install.js';
import { runPlrust } from '../helpers/cli.js';
import { startFileServer } from '../helpers/http-server.js';
import { serveSparseRegistry } from '../helpers/sparse-registry.js';

const ARCH = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
const REGISTRY = '/usr/share/cargo/registry';
const ALLOWED = `regex = ">=1.7, <2"
serde = { version = "=1.0.152", features = ["derive"] }
serde_json = ">=1, <2"
libc = "*"
nonexistent-crate = "=1.0.0"
`;

let pg: PgCluster | undefined;
let home = '';
let dir = '';

function server(): PgCluster {
  return pg ?? assert.fail('no cluster');
}

async function createAs(user: string, sql: string): Promise<{ ok: boolean; stderr: string }> {
  const r = await server().psqlResult(sql, { user });
  return { ok: r.code === 0 && !/ERROR/.test(r.stderr), stderr: r.stderr };
}

async function exists(name: string): Promise<boolean> {
  return (await server().psql(`SELECT count(*) FROM pg_proc WHERE proname = '${name}';`)).trim() === '1';
}

async function refused(name: string, sql: string, error: RegExp, user = 'mallory'): Promise<void> {
  const r = await createAs(user, sql);
  assert.ok(!r.ok, `${name} should have been refused`);
  assert.match(r.stderr, error);
  assert.equal(await exists(name), false, `${name} was left behind`);
}

describe(
  'crate dependencies from the allow-list (issue 16)',
  { skip: !fs.existsSync(`${REGISTRY}/regex-1.7.1`) },
  () => {
    before(async () => {
      home = await tempHome('deps', { toolchain: true });
      dir = fs.mkdtempSync('/tmp/plrust-deps-e2e-');
      fs.chmodSync(dir, 0o755);
      process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
      const allowed = path.join(dir, 'allowed.toml');
      fs.writeFileSync(allowed, ALLOWED);
      fs.writeFileSync(path.join(dir, 'prebuild.toml'), 'regex = ">=1.7, <2"\n');
      const pre = await runPlrust(
        ['deps', 'build', '--allowed', path.join(dir, 'prebuild.toml'), '--target', ARCH, '--json'],
        { home, timeoutMs: 15 * 60_000 },
      );
      assert.equal(pre.code, 0, pre.stderr);
      await installPlrust(home);
      pg = await startCluster({
        settings: {
          'plrust.targets': ARCH,
          'plrust.allowed_dependencies': allowed,
          // libc is built on first use: cargo takes longer than one function's compile.
          'plrust.compile_timeout': 600,
        },
      });
      await pg.psql(`CREATE ROLE mallory LOGIN; GRANT CREATE ON SCHEMA public TO mallory; CREATE EXTENSION plrust;`);
    });

    after(async () => {
      await pg?.stop();
      if (home) await uninstallPlrust(home);
    });

    test('plrust.allowed_dependencies() lists the allow-list and what the source offers', async () => {
      assert.deepEqual(
        await server().query(
          `SELECT name, version, features::text, default_features, coalesce(available, '-') FROM plrust.allowed_dependencies();`,
          { user: 'mallory' },
        ),
        [
          ['regex', '>=1.7, <2', '{}', 't', '1.7.1'],
          ['serde', '=1.0.152', '{derive}', 't', '1.0.152'],
          ['serde_json', '>=1, <2', '{}', 't', '1.0.87'],
          ['libc', '*', '{}', 't', '0.2.139'],
          ['nonexistent-crate', '=1.0.0', '{}', 't', '-'],
        ],
      );
    });

    test('regex (a pure library) compiles and gives the right answers', async () => {
      const r = await createAs(
        'mallory',
        `CREATE FUNCTION re_match(pat text, s text) RETURNS bool STRICT LANGUAGE plrust AS $$
[dependencies]
regex = "1"

[code]
let re = regex::Regex::new(pat)?;
Ok(Some(re.is_match(s)))
$$;`,
      );
      assert.ok(r.ok, r.stderr);
      assert.equal(await server().psql(`SELECT re_match('^a+b$', 'aaab'), re_match('^a+b$', 'aaac');`), 't|f');
      const bad = await server().psqlResult(`SELECT re_match('(', 'x');`);
      assert.match(bad.stderr, /ERROR: {2}regex parse error/);
    });

    test('serde derive (a proc-macro): JSON text into a struct and back, with helper attributes', async () => {
      const r = await createAs(
        'mallory',
        `CREATE FUNCTION reshape(s text) RETURNS text STRICT LANGUAGE plrust AS $$
[dependencies]
serde = { version = "1", features = ["derive"] }
serde_json = "1"

[code]
#[derive(serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Point {
    x_pos: i32,
    #[serde(rename = "label", default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    tags: Vec<String>,
}
let mut p: Point = serde_json::from_str(s)?;
p.x_pos += 1;
p.tags.sort();
Ok(Some(serde_json::to_string(&p)?))
$$;`,
      );
      assert.ok(r.ok, r.stderr);
      assert.equal(
        await server().psql(
          `SELECT reshape('{"xPos": 41, "label": "a", "tags": ["b", "a"]}'), reshape('{"xPos": 1, "tags": []}');`,
        ),
        '{"xPos":42,"label":"a","tags":["a","b"]}|{"xPos":2,"tags":[]}',
      );
      const bad = await server().psqlResult(`SELECT reshape('{"xPos": "no"}');`);
      assert.match(bad.stderr, /ERROR: {2}invalid type: string "no", expected i32/);
    });

    test("the derive's output is trusted, the function's tokens in it are not", async () => {
      const body = (attr: string) => `[dependencies]
serde = { version = "1", features = ["derive"] }
serde_json = "1"
[code]
#[derive(serde::Serialize)]
struct P { ${attr} a: Vec<u8> }
Ok(Some(serde_json::to_string(&P { a: vec![1] })?))`;
      // A path in a helper string reaches the expanded program with the function's hygiene: still checked.
      await refused(
        'forgets',
        `CREATE FUNCTION forgets() RETURNS text LANGUAGE plrust AS $$${body('#[serde(serialize_with = "std::mem::forget")]')}$$;`,
        /mem-forget: .*\(after macro expansion\)/,
      );
      // Code in a helper string is refused before the derive can read it.
      await refused(
        'smuggles',
        `CREATE FUNCTION smuggles() RETURNS text LANGUAGE plrust AS $$${body('#[serde(bound = "[u8; { unsafe { 1 } }]: Sized")]')}$$;`,
        /a string in `#\[serde\]` may name paths and types only .* but it holds `\[`/,
      );
      // Helper attributes of a crate the function does not link stay unknown.
      await refused(
        'no_helpers',
        `CREATE FUNCTION no_helpers() RETURNS int4 LANGUAGE plrust AS $$
[dependencies]
regex = "1"
[code]
#[serde(rename = "b")]
struct P { a: i32 }
Ok(Some(P { a: 1 }.a))
$$;`,
        /`#\[serde\]` is not an allowed attribute/,
      );
    });

    test('libc (a build script) is built by the server on first use', async () => {
      const r = await createAs(
        'mallory',
        `CREATE FUNCTION einval() RETURNS int4 LANGUAGE plrust AS $$
[dependencies]
libc = "*"

[code]
Ok(Some(libc::EINVAL))
$$;`,
      );
      assert.ok(r.ok, r.stderr);
      assert.equal(await server().psql(`SELECT einval();`), '22');
    });

    test('a second function using the same crates needs no cargo run', async () => {
      const started = Date.now();
      const r = await createAs(
        'mallory',
        `CREATE FUNCTION re_count(pat text, s text) RETURNS int8 STRICT LANGUAGE plrust AS $$
[dependencies]
regex = "*"
[code]
Ok(Some(regex::Regex::new(pat)?.find_iter(s).count() as i64))
$$;`,
      );
      const seconds = (Date.now() - started) / 1000;
      assert.ok(r.ok, r.stderr);
      assert.equal(await server().psql(`SELECT re_count('a', 'banana');`), '3');
      assert.ok(seconds < 30, `the second regex function took ${seconds} s`);
    });

    test('function code is still checked: unsafe stays refused', async () => {
      await refused(
        'pid_unsafe',
        `CREATE FUNCTION pid_unsafe() RETURNS int4 LANGUAGE plrust AS $$
[dependencies]
libc = "*"
[code]
Ok(Some(unsafe { libc::getpid() }))
$$;`,
        /rejected by the PL\/Rust trust checker/,
      );
    });

    test('a crate outside the allow-list is refused, naming it', async () => {
      await refused(
        'rnd',
        `CREATE FUNCTION rnd() RETURNS int4 LANGUAGE plrust AS $$
[dependencies]
memchr = "2"
[code]
Ok(Some(1))
$$;`,
        /crate memchr is not in the dependency allow-list/,
      );
    });

    test('a version outside the requirement is refused', async () => {
      await refused(
        'old_regex',
        `CREATE FUNCTION old_regex() RETURNS int4 LANGUAGE plrust AS $$
[dependencies]
regex = "=1.5.4"
[code]
Ok(Some(1))
$$;`,
        /crate regex version "=1.5.4" is outside the allow-list's ">=1.7, <2"/,
      );
    });

    test('features the allow-list does not give are refused', async () => {
      await refused(
        'feat',
        `CREATE FUNCTION feat() RETURNS int4 LANGUAGE plrust AS $$
[dependencies]
serde = { version = "1", features = ["derive", "rc"] }
[code]
Ok(Some(1))
$$;`,
        /crate serde: features \[derive, rc\] are not what the allow-list allows/,
      );
    });

    test('an allowed crate missing from the source is refused', async () => {
      await refused(
        'ghost',
        `CREATE FUNCTION ghost() RETURNS int4 LANGUAGE plrust AS $$
[dependencies]
nonexistent-crate = "*"
[code]
Ok(Some(1))
$$;`,
        /crate nonexistent-crate is allowed \("=1\.0\.0"\) but the dependency source \/usr\/share\/cargo\/registry has no such version/,
      );
    });

    test('only a superuser names the allow-list; without one, [dependencies] is refused', async () => {
      // The call loads the handler first, so the setting is the handler's, not a placeholder.
      const attempt = await server().psqlResult(
        `SELECT re_match('a', 'a'); SET plrust.allowed_dependencies = '/tmp/mine.toml';`,
        {
          user: 'mallory',
        },
      );
      assert.match(attempt.stderr, /permission denied to set parameter "plrust.allowed_dependencies"/);
      await refused(
        'none_allowed',
        `SET plrust.allowed_dependencies = '';
CREATE FUNCTION none_allowed() RETURNS int4 LANGUAGE plrust AS $$
[dependencies]
regex = "1"
[code]
Ok(Some(1))
$$;`,
        /no dependency allow-list is configured/,
        server().superuser,
      );
    });

    test('a registry mirror as plrust.dependency_source: listed and built from over HTTP', async () => {
      const mirror = await startFileServer();
      try {
        const url = serveSparseRegistry(mirror, REGISTRY, path.join(dir, 'mirror'));
        const su = server().superuser;
        const bad = await server().psqlResult(`LOAD 'plrust'; SET plrust.dependency_source = 'https://example.org/';`, {
          user: su,
        });
        assert.match(bad.stderr, /The source must be an absolute directory or a sparse\+https:\/\/ index URL/);
        const r = await createAs(
          su,
          `SET plrust.dependency_source = '${url}';
CREATE FUNCTION eperm() RETURNS int4 LANGUAGE plrust AS $$
[dependencies]
libc = "*"
[code]
Ok(Some(libc::EPERM))
$$;`,
        );
        assert.ok(r.ok, r.stderr);
        assert.ok(
          mirror.requests.some((q) => q.path === '/crates/libc/0.2.139/download'),
          'libc was not fetched from the mirror',
        );
        assert.equal(await server().psql(`SELECT eperm();`), '1');
        const listed = await server().psqlResult(
          `SET plrust.dependency_source = '${url}'; SELECT string_agg(name || '=' || coalesce(available, '-'), ',') FROM plrust.allowed_dependencies() WHERE name IN ('libc', 'nonexistent-crate');`,
          { user: su },
        );
        assert.match(listed.stdout, /libc=0\.2\.139,nonexistent-crate=-/, listed.stderr);
      } finally {
        await mirror.close();
      }
    });

    test('artifacts of functions with dependencies survive dump and restore without a compiler', async () => {
      const dump = path.join(server().dir, 'deps.dump');
      const dumped = await server().runProgram('pg_dump', ['-Fc', '-f', dump, '-d', server().conninfo()]);
      assert.equal(dumped.code, 0, dumped.stderr);
      await server().psql('CREATE DATABASE restored;');
      // Without a compiler the restored functions can only run from the restored artifacts.
      await server().psql(`LOAD 'plrust'; ALTER SYSTEM SET plrust.compiler = ''; SELECT pg_reload_conf();`);
      try {
        const restored = await server().runProgram('pg_restore', ['-d', server().conninfo({ db: 'restored' }), dump]);
        assert.equal(restored.code, 0, restored.stderr);
        assert.equal(await server().psql(`SELECT re_match('^x', 'xy'), einval();`, { db: 'restored' }), 't|22');
      } finally {
        await server().psql(`LOAD 'plrust'; ALTER SYSTEM RESET plrust.compiler; SELECT pg_reload_conf();`);
      }
    });
  },
);
