/**
 * `plrust status [--json]`: the summary of a home with nothing in it, and of
 * one with the shared toolchain and a real `plrust install` into the test
 * PostgreSQL — then with that install's isolation runner taken away, which
 * status must report as damage (exit 1) and as isolation unavailable for
 * that installation, while the host's own isolation facts stay as they were.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PG_CONFIG } from '../helpers/pg-cluster.js';
import { parseJson, runPlrust, tempDir } from '../helpers/cli.js';
import { installPlrust, tempHome, uninstallPlrust, type InstallJson } from '../helpers/plrust-install.js';
import type { StatusReport } from '../../src/doctor/status.js';

const ARCH = process.arch === 'arm64' ? 'aarch64' : 'x86_64';

describe('plrust status', () => {
  let home: string;
  let installed: InstallJson;
  let runner: string;

  before(async () => {
    home = await tempHome('status', { toolchain: true });
    installed = await installPlrust(home);
    runner = path.join(installed.pg.pkglibdir, 'plrust_runner');
  });

  after(async () => {
    if (fs.existsSync(`${runner}.away`)) fs.renameSync(`${runner}.away`, runner);
    await uninstallPlrust(home);
  });

  test('an empty home: nothing installed is not an error, and the host isolation facts are there', async () => {
    const empty = tempDir('status-empty');
    const r = await runPlrust(['status', '--json'], { home: empty });
    assert.equal(r.code, 0, r.stderr);
    const s = parseJson<StatusReport>(r);
    assert.equal(s.ok, true);
    assert.equal(s.home, empty);
    assert.deepEqual(s.toolchains, []);
    assert.deepEqual(s.installs, []);
    assert.equal(s.defaultToolchain, undefined);
    assert.deepEqual(s.dependencies, { path: path.join(empty, 'deps'), units: 0, crates: [], triples: [] });
    for (const k of ['seccomp', 'userNamespaces', 'bubblewrap', 'available'] as const)
      assert.equal(typeof s.isolation[k], 'boolean', k);
    assert.equal(s.isolation.available, s.isolation.problems.length === 0);
    const human = await runPlrust(['status'], { home: empty });
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /none \(run `plrust toolchain install`\)/);
    assert.match(human.stdout, /none \(run `plrust install --pg-config …`\)/);
  });

  test('a toolchain, an install and a built crate: versions, paths, handler and runner in place, isolation per install', async () => {
    const allowed = path.join(tempDir('status-deps'), 'allowed.toml');
    fs.writeFileSync(allowed, 'cfg-if = "=1.0.0"\n');
    const built = await runPlrust(['deps', 'build', '--allowed', allowed, '--target', ARCH], {
      home,
      timeoutMs: 5 * 60_000,
    });
    assert.equal(built.code, 0, built.stderr);
    const r = await runPlrust(['status', '--json'], { home });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const s = parseJson<StatusReport>(r);
    assert.equal(s.ok, true, s.problems.join('\n'));
    assert.deepEqual(s.problems, []);
    assert.equal(s.defaultToolchain, installed.toolchain);
    const tc = s.toolchains.find((t) => t.id === installed.toolchain);
    assert.ok(tc, JSON.stringify(s.toolchains));
    assert.equal(tc.default, true);
    assert.equal(tc.healthy, true);
    assert.equal(tc.rustc?.present, true);
    assert.ok(tc.targets.length > 0);
    for (const t of tc.targets) {
      assert.equal(t.sysrootPresent, true, t.triple);
      assert.equal(t.runtime, 'current', `${t.triple}: the suite's toolchain is built from this runtime/`);
    }
    assert.equal(s.installs.length, 1);
    const i = s.installs[0]!;
    assert.equal(i.pgConfig, installed.pg.pgConfig);
    assert.equal(i.pgConfigPresent, true);
    assert.equal(i.pgVersion, installed.pg.version);
    assert.equal(i.pkglibdir, installed.pg.pkglibdir);
    assert.equal(i.toolchain, installed.toolchain);
    assert.equal(i.toolchainPresent, true);
    assert.equal(i.workDir, installed.workDir);
    assert.deepEqual(i.handler.map((f) => [path.basename(f.path), f.state]).sort(), [
      ['plrust.so', 'ok'],
      ['plrust_runner', 'ok'],
    ]);
    // With the runner in place, the installation can isolate exactly when the host can.
    assert.equal(i.isolation.available, s.isolation.available, i.isolation.problems.join('; '));
    assert.deepEqual(s.dependencies, {
      path: path.join(home, 'deps'),
      units: 1,
      crates: ['cfg_if'],
      triples: [`${ARCH}-postgres-linux-gnu`],
    });
    const human = await runPlrust(['status'], { home });
    assert.equal(human.code, 0, human.stderr);
    assert.ok(human.stdout.includes(`PostgreSQL ${installed.pg.version}  ${PG_CONFIG}`), human.stdout);
    assert.ok(human.stdout.includes(`${runner}: ok`), human.stdout);
  });

  test('the runner removed from the install: damage (exit 1), isolation unavailable there, the host unchanged', async () => {
    const hostBefore = parseJson<StatusReport>(await runPlrust(['status', '--json'], { home })).isolation;
    fs.renameSync(runner, `${runner}.away`);
    try {
      const r = await runPlrust(['status', '--json'], { home });
      assert.equal(r.code, 1, `damage exits 1:\n${r.stdout}\n${r.stderr}`);
      assert.equal(r.stderr, '', 'with --json the report is the only output');
      const s = parseJson<StatusReport>(r);
      assert.equal(s.ok, false);
      const i = s.installs[0]!;
      assert.equal(i.handler.find((f) => f.path === runner)?.state, 'missing');
      assert.equal(i.isolation.available, false);
      assert.ok(
        i.isolation.problems.some((p) => p.includes('runner is not installed') && p.includes(installed.pg.pkglibdir)),
        i.isolation.problems.join('; '),
      );
      assert.ok(s.problems.some((p) => p.includes(`${runner} is missing`) && p.includes('plrust install --pg-config')));
      assert.deepEqual(s.isolation, hostBefore, 'the host facts do not depend on one installation');
      const human = await runPlrust(['status'], { home });
      assert.equal(human.code, 1);
      assert.match(human.stdout, /isolation: unavailable \(the runner is not installed/);
      assert.match(human.stderr, /1 problem:[\s\S]*plrust_runner is missing/);
    } finally {
      fs.renameSync(`${runner}.away`, runner);
    }
    const again = await runPlrust(['status', '--json'], { home });
    assert.equal(again.code, 0, 'the runner back in place: intact again');
  });
});
