import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseJson, runPlrust, tempDir } from '../helpers/cli.js';

describe('plrust CLI conventions', () => {
  test('--help lists every command and exits 0', async () => {
    const r = await runPlrust(['--help']);
    assert.equal(r.code, 0);
    for (const cmd of [
      'config',
      'doctor',
      'status',
      'toolchain',
      'build',
      'compile',
      'verify',
      'install',
      'uninstall',
      'sandbox',
    ]) {
      assert.match(r.stdout, new RegExp(`^  ${cmd}\\b`, 'm'), `--help should list ${cmd}`);
    }
  });

  test('every command has its own --help', async () => {
    for (const cmd of [
      ['config'],
      ['doctor'],
      ['status'],
      ['toolchain'],
      ['toolchain', 'install'],
      ['toolchain', 'list'],
      ['toolchain', 'show'],
      ['toolchain', 'remove'],
      ['toolchain', 'default'],
      ['build'],
      ['compile'],
      ['verify'],
      ['install'],
      ['uninstall'],
      ['sandbox'],
    ]) {
      const r = await runPlrust([...cmd, '--help']);
      assert.equal(r.code, 0, `${cmd.join(' ')} --help: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`Usage: plrust ${cmd.join(' ')}`), `${cmd.join(' ')} --help shows its usage`);
    }
  });

  test('--version prints the package version', async () => {
    const r = await runPlrust(['--version']);
    assert.equal(r.code, 0);
    const pkg = JSON.parse(
      fs.readFileSync(path.join(import.meta.dirname ?? '.', '..', '..', '..', 'package.json'), 'utf8'),
    ) as { version: string };
    assert.equal(r.stdout.trim(), pkg.version);
  });

  test('an unknown command is a one-line usage error with exit 2', async () => {
    const r = await runPlrust(['toolchian']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /unknown command 'toolchian'/);
  });

  test('a misspelled option is a one-line usage error with exit 2', async () => {
    const r = await runPlrust(['config', '--jsn']);
    assert.equal(r.code, 2);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /unknown option '--jsn'/);
    assert.match(lines[0]!, /--json/, 'suggests the right option');
  });

  test('usage errors are JSON with --json', async () => {
    const r = await runPlrust(['--json', 'frobnicate']);
    assert.equal(r.code, 2);
    const doc = parseJson<{ ok: boolean; error: { code: string; message: string } }>(r);
    assert.equal(doc.ok, false);
    assert.equal(doc.error.code, 'USAGE');
    assert.match(doc.error.message, /frobnicate/);
  });
});

describe('plrust config', () => {
  test('resolves flags > env > project > global > defaults, and says where each came from', async () => {
    const dir = tempDir('config');
    const project = path.join(dir, 'proj', 'sub');
    const xdg = path.join(dir, 'xdg');
    fs.mkdirSync(project, { recursive: true });
    fs.mkdirSync(path.join(xdg, 'plrust'), { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'proj', '.plrustrc.json'),
      JSON.stringify({ outDir: 'out-from-project', downloadRetries: 7, targets: ['x86_64'] }),
    );
    fs.writeFileSync(
      path.join(xdg, 'plrust', 'config.yaml'),
      'downloadRetries: 9\ndownloadTimeoutMs: 1234\ndistServer: http://global.example/\n',
    );
    const r = await runPlrust(['config', '--json', '--home', path.join(dir, 'flag-home')], {
      cwd: project,
      env: {
        XDG_CONFIG_HOME: xdg,
        HOME: dir,
        PLRUST_DIST_SERVER: 'http://env.example/',
        PLRUST_HOME: path.join(dir, 'env-home'),
      },
    });
    assert.equal(r.code, 0, r.stderr);
    const doc = parseJson<{
      values: Record<string, unknown>;
      sources: Record<string, { source: string; origin?: string }>;
    }>(r);
    assert.equal(doc.values.home, path.join(dir, 'flag-home'));
    assert.equal(doc.sources.home!.source, 'flag');
    assert.equal(doc.values.distServer, 'http://env.example/');
    assert.deepEqual(doc.sources.distServer, { source: 'env', origin: 'PLRUST_DIST_SERVER' });
    assert.equal(doc.values.downloadRetries, 7);
    assert.equal(doc.sources.downloadRetries!.source, 'project');
    assert.equal(doc.sources.downloadRetries!.origin, path.join(dir, 'proj', '.plrustrc.json'));
    assert.deepEqual(doc.values.targets, ['x86_64']);
    assert.equal(doc.values.downloadTimeoutMs, 1234);
    assert.equal(doc.sources.downloadTimeoutMs!.source, 'global');
    assert.equal(doc.sources.pgConfig!.source, 'default');
  });

  test('package.json#plrust is a project config', async () => {
    const dir = tempDir('pkgcfg');
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'x', plrust: { outDir: 'from-pkg' } }));
    const r = await runPlrust(['config', '--json'], {
      cwd: dir,
      env: { HOME: dir, XDG_CONFIG_HOME: path.join(dir, 'none') },
    });
    assert.equal(r.code, 0, r.stderr);
    const doc = parseJson<{
      values: Record<string, unknown>;
      sources: Record<string, { source: string; origin?: string }>;
    }>(r);
    assert.equal(doc.values.outDir, 'from-pkg');
    assert.equal(doc.sources.outDir!.origin, path.join(dir, 'package.json'));
  });

  test('a wrong type in a config file is a one-line error naming file, key, expected and got; exit 2', async () => {
    const dir = tempDir('badcfg');
    const file = path.join(dir, '.plrustrc.json');
    fs.writeFileSync(file, JSON.stringify({ downloadRetries: 'many' }));
    const r = await runPlrust(['config'], { cwd: dir, env: { HOME: dir, XDG_CONFIG_HOME: path.join(dir, 'none') } });
    assert.equal(r.code, 2);
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('hint:'));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, new RegExp(file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.match(lines[0]!, /downloadRetries/);
    assert.match(lines[0]!, /expected an integer/);
    assert.match(lines[0]!, /got "many"/);
  });

  test('an unknown key in a config file is refused with exit 2', async () => {
    const dir = tempDir('unkcfg');
    fs.writeFileSync(path.join(dir, '.plrustrc.json'), JSON.stringify({ rustcc: '/usr/bin/rustc' }));
    const r = await runPlrust(['config', '--json'], {
      cwd: dir,
      env: { HOME: dir, XDG_CONFIG_HOME: path.join(dir, 'none') },
    });
    assert.equal(r.code, 2);
    const doc = parseJson<{ ok: boolean; error: { code: string; message: string } }>(r);
    assert.equal(doc.error.code, 'CONFIG_INVALID');
    assert.match(doc.error.message, /unknown key "rustcc"/);
  });

  test('an invalid PLRUST_TARGETS is a usage error', async () => {
    const r = await runPlrust(['config'], { env: { PLRUST_TARGETS: 'x86_64,sparc' } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /PLRUST_TARGETS.*sparc/);
  });
});

describe('plrust doctor', () => {
  test('--json reports every check with a status, and passes on this machine', async () => {
    const home = tempDir('doctor');
    const r = await runPlrust(['doctor', '--json', '--pg-config', '/usr/lib/postgresql/15/bin/pg_config'], { home });
    const doc = parseJson<{ ok: boolean; findings: { id: string; status: string; detail: string }[] }>(r);
    const ids = doc.findings.map((f) => f.id);
    for (const id of [
      'node',
      'rustc',
      'cargo',
      'rust-src',
      'linker-x86_64',
      'linker-aarch64',
      'qemu',
      'pg_config',
      'pgxs',
      'home',
      'sandbox',
    ])
      assert.ok(ids.includes(id), `doctor checks ${id}`);
    assert.equal(
      doc.ok,
      true,
      JSON.stringify(
        doc.findings.filter((f) => f.status !== 'ok'),
        null,
        2,
      ),
    );
    assert.equal(r.code, 0);
    assert.match(doc.findings.find((f) => f.id === 'pg_config')!.detail, /PostgreSQL 15/);
  });

  test('a missing pg_config given explicitly fails with the fix and a non-zero exit', async () => {
    const home = tempDir('doctor2');
    const r = await runPlrust(['doctor', '--json', '--pg-config', '/nonexistent/pg_config'], { home });
    assert.notEqual(r.code, 0);
    const doc = parseJson<{ ok: boolean; findings: { id: string; status: string; fix?: string }[] }>(r);
    assert.equal(doc.ok, false);
    const f = doc.findings.find((x) => x.id === 'pg_config')!;
    assert.equal(f.status, 'fail');
    assert.match(f.fix ?? '', /--pg-config/);
  });

  test('a compiler that does not exist is reported with the fix', async () => {
    const home = tempDir('doctor3');
    const r = await runPlrust(['doctor'], { home, env: { PLRUST_RUSTC: '/nonexistent/rustc' } });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /FAIL\s+Rust compiler: rustc not found at \/nonexistent\/rustc/);
    assert.match(r.stdout, /fix: .*--rustc/);
  });
});
