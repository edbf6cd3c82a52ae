/**
 * The second supported compiler version, from the second origin: rustup's
 * stable (1.95 on the project's machines), the compiler most Rust users
 * have. Its rust-src component is Debian's rust-src of exactly that version
 * (scripts/rust-src-deb.sh), put into a private copy of the toolchain the
 * way `rustup component add rust-src` would. A lean suite: the full
 * toolchain install (both targets), the probe suite against its sysroots,
 * and a few SQL functions compiled by the server with it; plus how rustup
 * toolchains are chosen (--toolchain, rust-toolchain.toml) and refused
 * (no rust-src).
 *
 * The toolchain is cached in PLRUST_TEST_CACHE/rustup-stable like the
 * shared one: the first run builds it (about 40 s per target).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseJson, runPlrust, tempDir } from '../helpers/cli.js';
import { testCacheDir } from '../helpers/toolchain.js';
import { TESTED_VERSIONS, stdSourceOf } from '../helpers/rust-sources.js';
import { HOST_TRIPLE, machineRustupStable, privateRustupHome } from '../helpers/rustup-fixture.js';
import { ALL, assertRestricted, buildHost, buildRestrictedProbes, runHost } from '../helpers/probe-suite.js';
import { startCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { installPlrust, uninstallPlrust } from '../helpers/plrust-install.js';

interface InstallDoc {
  ok: true;
  id: string;
  status: string;
  compiler: { path: string; version: string; origin: { kind: string; detail?: string }; reason: string };
  ruleSet: string;
  source?: { kind: string; location: string };
}

interface ShowDoc {
  id: string;
  path: string;
  origin?: { kind: string; detail?: string };
  rustc: { path: string; version: string };
  targets: { arch: 'x86_64' | 'aarch64'; spec: string; sysroot: string }[];
}

const stable = machineRustupStable();
const cache = path.join(testCacheDir(), 'rustup-stable');
const rustupHome = path.join(cache, 'rustup-home');
const home = path.join(cache, 'home');
const STABLE = `stable-${HOST_TRIPLE}`;

let install: InstallDoc;
let show: ShowDoc;

before(async () => {
  assert.ok(stable, 'rustup stable is part of the tested environment (DESIGN.md); install it with rustup');
  assert.ok(
    TESTED_VERSIONS.includes(stable.version.replace(/\d+$/, '0')) && !stable.version.startsWith('1.96.'),
    `rustup stable is ${stable.version}: this suite tests a second supported version besides Debian's 1.96`,
  );
  if (!fs.existsSync(path.join(rustupHome, 'toolchains', STABLE, 'lib', 'rustlib', 'src', 'rust', 'library'))) {
    fs.rmSync(rustupHome, { recursive: true, force: true });
    fs.mkdirSync(cache, { recursive: true, mode: 0o755 });
    privateRustupHome(rustupHome, stable.dir, stdSourceOf(stable.version));
  }
  const r = await runPlrust(['toolchain', 'install', '--toolchain', 'stable', '--target', 'all', '--json'], {
    home,
    env: { RUSTUP_HOME: rustupHome },
    timeoutMs: 20 * 60_000,
  });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  install = parseJson<InstallDoc>(r);
  show = parseJson<ShowDoc>(await runPlrust(['toolchain', 'show', '--json'], { home }));
});

describe(`rustup's stable with its rust-src component`, () => {
  test('is installed from the rustup toolchain and its rust-src, with the version-ranged rule set', () => {
    assert.equal(install.compiler.version, stable!.version);
    assert.deepEqual(install.compiler.origin, { kind: 'rustup', detail: STABLE });
    assert.equal(install.compiler.path, path.join(rustupHome, 'toolchains', STABLE, 'bin', 'rustc'));
    assert.match(install.ruleSet, /^postgrestd\.json \(>=1\.95\.0 <1\.97\.0\)$/);
    if (install.status !== 'unchanged') {
      assert.equal(install.source?.kind, 'rustup-component');
      assert.equal(
        install.source?.location,
        path.join(rustupHome, 'toolchains', STABLE, 'lib', 'rustlib', 'src', 'rust', 'library'),
      );
    }
    assert.deepEqual(
      show.targets.map((t) => t.arch),
      ['aarch64', 'x86_64'],
    );
    assert.deepEqual(show.origin, { kind: 'rustup', detail: STABLE });
  });

  test('toolchain list shows its origin and rule set', async () => {
    const r = await runPlrust(['toolchain', 'list'], { home });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(
        `${install.id}.*origin: rustup \\(${STABLE}\\)\\s+rules: postgrestd\\.json \\(>=1\\.95\\.0 <1\\.97\\.0\\)`,
      ),
    );
  });

  describe('the probe suite against its sysroots', () => {
    let tmp: string;
    let workdir: string;
    before(() => {
      tmp = tempDir('probes-stable');
      workdir = path.join(tmp, 'work');
      fs.mkdirSync(workdir);
      fs.writeFileSync(path.join(workdir, 'input.txt'), 'probe input\n');
    });

    for (const arch of ['x86_64', 'aarch64'] as const) {
      test(`${arch}: every denied API is refused and the host survives`, () => {
        const t = show.targets.find((x) => x.arch === arch)!;
        const lib = buildRestrictedProbes(show.rustc.path, t.sysroot, t.spec, path.join(tmp, `probes-${arch}.so`));
        const command =
          arch === 'x86_64'
            ? [buildHost('gcc', path.join(tmp, 'host-x86_64'))]
            : [
                'qemu-aarch64',
                '-L',
                '/usr/aarch64-linux-gnu',
                buildHost('aarch64-linux-gnu-gcc', path.join(tmp, 'host-aarch64')),
              ];
        assertRestricted(runHost(command, lib, ALL, { workdir, home: tmp }), workdir);
      });
    }
  });

  describe('SQL functions compiled by the server with it', () => {
    let pgHome: string;
    let pg: PgCluster;
    before(async () => {
      pgHome = fs.mkdtempSync('/tmp/plrust-e2e-stable-');
      fs.chmodSync(pgHome, 0o755);
      process.on('exit', () => fs.rmSync(pgHome, { recursive: true, force: true }));
      const cp = spawnSync('cp', ['-al', path.join(home, 'toolchains'), path.join(pgHome, 'toolchains')]);
      assert.equal(cp.status, 0, String(cp.stderr));
      const inst = await installPlrust(pgHome);
      assert.equal(inst.toolchain, install.id);
      pg = await startCluster({ settings: { 'plrust.targets': 'x86_64' } });
      await pg.psql(`CREATE EXTENSION plrust;
CREATE FUNCTION add(a int, b int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(a + b)) $$;
CREATE FUNCTION greet(name text) RETURNS text LANGUAGE plrust AS $$
    Ok(Some(format!("hello, {}", name.unwrap_or("nobody"))))
$$;
CREATE FUNCTION sum_all(xs int8[]) RETURNS int8 STRICT LANGUAGE plrust AS $$
    Ok(Some(xs.into_iter().flatten().sum()))
$$;
CREATE FUNCTION read_passwd() RETURNS text LANGUAGE plrust AS $$
    Ok(Some(std::fs::read_to_string("/etc/passwd")?))
$$;
CREATE FUNCTION boom(a int) RETURNS int STRICT LANGUAGE plrust AS $$
    let v = vec![1, 2, 3];
    Ok(Some(v[a as usize]))
$$;`);
    });
    after(async () => {
      await pg?.stop();
      if (pgHome) await uninstallPlrust(pgHome);
    });

    test('values, NULLs and arrays come back', async () => {
      assert.deepEqual(await pg.query(`SELECT add(2, 40), greet('1.95'), greet(NULL), sum_all('{1,NULL,41}')`), [
        ['42', 'hello, 1.95', 'hello, nobody', '42'],
      ]);
    });

    test('the restricted std refuses file access, and a panic is an ERROR the session survives', async () => {
      const denied = await pg.psqlResult('SELECT read_passwd();');
      assert.match(denied.stderr, /ERROR: .*read_passwd: .*(unsupported|not supported)/i);
      const panic = await pg.psqlResult('SELECT boom(7);');
      assert.match(panic.stderr, /ERROR: .*index out of bounds/);
      assert.deepEqual(await pg.query('SELECT add(1, 1)'), [['2']]);
    });
  });
});

describe('choosing rustup toolchains', () => {
  test('rust-toolchain.toml in a parent directory picks the toolchain it pins', async () => {
    const project = tempDir('pinned');
    fs.writeFileSync(
      path.join(project, 'rust-toolchain.toml'),
      '# pinned for the test\n[toolchain]\nchannel = "stable"\ncomponents = ["rust-src"]\n',
    );
    const sub = path.join(project, 'src', 'deep');
    fs.mkdirSync(sub, { recursive: true });
    const r = await runPlrust(['toolchain', 'install', '--target', 'x86_64', '--json'], {
      home,
      cwd: sub,
      env: { RUSTUP_HOME: rustupHome },
    });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const doc = parseJson<InstallDoc>(r);
    assert.equal(doc.status, 'unchanged', 'the pinned toolchain is the one already installed');
    assert.equal(doc.id, install.id);
    assert.match(doc.compiler.reason, new RegExp(`pinned by ${path.join(project, 'rust-toolchain.toml')}`));
  });

  test('a pinned toolchain that rustup does not have fails naming it, with the rustup command', async () => {
    const project = tempDir('pinned-missing');
    fs.writeFileSync(path.join(project, 'rust-toolchain.toml'), '[toolchain]\nchannel = "1.80.0"\n');
    const empty = tempDir('home-empty');
    const r = await runPlrust(['toolchain', 'install', '--json'], {
      home: empty,
      cwd: project,
      env: { RUSTUP_HOME: rustupHome },
    });
    assert.equal(r.code, 2);
    const err = parseJson<{ error: { code: string; message: string; hint: string } }>(r).error;
    assert.equal(err.code, 'RUSTUP_TOOLCHAIN_NOT_FOUND');
    assert.match(err.message, new RegExp(`'1\\.80\\.0' is not installed .*installed: ${STABLE}`));
    assert.equal(err.hint, 'install it with: rustup toolchain install 1.80.0 --component rust-src');
    assert.deepEqual(fs.readdirSync(empty), [], 'nothing is written to PLRUST_HOME');
  });

  test('without rust-src, the install fails with exactly the rustup command that adds it', async () => {
    const bare = path.join(tempDir('rustup-bare'), 'rustup');
    privateRustupHome(bare, stable!.dir);
    const empty = tempDir('home-bare');
    const r = await runPlrust(['toolchain', 'install', '--toolchain', 'stable'], {
      home: empty,
      env: { RUSTUP_HOME: bare },
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`rustup toolchain ${STABLE} has no std source`));
    assert.match(r.stderr, new RegExp(`^hint: rustup component add rust-src --toolchain ${STABLE}$`, 'm'));
    assert.ok(!fs.existsSync(path.join(empty, 'toolchains')), 'no toolchain directory is created');

    const doctor = await runPlrust(['doctor', '--json'], { home: empty, env: { RUSTUP_HOME: bare } });
    const findings = parseJson<{ findings: { id: string; detail: string; fix?: string }[] }>(doctor).findings;
    const why = findings.find((f) => f.id === `compiler:${path.join(bare, 'toolchains', STABLE, 'bin', 'rustc')}`);
    assert.ok(why, `doctor explains the rustup compiler: ${JSON.stringify(findings, null, 1)}`);
    assert.match(why.detail, /no std source/);
    assert.equal(why.fix, `rustup component add rust-src --toolchain ${STABLE}`);
  });
});
