/**
 * The compiler's box and the check before loading, attacked the way an
 * unprivileged database role would (issue 11), in a real PostgreSQL 15
 * cluster with the real `plrust install`, `plrust compile`, bubblewrap and
 * rustc:
 * - compile-time file reads through every route we know (macro splicing,
 *   nested macros, include_bytes!, include!, #[path] rebuilt by a macro) of
 *   the data directory's global/ files, the postmaster's environment,
 *   /etc/passwd and the server's configuration files: the compile fails,
 *   and no secret appears in an error or a library;
 * - a memory bomb stops at the limit, the server and other sessions go on,
 *   and concurrent bombs never exceed plrust.max_concurrent_compiles;
 * - the queue for a compile slot honours statement_timeout;
 * - a library over plrust.max_library_size is refused;
 * - the compiler's cache stays bounded across CREATE OR REPLACE and DROP;
 * - a forged library (a constructor calling system, or making a raw system
 *   call) is refused by `plrust install --prebuilt`, and by the handler
 *   before dlopen from the prebuilt directory and from the artifact table.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { installPlrust, tempHome, type InstallJson } from '../helpers/plrust-install.js';
import { runPlrust, tempDir } from '../helpers/cli.js';

const ARCH = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
const work = fs.mkdtempSync('/tmp/plrust-confine-e2e-');
fs.chmodSync(work, 0o755);
const placed = new Set<string>([work]);
process.once('exit', () => {
  for (const p of placed) fs.rmSync(p, { recursive: true, force: true });
});

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function definitionHash(d: { strict: boolean; returns: string; args: Array<[string, string]>; body: string }): string {
  const text =
    `plrust-definition-v1\nstrict=${d.strict}\nreturns=${d.returns}\n` +
    d.args.map(([name, type]) => `arg=${name}:${type}\n`).join('') +
    `body=\n${d.body}`;
  return sha256(Buffer.from(text, 'utf8'));
}

/** A doubling macro: each step doubles the tokens, so 26 steps want far more than 1 GB. */
function memoryBomb(steps = 26): string {
  const lines = Array.from(
    { length: steps },
    (_, i) => `macro_rules! d${i} { ($($t:tt)*) => { d${i + 1}!($($t)* $($t)*) }; }`,
  );
  lines.push(`macro_rules! d${steps} { ($($t:tt)*) => { 0 }; }`);
  lines.push('Ok(Some(d0!(x x x x)))');
  return lines.join('\n');
}

/** The rustc processes started for this cluster's backends, and their resident memory. */
function rustcUnder(postmaster: number): { count: number; rssKb: number } {
  let count = 0;
  let rssKb = 0;
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (fs.readFileSync(`/proc/${name}/comm`, 'utf8').trim() !== 'rustc') continue;
      let pid = Number(name);
      let ours = false;
      for (let hops = 0; hops < 12 && pid > 1; hops++) {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (pid === postmaster) ours = true;
      }
      if (!ours) continue;
      count++;
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${name}/status`, 'utf8'));
      rssKb += m ? Number(m[1]) : 0;
    } catch {
      // the process ended while we looked
    }
  }
  return { count, rssKb };
}

/** A C library that runs code when loaded: what a forger would put where a function library goes. */
function forgedLibrary(name: string, marker: string, kind: 'system' | 'syscall'): string {
  const src = path.join(work, `${name}.c`);
  const body =
    kind === 'system'
      ? `#include <stdlib.h>\n__attribute__((constructor)) static void pwn(void) { system("touch ${marker}"); }\n`
      : // no import at all: only the initialiser count can give it away
        `__attribute__((constructor)) static void pwn(void) {\n` +
        `  long r; __asm__ volatile("syscall" : "=a"(r) : "a"(83L), "D"("${marker}"), "S"(0755L) : "rcx", "r11", "memory");\n}\n`;
  fs.writeFileSync(src, `${body}unsigned int plrust_abi_version(void) { return 1; }\n`);
  const out = path.join(work, `${name}.so`);
  execFileSync('gcc', ['-shared', '-fPIC', '-O1', '-o', out, src]);
  return out;
}

describe('the compiler box and the check before loading', () => {
  let pg: PgCluster;
  let home: string;
  let install: InstallJson;
  let postmaster: number;
  let sharedir: string;
  const secrets: Record<string, string> = {};

  before(async () => {
    home = await tempHome('confine', { toolchain: true });
    install = await installPlrust(home);
    sharedir = install.pg.sharedir;
    pg = await startCluster({ settings: { application_name: 'confine_secret_conf_4e1d' } });
    postmaster = pg.postmasterPid();
    await pg.psql(
      `CREATE EXTENSION plrust;
       CREATE ROLE mallory LOGIN; GRANT CREATE ON SCHEMA public TO mallory;
       ALTER ROLE mallory SET plrust.targets = '${ARCH}';
       CREATE ROLE victim LOGIN PASSWORD 'confine-secret-password';
       ALTER SYSTEM SET work_mem = '4321kB';
       CHECKPOINT;`,
    );
    const verifier = await pg.psql(`SELECT rolpassword FROM pg_authid WHERE rolname = 'victim'`);
    assert.match(verifier, /^SCRAM-SHA-256\$/);
    secrets.scram = verifier.split('$')[2]!.split(':')[0]!;
    secrets.passwd = 'root:x:0:0';
    secrets.environ = fs
      .readFileSync(`/proc/${postmaster}/environ`, 'utf8')
      .split('\0')
      .find((e) => e.length > 8)!;
    secrets.conf = 'confine_secret_conf_4e1d';
    secrets.auto = '4321kB';
  });

  after(async () => {
    await pg?.stop();
  });

  function assertNoSecret(text: string, what: string): void {
    for (const [name, s] of Object.entries(secrets)) assert.ok(!text.includes(s), `${what} shows the ${name} secret`);
  }

  test('no compile-time route reads a file outside the toolchain', async () => {
    const dataDir = pg.dataDir;
    const authid = (await pg.psql(`SELECT pg_relation_filepath('pg_authid')`)).trim();
    const files = [
      path.join(dataDir, authid),
      path.join(dataDir, 'global', 'pg_control'),
      `/proc/${postmaster}/environ`,
      '/etc/passwd',
      path.join(dataDir, 'postgresql.conf'),
      path.join(dataDir, 'postgresql.auto.conf'),
    ];
    for (const f of files) assert.ok(fs.existsSync(f), `${f} exists on the host`);
    const routes: Array<[string, (file: string) => string]> = [
      [
        'macro splicing include_str',
        (f) =>
          `macro_rules! splice { ($m:ident $b:tt $p:literal) => { $m $b ($p) }; }\nOk(Some(splice!(include_str ! "${f}").len() as i64))`,
      ],
      [
        'nested macros include_bytes',
        (f) =>
          `macro_rules! inner { ($m:ident, $p:expr) => { $m!($p) }; }\n` +
          `macro_rules! outer { ($a:ident $b:ident, $p:expr) => { inner!($a, $p) }; }\n` +
          `Ok(Some(outer!(include_bytes x, "${f}").len() as i64))`,
      ],
      [
        'include! rebuilt',
        (f) => `macro_rules! inc { ($m:ident $p:literal) => { $m!($p) }; }\nOk(Some(inc!(include "${f}") as i64))`,
      ],
      [
        '#[path] rebuilt by a macro',
        (f) => `macro_rules! m { ($a:meta) => { #[$a] mod leaked; }; }\nm!(path = "${f}");\nOk(Some(1))`,
      ],
    ];
    let n = 0;
    const hiddenBy = new Map<string, string[]>();
    for (const [route, body] of routes) {
      for (const f of files) {
        const name = `leak_${n++}`;
        const r = await pg.psqlResult(`CREATE FUNCTION ${name}() RETURNS int8 LANGUAGE plrust AS $x$${body(f)}$x$;`, {
          user: 'mallory',
        });
        assert.notEqual(r.code, 0, `${route} of ${f} compiled`);
        assert.match(r.stderr, /ERROR/, `${route} of ${f}`);
        assertNoSecret(r.stderr, `the error of ${route} of ${f}`);
        // past the trust checker, rustc looked for the file in the box and did not find it
        if (/couldn't read|No such file or directory/.test(r.stderr))
          hiddenBy.set(f, [...(hiddenBy.get(f) ?? []), route]);
      }
    }
    for (const f of files) assert.ok(hiddenBy.has(f), `no route reached the compiler for ${f}: the box went untested`);
    const stored = await pg.query(`SELECT count(*) FROM plrust.artifacts`);
    assert.deepEqual(stored, [['0']], 'nothing was stored');
    // the compiler's work directory holds no copy either
    for (const [name, secret] of Object.entries(secrets)) {
      const grep = spawnSync('grep', ['-rlF', secret, install.workDir], { encoding: 'utf8' });
      assert.equal(grep.stdout.trim(), '', `the ${name} secret in the work directory`);
    }
  });

  test('plrust build (as root) reads nothing outside the toolchain either', async () => {
    const src = tempDir('confine-build');
    fs.writeFileSync(
      path.join(src, 'grab.rs'),
      `macro_rules! splice { ($m:ident $b:tt $p:literal) => { $m $b ($p) }; }\n` +
        `pub fn grab() -> Option<String> { Some(splice!(include_str ! "/etc/passwd").to_string()) }\n`,
    );
    const r = await runPlrust(['build', 'grab.rs', '--target', ARCH, '--out-dir', 'out'], { home, cwd: src });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /couldn't read `\/etc\/passwd`: No such file or directory/);
    assertNoSecret(r.stderr, 'the error of plrust build');
    assert.ok(!fs.existsSync(path.join(src, 'out')));
  });

  test('plrust.compile_sandbox = off is for superusers only, warns on every compile, and the expanded check still refuses what the box would hide', async () => {
    // the validator loads the library, so its settings exist (and are reserved) in this session
    const denied = await pg.psqlResult(
      `SET check_function_bodies = off; CREATE FUNCTION loads() RETURNS int4 LANGUAGE plrust AS 'Ok(Some(1))';
       SET plrust.compile_sandbox = off;`,
      { user: 'mallory' },
    );
    assert.match(denied.stderr, /permission denied to set parameter "plrust\.compile_sandbox"/);
    const r = await pg.psqlResult(
      `LOAD 'plrust'; SET plrust.compile_sandbox = off; SET plrust.targets = '${ARCH}';
       CREATE FUNCTION unboxed() RETURNS int8 LANGUAGE plrust AS $x$
macro_rules! splice { ($m:ident $b:tt $p:literal) => { $m $b ($p) }; }
Ok(Some(splice!(include_str ! "/etc/passwd").len() as i64))
$x$;
       SELECT unboxed(); DROP FUNCTION unboxed();`,
    );
    assert.match(r.stderr, /WARNING: {2}compiling PL\/Rust function "unboxed" without the compiler sandbox/);
    // Without the box rustc could read the file (no "couldn't read"); the second wall, the check of
    // the expanded program, still refuses it and nothing of the file comes back.
    assert.doesNotMatch(r.stderr, /couldn't read/);
    assert.match(r.stderr, /forbidden-macro.*include_str!.*in the expansion of `splice!`/s);
    assertNoSecret(r.stderr, 'the error with the box off');
    assert.doesNotMatch(r.stdout, /^\d+$/m, 'the function was not created');
  });

  test('a memory bomb stops at the limit; the server and other sessions go on', async () => {
    const other = await pg.openSession();
    const started = Date.now();
    const r = await pg.psqlResult(`CREATE FUNCTION bomb() RETURNS int4 LANGUAGE plrust AS $x$${memoryBomb()}$x$;`, {
      user: 'mallory',
    });
    assert.match(
      r.stderr,
      /ERROR: {2}(expanding|compiling) bomb for \S+ exceeded the compiler's memory limit \(1 GB\)/,
    );
    assert.match(r.stderr, /HINT: .*plrust\.compile_memory_limit/);
    assert.ok(Date.now() - started < 60_000);
    assert.equal((await other.run('SELECT 41 + 1;')).stdout.trim(), '42');
    assert.equal(pg.postmasterPid(), postmaster);
    await other.close();
  });

  test('the CPU time and task limits stop a compile and name their settings', async () => {
    const cpu = await pg.psqlResult(
      `LOAD 'plrust'; SET plrust.targets = '${ARCH}'; SET plrust.compile_cpu_limit = '1s';
       SET plrust.compile_memory_limit = '6GB';
       CREATE FUNCTION spin() RETURNS int4 LANGUAGE plrust AS $x$${memoryBomb()}$x$;`,
    );
    assert.match(cpu.stderr, /ERROR: .*exceeded the compiler's CPU time limit \(1 s\)/);
    assert.match(cpu.stderr, /HINT: .*plrust\.compile_cpu_limit/);
    const tasks = await pg.psqlResult(
      `LOAD 'plrust'; SET plrust.targets = '${ARCH}'; SET plrust.compile_process_limit = 4;
       CREATE FUNCTION few() RETURNS int4 LANGUAGE plrust AS 'Ok(Some(1))';`,
    );
    assert.match(tasks.stderr, /ERROR: .*exceeded the compiler's process and thread limit \(4\)/);
    assert.match(tasks.stderr, /HINT: .*plrust\.compile_process_limit/);
  });

  test('four concurrent bombs never exceed plrust.max_concurrent_compiles', async (t) => {
    await pg.psql(`ALTER ROLE mallory SET plrust.max_concurrent_compiles = 2;`);
    let peak = { count: 0, rssKb: 0 };
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const now = rustcUnder(postmaster);
        if (now.count > peak.count) peak = { ...peak, count: now.count };
        if (now.rssKb > peak.rssKb) peak = { ...peak, rssKb: now.rssKb };
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const results = await Promise.all(
      [1, 2, 3, 4].map((i) =>
        pg.psqlResult(`CREATE FUNCTION bomb${i}() RETURNS int4 LANGUAGE plrust AS $x$${memoryBomb()}$x$;`, {
          user: 'mallory',
        }),
      ),
    );
    watching = false;
    await watcher;
    await pg.psql(`ALTER ROLE mallory RESET plrust.max_concurrent_compiles;`);
    for (const r of results) assert.match(r.stderr, /exceeded the compiler's memory limit/);
    t.diagnostic(`peak: ${peak.count} rustc processes, ${Math.round(peak.rssKb / 1024)} MB resident together`);
    assert.ok(peak.count >= 1 && peak.count <= 2, `peak ${peak.count} rustc processes`);
    assert.ok(peak.rssKb <= 2 * 1024 * 1024, `peak ${peak.rssKb} kB`);
  });

  test('waiting for a compile slot honours statement_timeout', async () => {
    const slot = path.join(install.workDir, 'plrust_compile_slot.0');
    const holder: ChildProcess = spawn('flock', ['-x', slot, 'sleep', '60'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      await pg.psql(`ALTER ROLE mallory SET plrust.max_concurrent_compiles = 1;`);
      const started = Date.now();
      const r = await pg.psqlResult(`CREATE FUNCTION queued() RETURNS int4 LANGUAGE plrust AS 'Ok(Some(1))';`, {
        user: 'mallory',
        settings: { statement_timeout: '1s' },
      });
      assert.match(r.stderr, /canceling statement due to statement timeout/);
      assert.ok(Date.now() - started < 10_000);
    } finally {
      holder.kill('SIGKILL');
      await pg.psql(`ALTER ROLE mallory RESET plrust.max_concurrent_compiles;`);
    }
    const ok = await pg.psqlResult(`CREATE FUNCTION queued() RETURNS int4 LANGUAGE plrust AS 'Ok(Some(1))';`, {
      user: 'mallory',
    });
    assert.equal(ok.code, 0, ok.stderr);
  });

  test('a library over plrust.max_library_size is refused', async () => {
    await pg.psql(`ALTER ROLE mallory SET plrust.max_library_size = '1MB';`);
    const r = await pg.psqlResult(
      `CREATE FUNCTION fat() RETURNS int8 LANGUAGE plrust AS $x$
    static BIG: [u8; 3_000_000] = [7; 3_000_000];
    Ok(Some(std::hint::black_box(&BIG).iter().map(|&b| b as i64).sum()))
$x$;`,
      { user: 'mallory' },
    );
    await pg.psql(`ALTER ROLE mallory RESET plrust.max_library_size;`);
    assert.match(r.stderr, /ERROR: .*library size limit \(1 MB\)/);
    assert.match(r.stderr, /HINT: .*plrust\.max_library_size/);
  });

  test('the compiler cache stays bounded across 100 CREATE OR REPLACE and DROP', async () => {
    const cache = path.join(install.workDir, 'cache');
    const size = () =>
      fs.existsSync(cache) ? Number(execFileSync('du', ['-sk', cache], { encoding: 'utf8' }).split('\t')[0]) * 1024 : 0;
    const entries = () => (fs.existsSync(cache) ? fs.readdirSync(cache).length : 0);
    const before = entries();
    for (let i = 0; i < 100; i++) {
      await pg.psql(
        `CREATE OR REPLACE FUNCTION churn(a int4) RETURNS int4 STRICT LANGUAGE plrust AS $x$Ok(Some(a + ${i})) // ${'x'.repeat(i)}$x$;` +
          (i % 10 === 9 ? ' DROP FUNCTION churn(int4);' : ''),
        { user: 'mallory' },
      );
    }
    // entries younger than the grace period stay for their readers; one more DROP after it removes them
    await new Promise((resolve) => setTimeout(resolve, 11_000));
    await pg.psql(
      `CREATE FUNCTION churn_last() RETURNS int4 LANGUAGE plrust AS 'Ok(Some(1))'; DROP FUNCTION churn_last();`,
      {
        user: 'mallory',
      },
    );
    assert.ok(entries() <= before + 2, `${entries()} cache entries after the churn (${before} before)`);
    assert.ok(size() < 4 * 1024 * 1024, `the cache holds ${size()} bytes`);
  });

  describe('forged libraries', () => {
    const marker = path.join(work, 'constructor-ran');
    const sig: Array<[string, string]> = [['a', 'int4']];

    test('plrust install --prebuilt refuses a forged library (exit 4) and installs nothing', async () => {
      const src = tempDir('confine-src');
      fs.writeFileSync(path.join(src, 'f.rs'), 'pub fn forged_fn(a: i32) -> Option<i32> { Some(a) }\n');
      const out = path.join(src, 'out');
      const built = await runPlrust(['build', 'f.rs', '--target', ARCH, '--out-dir', out], { home, cwd: src });
      assert.equal(built.code, 0, built.stderr);
      const fnDir = path.join(out, 'forged_fn');
      const metaFile = fs.readdirSync(fnDir).find((f) => f.endsWith('.json'))!;
      const meta = JSON.parse(fs.readFileSync(path.join(fnDir, metaFile), 'utf8')) as {
        library: string;
        sha256: string;
      };
      const prebuiltRoot = path.join(sharedir, 'plrust', 'prebuilt');
      const before = fs.existsSync(prebuiltRoot) ? fs.readdirSync(prebuiltRoot).sort() : [];
      for (const kind of ARCH === 'x86_64' ? (['system', 'syscall'] as const) : (['system'] as const)) {
        // the forger controls the metadata too, so its checksum matches
        const forged = forgedLibrary(`prebuilt-${kind}`, marker, kind);
        fs.copyFileSync(forged, path.join(fnDir, meta.library));
        fs.writeFileSync(
          path.join(fnDir, metaFile),
          JSON.stringify({ ...meta, sha256: sha256(fs.readFileSync(forged)) }),
        );
        const r = await runPlrust(['install', '--pg-config', pg.pgConfig, '--prebuilt', out], { home });
        assert.equal(r.code, 4, r.stderr);
        assert.match(r.stderr, kind === 'system' ? /system/ : /2 initialisers \(a plrust library has 1\)/);
        const after = fs.existsSync(prebuiltRoot) ? fs.readdirSync(prebuiltRoot).sort() : [];
        assert.deepEqual(after, before);
      }
      assert.ok(!fs.existsSync(marker));
    });

    test('a truncated library is refused by the bounds-checked reader, and the server stays up', async () => {
      await pg.psql(
        `LOAD 'plrust'; SET plrust.targets = '${ARCH}';
         CREATE FUNCTION whole(a int4) RETURNS int4 STRICT LANGUAGE plrust AS 'Ok(Some(a))';`,
      );
      const [[hex]] = (await pg.query(
        `SELECT encode(library, 'hex') FROM plrust.artifacts
          WHERE definition_hash = plrust.definition_hash('whole(int4)') AND arch = '${ARCH}'`,
      )) as [[string]];
      const library = Buffer.from(hex, 'hex');
      for (const [i, len] of [63, 64, 1000, 4096, library.length >> 1].entries()) {
        const cut = library.subarray(0, len);
        const file = path.join(work, `cut-${i}.so`);
        fs.writeFileSync(file, cut);
        fs.chmodSync(file, 0o644);
        const r = await pg.psqlResult(
          `SET check_function_bodies = off;
           CREATE FUNCTION cut_${i}(a int4) RETURNS int4 STRICT LANGUAGE plrust AS $x$Ok(a) // cut ${i}$x$;
           INSERT INTO plrust.artifacts (definition_hash, arch, abi_version, toolchain, sha256, library)
             VALUES (plrust.definition_hash('cut_${i}(int4)'), '${ARCH}', 2, 'cut', '${sha256(cut)}',
                     pg_read_binary_file('${file}'));
           SELECT cut_${i}(1);`,
        );
        assert.match(r.stderr, /ERROR: {2}refusing to load the library of PL\/Rust function "cut_/, `cut at ${len}`);
      }
      // the section headers at the end are what the loader never reads, and neither does the check
      const tail = library.subarray(0, library.length - 64);
      const tailFile = path.join(work, 'cut-tail.so');
      fs.writeFileSync(tailFile, tail);
      fs.chmodSync(tailFile, 0o644);
      const tailed = await pg.psqlResult(
        `SET check_function_bodies = off;
         CREATE FUNCTION cut_tail(a int4) RETURNS int4 STRICT LANGUAGE plrust AS 'Ok(a) // tail';
         INSERT INTO plrust.artifacts (definition_hash, arch, abi_version, toolchain, sha256, library)
           VALUES (plrust.definition_hash('cut_tail(int4)'), '${ARCH}', 2, 'cut', '${sha256(tail)}',
                   pg_read_binary_file('${tailFile}'));`,
      );
      assert.equal(tailed.code, 0, tailed.stderr);
      // the library is whole()'s: same signature, its body runs
      assert.equal(await pg.psql('SELECT cut_tail(5)'), '5');
      assert.equal(await pg.psql('SELECT whole(7)'), '7');
      assert.equal(pg.postmasterPid(), postmaster);
    });

    for (const kind of ['system', 'syscall'] as const) {
      test(`the handler refuses a forged library (${kind}) before dlopen, prebuilt or stored`, async (t) => {
        if (kind === 'syscall' && ARCH !== 'x86_64') return t.skip('the raw system call is written for x86_64');
        const forged = forgedLibrary(`forged-${kind}`, marker, kind);
        const bytes = fs.readFileSync(forged);

        const body = `Ok(a) // planted ${kind}`;
        const hash = definitionHash({ strict: true, returns: 'int4', args: sig, body });
        const dir = path.join(sharedir, 'plrust', 'prebuilt', hash);
        fs.mkdirSync(dir, { recursive: true });
        placed.add(dir);
        fs.writeFileSync(path.join(dir, `${ARCH}.so`), bytes);
        fs.writeFileSync(path.join(dir, `${ARCH}.so.sha256`), `${sha256(bytes)}  ${ARCH}.so\n`);
        const planted = await pg.psqlResult(
          `LOAD 'plrust'; SET plrust.compiler = ''; SET check_function_bodies = off;
           CREATE FUNCTION planted_${kind}(a int4) RETURNS int4 STRICT LANGUAGE plrust AS $x$${body}$x$;
           SELECT planted_${kind}(1);`,
        );
        assert.match(planted.stderr, /ERROR: {2}refusing to load the library of PL\/Rust function "planted_/);
        assert.match(planted.stderr, kind === 'system' ? /system|initialisers/ : /initialisers/);
        assert.ok(!fs.existsSync(marker), 'the constructor ran');
        fs.rmSync(dir, { recursive: true, force: true });

        const stored = await pg.psqlResult(
          `SET check_function_bodies = off;
           CREATE FUNCTION stored_${kind}(a int4) RETURNS int4 STRICT LANGUAGE plrust AS $x$Ok(a) // stored ${kind}$x$;
           INSERT INTO plrust.artifacts (definition_hash, arch, abi_version, toolchain, sha256, library)
             VALUES (plrust.definition_hash('stored_${kind}(int4)'), '${ARCH}', 2, 'forged', '${sha256(bytes)}',
                     pg_read_binary_file('${forged}'));
           SELECT stored_${kind}(1);`,
        );
        assert.match(stored.stderr, /ERROR: {2}refusing to load the library of PL\/Rust function "stored_/);
        assert.ok(!fs.existsSync(marker), 'the constructor ran');
      });
    }
  });
});
