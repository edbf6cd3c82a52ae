/**
 * PL/Rust on a real arm64 PostgreSQL 15 (Debian's arm64 build under
 * qemu-aarch64, test/helpers/aarch64-pg.ts): `plrust install` cross-builds
 * the handler into that installation, `plrust doctor` recognises it, and the
 * end-to-end SQL checks of the x86_64 handler tests pass there, with every
 * function compiled by the validator through the toolchain's aarch64 target.
 * The emulated server is 10-13x slower than native, so the checks are
 * batched into few round trips.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseJson, runPlrust } from '../helpers/cli.js';
import { sharedToolchain } from '../helpers/toolchain.js';
import {
  aarch64Environment,
  aarch64SkipReason,
  freshServerWorkDir,
  startAarch64Cluster,
  type Aarch64Cluster,
  type Aarch64Environment,
} from '../helpers/aarch64-pg.js';

const EM_AARCH64 = 183;

/** e_machine of an ELF file, read directly: an oracle independent of plrust's ELF parser. */
function elfMachine(bytes: Buffer): number {
  assert.equal(bytes.subarray(0, 4).toString('latin1'), '\x7fELF');
  return bytes.readUInt16LE(18);
}

function backendMaps(pid: string): string {
  // qemu-user maps the guest's files into the host process, under their host paths.
  return readFileSync(`/proc/${pid}/maps`, 'utf8');
}

interface InstallJson {
  pg: { arch: string; pkglibdir: string; sharedir: string };
  files: { path: string; role: string }[];
}

describe('PL/Rust on an arm64 PostgreSQL 15 under qemu-aarch64', { skip: aarch64SkipReason() ?? false }, () => {
  let env: Aarch64Environment;
  let home: string;
  let install: InstallJson;
  let pg: Aarch64Cluster;
  let postmaster: number;

  before(async () => {
    [env, { home }] = await Promise.all([aarch64Environment(), sharedToolchain()]);
    const r = await runPlrust(['install', '--pg-config', env.pgConfig, '--json'], { home, timeoutMs: 5 * 60_000 });
    assert.equal(r.code, 0, r.stderr);
    install = parseJson<InstallJson>(r);
    // Compile for this server's architecture only (the x86_64 target has its own suite), with an empty compile cache.
    pg = await startAarch64Cluster({
      settings: { 'plrust.targets': 'aarch64', 'plrust.work_dir': freshServerWorkDir() },
    });
    postmaster = pg.postmasterPid();
  });

  after(async () => {
    await pg?.stop();
  });

  test('plrust install cross-builds an aarch64 handler and installs it inside that installation', () => {
    assert.equal(install.pg.arch, 'aarch64');
    assert.equal(install.pg.pkglibdir, join(env.root, 'usr/lib/postgresql/15/lib'));
    const handler = install.files.find((f) => f.role === 'handler');
    assert.equal(handler?.path, join(install.pg.pkglibdir, 'plrust.so'));
    assert.equal(elfMachine(readFileSync(handler!.path)), EM_AARCH64);
    for (const f of install.files) assert.ok(f.path.startsWith(`${env.root}/`), `${f.path} is inside the root`);
  });

  test('plrust doctor reports a foreign aarch64 installation and checks its cross compiler', async () => {
    const r = await runPlrust(['doctor', '--pg-config', env.pgConfig, '--json'], { home });
    const { findings } = parseJson<{ findings: { id: string; status: string; detail: string }[] }>(r);
    const byId = new Map(findings.map((f) => [f.id, f]));
    assert.equal(findings.length, byId.size, 'finding ids are unique');
    assert.equal(byId.get('pg_config')?.status, 'ok');
    assert.match(
      byId.get('pg_config')!.detail,
      /PostgreSQL 15\.\d+ .*a foreign aarch64 installation: the handler is cross-built with aarch64-linux-gnu-gcc/,
    );
    assert.equal(byId.get('pgxs')?.status, 'ok');
    assert.equal(byId.get('pgxs')?.detail, join(env.root, 'usr/include/postgresql/15/server'));
    assert.deepEqual(
      [byId.get('handler-cc-aarch64')?.status, byId.get('handler-cc-aarch64')?.detail],
      ['ok', '/usr/bin/aarch64-linux-gnu-gcc with the C library in /usr/aarch64-linux-gnu'],
    );
  });

  test("the installation's bare arm64 pg_config is recognised as foreign, with what to do about it", async () => {
    // Without QEMU_LD_PREFIX, qemu (through binfmt_misc) cannot find the arm64 dynamic loader.
    const r = await runPlrust(['doctor', '--pg-config', `${env.pgConfig}.aarch64`, '--json'], {
      home,
      env: { QEMU_LD_PREFIX: undefined },
    });
    const pgConfig = parseJson<{ findings: { id: string; status: string; detail: string; fix?: string }[] }>(
      r,
    ).findings.find((f) => f.id === 'pg_config');
    assert.equal(pgConfig?.status, 'fail');
    assert.match(pgConfig!.detail, /pg_config\.aarch64 is an aarch64 program and did not run on this x86_64 machine/);
    assert.match(pgConfig!.fix ?? '', /QEMU_LD_PREFIX/);
  });

  test('the emulated server finds the extension in its own relocated directories; an unprivileged role creates it', async () => {
    const out = await pg.psql(
      `SELECT version();
       SELECT setting FROM pg_config WHERE name IN ('PKGLIBDIR', 'SHAREDIR') ORDER BY name;
       CREATE ROLE alice LOGIN; GRANT CREATE ON DATABASE postgres TO alice; GRANT CREATE ON SCHEMA public TO alice;`,
    );
    const [version, pkglibdir, sharedir] = out.split('\n');
    assert.match(version!, /^PostgreSQL 15\.\d+ .* on aarch64-unknown-linux-gnu/);
    assert.deepEqual([pkglibdir, sharedir], [install.pg.pkglibdir, install.pg.sharedir]);
    const created = await pg.psql(
      `CREATE EXTENSION plrust; SELECT extversion FROM pg_extension WHERE extname = 'plrust';`,
      { user: 'alice' },
    );
    assert.equal(created, '0.1');
  });

  test('CREATE FUNCTION compiles an aarch64 library that runs from a sealed memfd; 100,000 calls in one statement', async () => {
    const s = await pg.openSession({ user: 'alice' });
    const r = await s.run(
      `CREATE FUNCTION add(a int4, b int4) RETURNS int4 STRICT LANGUAGE plrust AS $$ Ok(a.checked_add(b)) $$;
       SELECT add(1, 2), add(NULL, 2) IS NULL;
       SELECT sum(add(i, 1)) FROM generate_series(1, 100000) i;
       SELECT arch || ':' || get_byte(library, 18) + 256 * get_byte(library, 19) FROM plrust.artifacts
        WHERE definition_hash = plrust.definition_hash('add(int4,int4)');
       SELECT pg_backend_pid();`,
    );
    assert.equal(r.stderr, '');
    const [first, sum, artifact, pid] = r.stdout.trim().split('\n');
    assert.deepEqual([first, sum, artifact], ['3|t', '5000150000', `aarch64:${EM_AARCH64}`]);
    const maps = backendMaps(pid!);
    assert.match(maps, /\/memfd:plrust:add \(deleted\)/);
    assert.ok(maps.includes(join(install.pg.pkglibdir, 'plrust.so')), "the backend loaded the root's handler");
    await s.close();
  });

  test('every supported type goes in and comes out, with NULLs and arrays', async () => {
    const identity: Record<string, { body: string; values: string[] }> = {
      bool: { body: 'Ok(x)', values: ['true', 'NULL'] },
      int2: { body: 'Ok(x)', values: ['-32768', '32767'] },
      int4: { body: 'Ok(x)', values: ['-2147483648', 'NULL'] },
      int8: { body: 'Ok(x)', values: ['9223372036854775807', '-1'] },
      float4: { body: 'Ok(x)', values: ['1.5', `'NaN'`, `'-Infinity'`] },
      float8: { body: 'Ok(x)', values: ['1e308', '-0.5', 'NULL'] },
      text: { body: 'Ok(x.map(String::from))', values: [`'héllo wörld ✓'`, `''`, 'NULL'] },
      varchar: { body: 'Ok(x.map(String::from))', values: [`'abc'`] },
      bytea: { body: 'Ok(x.map(|b| b.to_vec()))', values: [`'\\x00ff10'`, `''`] },
      'bool[]': { body: 'Ok(x.map(|v| v.into_iter().collect()))', values: [`'{t,f,NULL}'`] },
      'int2[]': { body: 'Ok(x.map(|v| v.into_iter().collect()))', values: [`'{1,NULL,-3}'`] },
      'int4[]': { body: 'Ok(x.map(|v| v.into_iter().collect()))', values: [`'{1,NULL,3}'`, `'{}'`, 'NULL'] },
      'int8[]': { body: 'Ok(x.map(|v| v.into_iter().collect()))', values: [`'{9223372036854775807,NULL}'`] },
      'float4[]': { body: 'Ok(x.map(|v| v.into_iter().collect()))', values: [`'{1.25,NULL,NaN}'`] },
      'float8[]': { body: 'Ok(x.map(|v| v.into_iter().collect()))', values: [`'{1.5,NULL,-2}'`] },
      'text[]': {
        body: 'Ok(x.map(|v| v.into_iter().map(|e| e.map(String::from)).collect()))',
        values: [`'{"a b",NULL,"ü",""}'`],
      },
      'bytea[]': {
        body: 'Ok(x.map(|v| v.into_iter().map(|e| e.map(|b| b.to_vec())).collect()))',
        values: [`'{"\\\\x00ff",NULL}'`],
      },
    };
    const name = (type: string): string => `ident_${type.replace('[]', '_arr')}`;
    const creates: string[] = [];
    const checks: string[] = [];
    for (const [type, { body, values }] of Object.entries(identity)) {
      creates.push(`CREATE FUNCTION ${name(type)}(x ${type}) RETURNS ${type} LANGUAGE plrust AS $$ ${body} $$;`);
      for (const v of values) {
        const [got, want] = [`${name(type)}((${v})::${type})::text`, `((${v})::${type})::text`];
        checks.push(
          `SELECT format('%s %s -> %s', '${type}', ${`'${v.replace(/'/g, "''")}'`}, CASE WHEN ${got} IS NOT DISTINCT FROM ${want} ` +
            `THEN 'same' ELSE coalesce(${got}, 'NULL') || ' instead of ' || coalesce(${want}, 'NULL') END);`,
        );
      }
    }
    await pg.psql(creates.join('\n'), { user: 'alice' });
    const lines = (await pg.psql(checks.join('\n'))).split('\n');
    assert.equal(lines.length, checks.length);
    for (const line of lines) assert.match(line, / -> same$/, line);
    assert.match(
      (await pg.psqlResult(`SELECT ident_int4_arr('{{1,2},{3,4}}');`)).stderr,
      /ERROR: {2}PL\/Rust functions accept only one-dimensional arrays\n(.*\n)*CONTEXT: {2}PL\/Rust function "ident_int4_arr"\n/,
    );
  });

  test('an Err and a panic raise an ERROR and roll back; the session carries on', async () => {
    await pg.psql(
      `CREATE TABLE rollback_probe (x int);
       CREATE FUNCTION checked_div(a int8, b int8) RETURNS int8 STRICT LANGUAGE plrust AS $$
    if b == 0 {
        return Err("division by zero is not allowed here".into());
    }
    Ok(Some(a / b))
$$;
       CREATE FUNCTION boom(a int4) RETURNS int4 STRICT LANGUAGE plrust AS $$
    if a > 2 { panic!("boom {}", a); }
    Ok(Some(a))
$$;`,
    );
    const s = await pg.openSession();
    const pid = (await s.run('SELECT pg_backend_pid();')).stdout.trim();
    const err = await s.run(`BEGIN; INSERT INTO rollback_probe VALUES (1); SELECT checked_div(1, 0); COMMIT;`);
    assert.match(
      err.stderr,
      /ERROR: {2}division by zero is not allowed here\nCONTEXT: {2}PL\/Rust function "checked_div"\n/,
    );
    const panic = await s.run(`BEGIN; INSERT INTO rollback_probe VALUES (2); SELECT boom(3); COMMIT;`);
    assert.match(
      panic.stderr,
      /ERROR: {2}boom 3\nDETAIL: {2}The function panicked at \S*:2:\d+\.\nCONTEXT: {2}PL\/Rust function "boom"\n/,
    );
    const after = await s.run(
      'SELECT count(*) FROM rollback_probe; SELECT boom(2), checked_div(7, 2), add(20, 22); SELECT pg_backend_pid();',
    );
    assert.equal(after.stderr, '');
    assert.deepEqual(after.stdout.trim().split('\n'), ['0', '2|3|42', pid]);
    await s.close();
  });

  test('CREATE OR REPLACE in one session is seen by the next call in another', async () => {
    await pg.psql(
      `CREATE FUNCTION swap(a int4, b int4) RETURNS int4 STRICT LANGUAGE plrust AS $$ Ok(a.checked_add(b)) $$;`,
    );
    const other = await pg.openSession({ user: 'alice' });
    assert.equal((await other.run('SELECT swap(2, 3);')).stdout.trim(), '5');
    await pg.psql(
      `CREATE OR REPLACE FUNCTION swap(a int4, b int4) RETURNS int4 STRICT LANGUAGE plrust AS $$ Ok(a.checked_mul(b)) $$;`,
    );
    assert.equal((await other.run('SELECT swap(2, 3);')).stdout.trim(), '6');
    // The replaced definition's artifact is gone, so a restore could not resurrect it.
    assert.equal(
      await pg.psql(
        `SELECT count(*) FROM plrust.artifacts WHERE definition_hash = plrust.definition_hash('swap(int4,int4)');`,
      ),
      '1',
    );
    await other.close();
  });

  test('a body rustc rejects for aarch64 fails CREATE FUNCTION with the line number in the body', async () => {
    const r = await pg.psqlResult(
      `CREATE FUNCTION c_bad(a int4) RETURNS int4 STRICT LANGUAGE plrust AS $$
    let n: i32 = a;
    let s: i32 = "not a number";
    Ok(Some(n + s))
$$;`,
      { user: 'alice' },
    );
    assert.match(r.stderr, /ERROR: {2}c_bad does not compile\n.*DETAIL: {2}line 3:\d+: mismatched types/);
    assert.match(r.stderr, /CONTEXT: {2}compiling PL\/Rust function "c_bad"/);
    assert.equal(await pg.psql(`SELECT count(*) FROM pg_proc WHERE proname = 'c_bad';`), '0');
  });

  test('no function took the server down', () => {
    assert.equal(pg.postmasterPid(), postmaster);
    assert.doesNotMatch(
      pg.logText(),
      /terminated by signal|server process .* was terminated|qemu: uncaught target signal/,
    );
  });
});
