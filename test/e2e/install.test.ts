/**
 * `plrust install` / `plrust uninstall` against the real PostgreSQL 15
 * installation: the plan, the files, the defaults that make CREATE
 * EXTENSION work without a postgresql.conf edit, idempotence, the marked
 * postgresql.conf block, prebuilt artifacts on a server without a compiler,
 * and an uninstall that leaves the installation's trees as they were. The
 * tests run in order and build on each other (install → reinstall → …).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PLRUST_BIN, REPO_ROOT, cleanEnv, parseJson, runPlrust, tempDir } from '../helpers/cli.js';
import { PG_CONFIG, startCluster, type PgCluster } from '../helpers/pg-cluster.js';
import {
  installPlrust,
  tempHome,
  treeChecksums,
  treeDiff,
  uninstallPlrust,
  type InstallJson,
} from '../helpers/plrust-install.js';
import { BEGIN_MARK, END_MARK } from '../../src/install/conf.js';
import { sha256File } from '../../src/util/sha256.js';

const pgConfigValue = (flag: string) => execFileSync(PG_CONFIG, [flag], { encoding: 'utf8' }).trim();
const PKGLIBDIR = pgConfigValue('--pkglibdir');
const SHAREDIR = pgConfigValue('--sharedir');
const MAJOR = pgConfigValue('--version').match(/PostgreSQL (\d+)/)![1]!;

const installationTrees = () => treeChecksums([PKGLIBDIR, SHAREDIR]);

const PREBUILT_SQL = `CREATE FUNCTION prebuilt_mul(a int8, b int8) RETURNS int8 STRICT LANGUAGE plrust AS $$
    Ok(Some(a * b))
$$;
`;

describe('plrust install and uninstall into PostgreSQL 15', () => {
  let home: string;
  let initial: Map<string, string>;
  let pg: PgCluster;
  let noCompiler: PgCluster | undefined;
  let confBefore: Buffer;
  let first: InstallJson;

  before(async () => {
    home = await tempHome('install', { toolchain: true });
    initial = installationTrees();
  });

  after(async () => {
    await pg?.stop();
    await noCompiler?.stop();
  });

  test('--dry-run --json prints the plan and changes nothing', async () => {
    const r = await runPlrust(['install', '--pg-config', PG_CONFIG, '--dry-run', '--json'], { home });
    assert.equal(r.code, 0, r.stderr);
    const plan = parseJson<InstallJson>(r);
    assert.equal(plan.dryRun, true);
    const dests = plan.files.map((f) => f.dest);
    for (const dest of [
      path.join(PKGLIBDIR, 'plrust.so'),
      path.join(SHAREDIR, 'extension', 'plrust.control'),
      path.join(SHAREDIR, 'extension', 'plrust--0.1.sql'),
      path.join(SHAREDIR, 'extension', 'plrust.defaults'),
    ]) {
      assert.ok(dests.includes(dest), `the plan writes ${dest}: ${dests.join(', ')}`);
    }
    assert.deepEqual(
      plan.compiler,
      [process.execPath, PLRUST_BIN],
      'absolute paths of node and plrust, recorded for the server',
    );
    assert.deepEqual(treeDiff(initial, installationTrees()), []);
    assert.equal(fs.existsSync(plan.manifest), false, 'no manifest written');
    assert.equal(fs.existsSync(plan.workDir), false, 'no work directory created');
  });

  test('install, then CREATE EXTENSION works in a fresh cluster with no postgresql.conf edit', async () => {
    first = await installPlrust(home);
    assert.equal(first.dryRun, false);
    const manifest = JSON.parse(fs.readFileSync(first.manifest, 'utf8')) as {
      files: { path: string; sha256: string }[];
    };
    for (const f of manifest.files)
      assert.equal(await sha256File(f.path), f.sha256, `the manifest records ${f.path} as written`);
    assert.ok(manifest.files.some((f) => f.path === path.join(PKGLIBDIR, 'plrust.so')));
    // the isolation runner beside it (docs/ISOLATION.md), executable by the server
    assert.ok(manifest.files.some((f) => f.path === path.join(PKGLIBDIR, 'plrust_runner')));
    assert.equal(fs.statSync(path.join(PKGLIBDIR, 'plrust_runner')).mode & 0o777, 0o755);

    pg = await startCluster();
    assert.doesNotMatch(fs.readFileSync(path.join(pg.dataDir, 'postgresql.conf'), 'utf8'), /^\s*plrust\./m);
    await pg.psql('CREATE EXTENSION plrust');
    // The defaults recorded beside the handler are what the server uses.
    assert.deepEqual(
      await pg.query(`LOAD 'plrust'; SELECT current_setting('plrust.compiler'), current_setting('plrust.work_dir')`),
      [[first.compiler.join(','), first.workDir]],
    );
    await pg.psql(`CREATE FUNCTION add(a int, b int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(a + b)) $$;`);
    assert.equal(await pg.psql('SELECT add(1, 2)'), '3');
  });

  test('a second install is idempotent: every file unchanged', async () => {
    const afterFirst = installationTrees();
    const again = await installPlrust(home);
    const changed = again.files.filter((f) => f.action !== 'unchanged').map((f) => `${f.action} ${f.path}`);
    assert.deepEqual(changed, []);
    assert.deepEqual(treeDiff(afterFirst, installationTrees()), []);
  });

  test('a toolchain the server cannot read is copied into the installation, compiles there, and goes with uninstall', async () => {
    const unreadable = await tempHome('install-private', { toolchain: true, serverReadable: false });
    const before = installationTrees();
    const r = await installPlrust(unreadable);
    const copyHome = path.join(SHAREDIR, 'plrust', 'home');
    assert.equal(r.serverHome, copyHome);
    assert.ok(
      r.notes.some((n) => n.includes('cannot read')),
      r.notes.join('\n'),
    );
    assert.ok(r.files.filter((f) => f.role === 'toolchain').length > 10, 'the toolchain files are part of the install');
    await pg.psql(`CREATE DATABASE copied; ALTER DATABASE copied SET plrust.targets = 'x86_64';`);
    const db = { db: 'copied' };
    await pg.psql(
      `CREATE EXTENSION plrust; CREATE FUNCTION sub(a int, b int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(a - b)) $$;`,
      db,
    );
    assert.deepEqual(await pg.query(`SELECT sub(5, 3), current_setting('plrust.home')`, db), [['2', copyHome]]);
    await uninstallPlrust(unreadable);
    assert.deepEqual(
      treeDiff(before, installationTrees()),
      [],
      "the copy is gone and the first install's files are back",
    );
    assert.equal(await pg.psql('SELECT add(1, 2)'), '3', 'the first install serves again');
  });

  test('a plrust package the server cannot read is copied into the installation, compiles there, and goes with uninstall', async () => {
    // As with a checkout in root's home: the postgres user cannot enter the directory.
    const privateDir = tempDir('private-cli');
    fs.chmodSync(privateDir, 0o700);
    const pkg = path.join(privateDir, 'plrust');
    fs.mkdirSync(pkg);
    // What npm would ship (package.json "files"), so a new top-level folder cannot be forgotten here.
    const shipped = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { files: string[] })
      .files;
    for (const part of ['package.json', 'node_modules', ...shipped]) {
      fs.mkdirSync(path.dirname(path.join(pkg, part)), { recursive: true });
      fs.cpSync(path.join(REPO_ROOT, part), path.join(pkg, part), { recursive: true, verbatimSymlinks: true });
    }
    const home = await tempHome('install-private-cli', { toolchain: true });
    const before = installationTrees();
    const run = (args: string[]) =>
      spawnSync(
        process.execPath,
        [path.join(pkg, 'bin', 'plrust'), '--home', home, '--json', ...args, '--pg-config', PG_CONFIG],
        { encoding: 'utf8', env: cleanEnv() },
      );
    const r = run(['install']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as InstallJson;
    const cliCopy = path.join(SHAREDIR, 'plrust', 'cli');
    assert.deepEqual(report.compiler, [process.execPath, path.join(cliCopy, 'bin', 'plrust')]);
    assert.ok(
      report.notes.some((n) => n.includes(`the plrust CLI is copied to ${cliCopy}`)),
      report.notes.join('\n'),
    );
    await pg.psql(`CREATE DATABASE cli_copy; ALTER DATABASE cli_copy SET plrust.targets = 'x86_64';`);
    const db = { db: 'cli_copy' };
    await pg.psql(
      `CREATE EXTENSION plrust; CREATE FUNCTION twice(a int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(a * 2)) $$;`,
      db,
    );
    assert.deepEqual(await pg.query(`SELECT twice(21), current_setting('plrust.compiler')`, db), [
      ['42', `${process.execPath},${path.join(cliCopy, 'bin', 'plrust')}`],
    ]);
    const u = run(['uninstall']);
    assert.equal(u.status, 0, u.stdout + u.stderr);
    assert.equal(fs.existsSync(cliCopy), false, 'the copy goes with uninstall');
    assert.deepEqual(treeDiff(before, installationTrees()), []);
  });

  test("--pgdata writes plrust's marked block (with a backup), idempotently, and says a reload is needed", async () => {
    const conf = path.join(pg.dataDir, 'postgresql.conf');
    confBefore = fs.readFileSync(conf);
    const owner = fs.statSync(conf).uid;
    const r = await runPlrust(['install', '--pg-config', PG_CONFIG, '--pgdata', pg.dataDir], { home });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(
      r.stdout.includes(`${conf}: added — reload the server for it to take effect (SELECT pg_reload_conf())`),
      r.stdout,
    );
    const manifest = JSON.parse(fs.readFileSync(first.manifest, 'utf8')) as {
      conf: { pgdata: string; backup: string }[];
    };
    const record = manifest.conf.find((c) => c.pgdata === pg.dataDir);
    assert.ok(record, 'the install record names the cluster');
    assert.deepEqual(fs.readFileSync(record.backup), confBefore, 'the backup is the file as it was');
    const text = fs.readFileSync(conf, 'utf8');
    assert.ok(text.startsWith(confBefore.toString('utf8')), 'nothing outside the block changed');
    const block = text.slice(text.indexOf(BEGIN_MARK), text.indexOf(END_MARK) + END_MARK.length);
    assert.match(block, new RegExp(`^plrust\\.work_dir = '${first.workDir}'$`, 'm'));
    assert.match(block, /^plrust\.compiler = '\/.*'$/m);
    assert.equal(fs.statSync(conf).uid, owner, 'postgresql.conf keeps its owner');

    const again = await installPlrust(home, ['--pgdata', pg.dataDir]);
    assert.equal(again.conf?.change, 'unchanged');
    assert.equal(again.conf?.takeEffect, 'nothing');
    assert.equal(fs.readFileSync(conf, 'utf8'), text, 'a second run changes nothing');

    // The server accepts the block: a reload reads it without complaint.
    await pg.psql('SELECT pg_reload_conf()');
    const applied = await pg.query(
      `SELECT count(*) FROM pg_file_settings WHERE name LIKE 'plrust.%' AND applied AND error IS NULL`,
    );
    assert.deepEqual(applied, [['3']]);
  });

  test('a prebuilt artifact is used without compiling on a server without a compiler', async () => {
    const work = tempDir('install-prebuilt');
    fs.writeFileSync(path.join(work, 'prebuilt.sql'), PREBUILT_SQL);
    const build = await runPlrust(['build', 'prebuilt.sql'], { home, cwd: work, timeoutMs: 5 * 60_000 });
    assert.equal(build.code, 0, build.stderr);
    const r = await installPlrust(home, ['--prebuilt', path.join(work, 'target', 'plrust')]);
    const prebuilt = r.files.filter((f) => f.role === 'prebuilt');
    assert.ok(prebuilt.length >= 2, 'the library and its checksum, per target');

    noCompiler = await startCluster({ settings: { 'plrust.compiler': '' } });
    await noCompiler.psql('CREATE EXTENSION plrust');
    assert.equal(await noCompiler.psql(`SELECT current_setting('plrust.compiler') = ''`), 't');
    const definition = fs.readFileSync(path.join(work, 'target', 'plrust', 'functions.sql'), 'utf8');
    await noCompiler.psql(definition);
    assert.equal(await noCompiler.psql('SELECT prebuilt_mul(6, 7)'), '42');

    const other = await noCompiler.psqlResult(definition.replace('a * b', 'a * b + 1'));
    assert.notEqual(other.code, 0);
    assert.match(other.stderr, /ERROR: .*cannot compile the function because plrust\.compiler is not set/);
    assert.match(other.stderr, /CONTEXT: {2}compilation of PL\/Rust function "prebuilt_mul"\n/);
    assert.match(other.stderr, /No prebuilt artifact/);
    assert.equal(await noCompiler.psql('SELECT prebuilt_mul(6, 7)'), '42', 'the prebuilt function is still in place');
  });

  test("uninstall restores postgresql.conf byte for byte and leaves the installation's trees as before install", async () => {
    const report = await uninstallPlrust(home);
    assert.deepEqual(report.warnings, []);
    assert.deepEqual(
      report.conf.map((c) => [c.file, c.change, c.takeEffect]),
      [[path.join(pg.dataDir, 'postgresql.conf'), 'removed', 'reload']],
    );
    assert.deepEqual(fs.readFileSync(path.join(pg.dataDir, 'postgresql.conf')), confBefore);
    assert.deepEqual(treeDiff(initial, installationTrees()), []);
    assert.equal(fs.existsSync(first.workDir), false, "the server's work directory is gone");
    assert.equal(fs.existsSync(first.manifest), false, 'the install record is gone');
  });

  test(`missing server headers: the message names postgresql-server-dev-${MAJOR}`, async () => {
    // A real pg_config-shaped program: the installation's own answers, except an empty server include dir.
    const dir = tempDir('install-noheaders');
    const empty = path.join(dir, 'include-server');
    fs.mkdirSync(empty);
    const wrapper = path.join(dir, 'pg_config');
    fs.writeFileSync(
      wrapper,
      `#!/bin/sh
if [ "$1" = "--includedir-server" ]; then echo '${empty}'; exit 0; fi
if [ "$#" -gt 0 ]; then exec '${PG_CONFIG}' "$@"; fi
'${PG_CONFIG}' | sed 's|^INCLUDEDIR-SERVER = .*|INCLUDEDIR-SERVER = ${empty}|'
`,
      { mode: 0o755 },
    );
    const r = await runPlrust(['install', '--pg-config', wrapper], { home });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`apt-get install postgresql-server-dev-${MAJOR}`));
    assert.match(r.stderr, new RegExp(`no postgres\\.h in ${empty}`));
    const json = parseJson<{ ok: boolean; error: { code: string } }>(
      await runPlrust(['install', '--pg-config', wrapper, '--json'], { home }),
    );
    assert.equal(json.error.code, 'PG_SERVER_DEV_MISSING');
    assert.deepEqual(treeDiff(initial, installationTrees()), [], 'nothing was installed');
  });

  test('a nonexistent --pg-config is a usage error (exit 2) naming the flag', async () => {
    const missing = '/nonexistent/bin/pg_config';
    const r = await runPlrust(['install', '--pg-config', missing], { home });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--pg-config/);
    assert.ok(r.stderr.includes(missing), r.stderr);
  });
});
