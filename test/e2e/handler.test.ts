/**
 * End-to-end tests of the PL/Rust language handler (handler) in a
 * real PostgreSQL 15 cluster, installed with the real `plrust install
 * --pg-config` and the suite's shared toolchain: the extension, settings,
 * validator, artifact store and the call path.
 *
 * Most call-path tests run hand-written function libraries: plain Rust
 * implementing docs/ABI.md, compiled here with /usr/bin/rustc against the
 * shared toolchain's restricted sysroot, stored as artifacts of functions
 * created without compiling. They give exact control over what the handler
 * is handed (a corrupted artifact, a wrong ABI version or signature, every
 * value of every type) and go through exactly what a generated library
 * does: the artifact table or the prebuilt directory, the sha256 and ELF
 * checks, the sealed memfd, the signature check, plrust_init, conversions,
 * the status codes. The last group compiles with the real `plrust compile`;
 * test/e2e/faults.test.ts covers run-time faults with real functions.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { installPlrust, tempHome, uninstallPlrust, type InstallJson } from '../helpers/plrust-install.js';
import { getTestSysroot } from '../helpers/std-sysroot.js';

const execFileP = promisify(execFile);

const ARCH = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
const RUSTC = '/usr/bin/rustc';
const work = mkdtempSync('/tmp/plrust-handler-e2e-');
// the server's OS user reads the test libraries from here
chmodSync(work, 0o755);
/** Prebuilt artifacts this test puts into the PostgreSQL installation, removed however the test ends. */
const placed = new Set<string>();
process.once('exit', () => {
  for (const path of [work, ...placed]) rmSync(path, { recursive: true, force: true });
});

/** The definition hash of docs/COMPILE.md, computed independently of the handler. */
function definitionHash(d: { strict: boolean; returns: string; args: Array<[string, string]>; body: string }): string {
  const text =
    `plrust-definition-v1\nstrict=${d.strict}\nreturns=${d.returns}\n` +
    d.args.map(([name, type]) => `arg=${name}:${type}\n`).join('') +
    `body=\n${d.body}`;
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

type Kind = 'add' | 'mul' | 'reverse' | 'ident' | 'void' | 'fault';

interface LibSpec {
  kind: Kind;
  /** The SQL function the library is built for (its signature). */
  name: string;
  args: Array<[string, string]>;
  returns: string;
  strict: boolean;
}

/** Compiles a hand-written library for spec; returns its path (readable by the server). */
async function buildLibrary(tool: { sysroot: string; spec: string }, file: string, spec: LibSpec): Promise<string> {
  const signature = JSON.stringify({
    name: spec.name,
    args: spec.args.map(([name, type]) => ({ name, type })),
    returns: spec.returns,
    strict: spec.strict,
  });
  const scalar = spec.kind === 'ident' ? spec.returns.replace('[]', '') : '';
  const source =
    `const KIND: &str = "${spec.kind}";\n` +
    `const ARRAY: bool = ${spec.returns.endsWith('[]')};\n` +
    `const BYTES: bool = ${['text', 'varchar', 'bytea'].includes(scalar)};\n` +
    `static SIGNATURE: &str = concat!(r#"${signature}"#, "\\0");\n` +
    RUST_LIBRARY;
  const src = join(work, 'libs', `${file}.rs`);
  const out = join(work, 'libs', `${file}.so`);
  writeFileSync(src, source);
  await execFileP(
    RUSTC,
    [
      '-Zunstable-options',
      '--sysroot',
      tool.sysroot,
      '--target',
      tool.spec,
      '--crate-type',
      'cdylib',
      '--edition',
      '2021',
      '-C',
      'opt-level=1',
      '-C',
      'panic=unwind',
      src,
      '-o',
      out,
    ],
    { env: { ...process.env, RUSTC_BOOTSTRAP: '1' }, maxBuffer: 16 << 20 },
  );
  return out;
}

/** Runs jobs two at a time: the machine has two cores. */
async function inPairs<T>(jobs: Array<() => Promise<T>>): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all([worker(), worker()]);
  return results;
}

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** For a session that must see no compiler (plrust install configures one). */
const NO_COMPILER = `LOAD 'plrust'; SET plrust.compiler = '';`;

describe('PL/Rust language handler in PostgreSQL 15', () => {
  let pg: PgCluster;
  let postmaster: number;
  let sharedir: string;
  let home: string;
  let install: InstallJson;

  before(async () => {
    home = await tempHome('handler', { toolchain: true });
    install = await installPlrust(home);
    sharedir = install.pg.sharedir;
    pg = await startCluster();
    postmaster = pg.postmasterPid();
    await pg.psql(
      'CREATE ROLE alice LOGIN; CREATE ROLE bob LOGIN;' +
        'GRANT CREATE ON DATABASE postgres TO alice; GRANT CREATE ON SCHEMA public TO bob;',
    );
    await pg.psql('CREATE EXTENSION plrust;', { user: 'alice' });
  });

  after(async () => {
    await pg?.stop();
  });

  test('an unprivileged role installs a trusted language whose artifact table only superusers can write', async () => {
    const rows = await pg.query(
      `SELECT l.lanpltrusted, r.rolsuper, e.extowner::regrole, e.extconfig::regclass[]
         FROM pg_language l, pg_extension e, pg_class c JOIN pg_roles r ON r.oid = c.relowner
        WHERE l.lanname = 'plrust' AND e.extname = 'plrust' AND c.oid = 'plrust.artifacts'::regclass`,
    );
    assert.deepEqual(rows, [['t', 't', 'alice', '{plrust.artifacts}']]);

    const planted = await pg.psqlResult(
      `INSERT INTO plrust.artifacts VALUES (repeat('a', 64), 'x86_64', 1, 'x', repeat('a', 64), '\\x00');`,
      { user: 'alice' },
    );
    assert.match(planted.stderr, /permission denied for table artifacts/);
    const bobs = await pg.psqlResult(`DELETE FROM plrust.artifacts; UPDATE plrust.artifacts SET library = '';`, {
      user: 'bob',
    });
    assert.match(bobs.stderr, /permission denied for table artifacts/);
    // readable by all, so that any role's pg_dump can carry it
    assert.equal(await pg.psql('SELECT count(*) FROM plrust.artifacts;', { user: 'bob' }), '0');
    assert.deepEqual(await pg.query(`SELECT evtevent FROM pg_event_trigger WHERE evtname = 'plrust_sql_drop'`), [
      ['sql_drop'],
    ]);
  });

  test('an artifact table a non-superuser owns is refused: its owner would decide what code backends run', async () => {
    const owner = await pg.psql(`SELECT relowner::regrole FROM pg_class WHERE oid = 'plrust.artifacts'::regclass`);
    await pg.psql('ALTER TABLE plrust.artifacts OWNER TO alice;');
    try {
      const r = await pg.psqlResult(
        `CREATE FUNCTION owned_probe(a int4) RETURNS int4 STRICT LANGUAGE plrust AS 'Ok(Some(a))';`,
        { user: 'bob' },
      );
      assert.match(
        r.stderr,
        /ERROR: {2}the PL\/Rust artifact table must be owned by a superuser\nDETAIL: {2}Table plrust\.artifacts is owned by role "alice", which is not a superuser\.\nHINT: {2}Make a superuser its owner with ALTER TABLE plrust\.artifacts OWNER TO\.\nCONTEXT: {2}compilation of PL\/Rust function "owned_probe"\n/,
      );
      assert.deepEqual(await pg.query(`SELECT count(*) FROM pg_proc WHERE proname = 'owned_probe'`), [['0']]);
    } finally {
      await pg.psql(`ALTER TABLE plrust.artifacts OWNER TO ${owner};`);
    }
  });

  describe('settings', () => {
    test('plrust install records the defaults beside the extension; the others are built in; settings override them', async () => {
      const defaults = readFileSync(join(sharedir, 'extension', 'plrust.defaults'), 'utf8');
      const targets = /^plrust\.targets = '([^']*)'$/m.exec(defaults)?.[1];
      assert.ok(targets !== undefined, defaults);
      const shown = await pg.query(
        `LOAD 'plrust'; SELECT current_setting('plrust.targets'), current_setting('plrust.memory_limit'),
           current_setting('plrust.compile_timeout'), current_setting('plrust.compiler'),
           current_setting('plrust.home'), current_setting('plrust.work_dir');`,
      );
      assert.deepEqual(shown, [
        [targets, '128MB', '2min', install.compiler.join(','), install.serverHome ?? '', install.workDir],
      ]);
      const overridden = await pg.psql(
        `LOAD 'plrust'; SET plrust.memory_limit = '32MB'; SET plrust.targets = 'x86_64'; SHOW plrust.memory_limit; SHOW plrust.targets;`,
      );
      assert.equal(overridden, '32MB\nx86_64');
    });

    test('bad lines in the defaults file are ignored with a WARNING that says why; the other values apply', async () => {
      const file = join(sharedir, 'extension', 'plrust.defaults');
      const original = readFileSync(file, 'utf8');
      try {
        writeFileSync(
          file,
          `${original}\nplrust.memory_limit = lots\nno equals sign\nplrust.colour = 'red'\nplrust.targets = 'x86_64,x86_64'\n`,
        );
        const r = await pg.psqlResult(`LOAD 'plrust'; SHOW plrust.memory_limit; SHOW plrust.targets;`);
        const targets = /^plrust\.targets = '([^']*)'$/m.exec(original)?.[1] ?? 'x86_64,aarch64';
        assert.equal(r.stdout.trim(), `128MB\n${targets}`, r.stderr);
        for (const expected of [
          /WARNING: {2}ignoring invalid value "lots" for plrust.memory_limit in the PL\/Rust defaults file\nDETAIL: {2}The value must lie between 0 kB and 2147483647 kB\.\n/,
          /WARNING: {2}ignoring line "no equals sign" in the PL\/Rust defaults file "[^"]+"\nDETAIL: {2}Each line must have the form name = value\.\n/,
          /WARNING: {2}ignoring unknown setting "plrust.colour" in the PL\/Rust defaults file "[^"]+"\n/,
          /WARNING: {2}ignoring invalid value "x86_64,x86_64" for plrust.targets in the PL\/Rust defaults file\nDETAIL: {2}Each target may be listed once\.\n/,
        ])
          assert.match(r.stderr, expected);
      } finally {
        writeFileSync(file, original);
      }
    });

    let probes = 0;
    test('only superusers change them, and values are checked', async () => {
      const asBob = (sql: string): Promise<{ stderr: string }> =>
        pg.psqlResult(
          `SET check_function_bodies = off;
           CREATE FUNCTION bob_probe_${++probes}(a int4) RETURNS int4 LANGUAGE plrust AS 'Ok(None)';
           ${sql}`,
          { user: 'bob' },
        );
      assert.match(
        (await asBob(`SET plrust.compiler = '/bin/sh';`)).stderr,
        /permission denied to set parameter "plrust.compiler"/,
      );
      assert.match(
        (await asBob(`SET plrust.memory_limit = '1GB';`)).stderr,
        /permission denied to set parameter "plrust.memory_limit"/,
      );
      assert.match(
        (await asBob(`SET plrust.home = '/tmp';`)).stderr,
        /permission denied to set parameter "plrust.home"/,
      );

      const relative = await pg.psqlResult(`LOAD 'plrust'; SET plrust.compiler = 'node';`);
      assert.match(relative.stderr, /invalid value for parameter "plrust.compiler"[\s\S]*absolute path/);
      const target = await pg.psqlResult(`LOAD 'plrust'; SET plrust.targets = 'x86_64,sparc';`);
      assert.match(target.stderr, /invalid value for parameter "plrust.targets"/);
      const twice = await pg.psqlResult(`LOAD 'plrust'; SET plrust.targets = 'aarch64,x86_64,aarch64';`);
      assert.match(
        twice.stderr,
        /invalid value for parameter "plrust.targets"[^\n]*\nDETAIL: {2}Each target may be listed once\.\n/,
      );
      const command = await pg.psql(
        `LOAD 'plrust'; SET plrust.compiler = '/usr/bin/node', '/opt/plrust/bin/plrust'; SHOW plrust.compiler;`,
      );
      assert.equal(command, '/usr/bin/node, /opt/plrust/bin/plrust');
    });
  });

  describe('validator', () => {
    test('check_function_bodies = off creates a function without compiling; without a compiler, calling it fails clearly', async () => {
      await pg.psql(
        `SET check_function_bodies = off;
         CREATE FUNCTION bob_add(a int4, b int4) RETURNS int4 STRICT LANGUAGE plrust AS 'Ok(Some(a + b))';`,
        { user: 'bob' },
      );
      assert.deepEqual(
        await pg.query(
          `SELECT count(*) FROM plrust.artifacts WHERE definition_hash = plrust.definition_hash('bob_add(int4,int4)')`,
        ),
        [['0']],
      );
      const r = await pg.psqlResult(`${NO_COMPILER} SELECT bob_add(1, 2);`);
      assert.match(r.stderr, /ERROR: {2}no compiled library for (x86_64|aarch64)\n/);
      assert.match(r.stderr, /HINT: {2}Set plrust.compiler/);
      assert.match(r.stderr, /CONTEXT: {2}PL\/Rust function "bob_add"\n/);
      assert.deepEqual(await pg.query(`SELECT count(*) FROM pg_proc WHERE proname = 'bob_add'`), [['1']]);
    });

    test('with bodies checked and neither compiler nor prebuilt artifact, CREATE FUNCTION fails', async () => {
      const r = await pg.psqlResult(
        `${NO_COMPILER} CREATE FUNCTION bob_add2(a int4) RETURNS int4 STRICT LANGUAGE plrust AS 'Ok(Some(a))';`,
      );
      assert.match(r.stderr, /ERROR: {2}cannot compile the function because plrust.compiler is not set\n/);
      assert.match(r.stderr, /CONTEXT: {2}compilation of PL\/Rust function "bob_add2"\n/);
      assert.deepEqual(await pg.query(`SELECT count(*) FROM pg_proc WHERE proname = 'bob_add2'`), [['0']]);
    });

    test('the compiler runs by absolute path, under a timeout, and dies with a cancelled statement', async () => {
      const running = (): string[] =>
        readdirSync('/proc')
          .filter((p) => /^\d+$/.test(p))
          .map((p) => {
            try {
              return readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
            } catch {
              return '';
            }
          })
          .filter((cmd) => cmd === '/usr/bin/yes compile');
      const create = (n: number): string =>
        `CREATE FUNCTION comp_${n}(a int4) RETURNS int4 STRICT LANGUAGE plrust AS 'Ok(Some(a))';`;

      const missing = await pg.psqlResult(`SET plrust.compiler = '/nonexistent/plrust'; ${create(1)}`);
      assert.match(
        missing.stderr,
        /ERROR: {2}plrust compile failed \(exit status 127\)\n.*DETAIL: {2}\/nonexistent\/plrust: No such file or directory/,
      );

      // `yes` never finishes and never answers: what a hung compiler looks like to the handler
      // (without a work directory it gets no options to choke on).
      const yes = `SET plrust.compiler = '/usr/bin/yes'; SET plrust.work_dir = '';`;
      const hung = await pg.psqlResult(`${yes} SET plrust.compile_timeout = '1s'; ${create(2)}`);
      assert.match(hung.stderr, /ERROR: {2}plrust compile did not finish within 1 s/);
      assert.deepEqual(running(), []);

      const cancelled = await pg.psqlResult(`${yes} SET statement_timeout = '300ms'; ${create(3)}`);
      assert.match(cancelled.stderr, /ERROR: {2}canceling statement due to statement timeout/);
      assert.deepEqual(running(), []);
      assert.deepEqual(await pg.query(`SELECT count(*) FROM pg_proc WHERE proname LIKE 'comp\\_%'`), [['0']]);
    });

    test('unsupported signatures are refused even when bodies are not checked, naming the function', async () => {
      // [signature, SQLSTATE, primary message, DETAIL or null]
      const cases: Array<[string, string, string, string | null]> = [
        [
          'u1(x macaddr) RETURNS int4',
          '0A000',
          'PL/Rust does not support type macaddr',
          'The supported types are bool, int2, int4, int8, float4, float8, text, varchar, bytea, ' +
            '"char", oid, date, time, timetz, timestamp, timestamptz, interval, uuid, point, box, tid, cstring, ' +
            'numeric, json, jsonb, inet, int4range, int8range, numrange, daterange, tsrange, tstzrange, enums (as text), ' +
            'named composite types and domains over them, record (as an argument), one-dimensional arrays of these, ' +
            'anyelement and anyarray, and void as the result type.',
        ],
        [
          'u2(x int4, OUT y int4)',
          '0A000',
          'PL/Rust functions support only IN arguments',
          'OUT, INOUT and VARIADIC arguments are not supported; RETURNS TABLE is.',
        ],
        [
          'u3(int4) RETURNS int4',
          '42P13',
          'argument 1 has no name',
          'The body of a PL/Rust function refers to its arguments by name.',
        ],
        ['u4(x int4) RETURNS SETOF void', '0A000', 'PL/Rust functions cannot return SETOF void', null],
        ['u5() RETURNS event_trigger', '0A000', 'PL/Rust does not support type event_trigger', null],
        ['u6(x void) RETURNS int4', '0A000', 'PL/Rust functions cannot take arguments of type void', null],
        ['"u7"("x y" int4) RETURNS int4', '42602', 'argument name "x y" is not a valid Rust identifier', null],
      ];
      for (const [signature, sqlstate, message, detail] of cases) {
        const name = /^"?(\w+)/.exec(signature)?.[1] ?? '';
        const r = await pg.psqlResult(
          `\\set VERBOSITY verbose\nSET check_function_bodies = off; CREATE FUNCTION ${signature} LANGUAGE plrust AS 'Ok(None)';`,
        );
        assert.ok(r.stderr.includes(`ERROR:  ${sqlstate}: ${message}\n`), `${signature}: ${r.stderr}`);
        if (detail !== null) assert.ok(r.stderr.includes(`\nDETAIL:  ${detail}\n`), `${signature}: ${r.stderr}`);
        assert.ok(r.stderr.includes(`\nCONTEXT:  compilation of PL/Rust function "${name}"\n`), r.stderr);
        assert.deepEqual(await pg.query(`SELECT count(*) FROM pg_proc WHERE proname = '${name}'`), [['0']]);
      }
    });

    test('the definition hash equals the one docs/COMPILE.md defines, and ignores the name', async () => {
      const cases = [
        {
          create: `CREATE FUNCTION h1(a int4, b int4) RETURNS int4 STRICT LANGUAGE plrust AS $$Ok(Some(a + b))$$`,
          signature: 'h1(int4,int4)',
          def: {
            strict: true,
            returns: 'int4',
            args: [
              ['a', 'int4'],
              ['b', 'int4'],
            ] as Array<[string, string]>,
            body: 'Ok(Some(a + b))',
          },
        },
        {
          create: `CREATE FUNCTION h2(names text[], flag boolean) RETURNS void LANGUAGE plrust AS $$\n    // grüße ✓\n    let _ = (names, flag);\n    Ok(Some(()))\n$$`,
          signature: 'h2(text[],bool)',
          def: {
            strict: false,
            returns: 'void',
            args: [
              ['names', 'text[]'],
              ['flag', 'bool'],
            ] as Array<[string, string]>,
            body: '\n    // grüße ✓\n    let _ = (names, flag);\n    Ok(Some(()))\n',
          },
        },
        {
          create: `CREATE FUNCTION h3(v varchar, b bytea, f float8, g real, s smallint, l bigint) RETURNS bytea[] LANGUAGE plrust AS 'Ok(None)'`,
          signature: 'h3(varchar,bytea,float8,float4,int2,int8)',
          def: {
            strict: false,
            returns: 'bytea[]',
            args: [
              ['v', 'varchar'],
              ['b', 'bytea'],
              ['f', 'float8'],
              ['g', 'float4'],
              ['s', 'int2'],
              ['l', 'int8'],
            ] as Array<[string, string]>,
            body: 'Ok(None)',
          },
        },
      ];
      for (const c of cases) {
        const hash = await pg.psql(
          `SET check_function_bodies = off; ${c.create}; SELECT plrust.definition_hash('${c.signature}');`,
        );
        assert.equal(hash, definitionHash(c.def), c.signature);
      }
      const renamed = await pg.psql(
        `ALTER FUNCTION h1(int4,int4) RENAME TO h1_renamed; SELECT plrust.definition_hash('h1_renamed(int4,int4)');`,
      );
      assert.equal(renamed, definitionHash(cases[0]!.def));
      // STRICT is part of the compiled binding: ALTER cannot change it (as upstream), other ALTERs work
      const refused = await pg.psqlResult(
        `\\set VERBOSITY verbose\nALTER FUNCTION h1_renamed(int4,int4) CALLED ON NULL INPUT;`,
      );
      assert.match(
        refused.stderr,
        /ERROR: {2}0A000: cannot change the strictness of PL\/Rust function public\.h1_renamed\n/,
      );
      const altered = await pg.psql(
        `ALTER FUNCTION h1_renamed(int4,int4) IMMUTABLE COST 5; SELECT plrust.definition_hash('h1_renamed(int4,int4)');`,
      );
      assert.equal(altered, definitionHash(cases[0]!.def));
      assert.equal(
        await pg.psql(
          `CREATE FUNCTION sql_one(int) RETURNS int LANGUAGE sql AS 'SELECT 1'; ALTER FUNCTION sql_one STRICT; SELECT 'ok'`,
        ),
        'ok',
        'other languages are left alone',
      );

      // what any role can ask: a function that does not exist, one this handler cannot describe
      const verbose = (sql: string) => pg.psqlResult(`\\set VERBOSITY verbose\n${sql}`, { user: 'bob' });
      const nothing = await verbose('SELECT plrust.definition_hash(4000000000::oid::regprocedure);');
      assert.match(nothing.stderr, /ERROR: {2}42883: function with OID 4000000000 does not exist\n/);
      const foreign = await verbose(`SELECT plrust.definition_hash('pg_catalog.lower(text)');`);
      assert.match(
        foreign.stderr,
        /ERROR: {2}42P13: argument 1 has no name\n(.*\n)*CONTEXT: {2}definition hash of function "lower"\n/,
      );
    });
  });

  describe('loading and calling function libraries', () => {
    const TYPES = ['bool', 'int2', 'int4', 'int8', 'float4', 'float8', 'text', 'varchar', 'bytea'];
    const identName = (type: string): string => `ident_${type.replace('[]', '_arr')}`;
    const libs = new Map<string, string>();
    const lib = (name: string): string => libs.get(name) ?? assert.fail(`no library ${name}`);

    /** Creates a function without compiling and stores a library as its artifact. */
    async function define(create: string, signature: string, library: string, db?: string): Promise<void> {
      await pg.psql(`SET check_function_bodies = off; ${create};`, { db });
      await store(signature, library, { db });
    }

    async function store(
      signature: string,
      library: string,
      opts: { sha256?: string; abi?: number; db?: string } = {},
    ): Promise<void> {
      await pg.psql(
        `INSERT INTO plrust.artifacts (definition_hash, arch, abi_version, toolchain, sha256, library)
         VALUES (plrust.definition_hash(${sqlString(signature)}), '${ARCH}', ${opts.abi ?? 2}, 'hand-written',
                 '${opts.sha256 ?? sha256(readFileSync(library))}', pg_read_binary_file(${sqlString(library)}))
         ON CONFLICT (definition_hash, arch) DO UPDATE
           SET sha256 = excluded.sha256, library = excluded.library, abi_version = excluded.abi_version;`,
        { db: opts.db },
      );
    }

    before(async () => {
      const tool = await getTestSysroot(ARCH);
      mkdirSync(join(work, 'libs'), { recursive: true, mode: 0o755 });
      const specs: Array<[string, LibSpec]> = [
        [
          'add',
          {
            kind: 'add',
            name: 'add',
            args: [
              ['a', 'int4'],
              ['b', 'int4'],
            ],
            returns: 'int4',
            strict: true,
          },
        ],
        [
          'mul',
          {
            kind: 'mul',
            name: 'mul',
            args: [
              ['a', 'int4'],
              ['b', 'int4'],
            ],
            returns: 'int4',
            strict: true,
          },
        ],
        ['rev', { kind: 'reverse', name: 'rev', args: [['t', 'text']], returns: 'text', strict: false }],
        ['touch', { kind: 'void', name: 'touch', args: [], returns: 'void', strict: false }],
        [
          'fault',
          {
            kind: 'fault',
            name: 'fault',
            args: [
              ['mode', 'text'],
              ['n', 'int8'],
            ],
            returns: 'int8',
            strict: true,
          },
        ],
        ...[...TYPES, ...TYPES.map((t) => `${t}[]`)].map((type): [string, LibSpec] => [
          identName(type),
          { kind: 'ident', name: identName(type), args: [['x', type]], returns: type, strict: false },
        ]),
      ];
      const built = await inPairs(
        specs.map(
          ([file, spec]) =>
            () =>
              buildLibrary(tool, file, spec),
        ),
      );
      specs.forEach(([file], i) => libs.set(file, built[i]!));

      await define(
        `CREATE FUNCTION add(a int4, b int4) RETURNS int4 STRICT LANGUAGE plrust AS 'Ok(Some(a + b))'`,
        'add(int4,int4)',
        lib('add'),
      );
      await define(
        `CREATE FUNCTION fault(mode text, n int8) RETURNS int8 STRICT LANGUAGE plrust AS 'fault'`,
        'fault(text,int8)',
        lib('fault'),
      );
    });

    test('a stored artifact runs from a sealed memfd, in PL/Rust memory contexts; 100,000 calls in one statement', async () => {
      const s = await pg.openSession();
      const r = await s.run(
        `SELECT add(1, 2); SELECT add(NULL, 2) IS NULL; SELECT sum(add(i, 1)) FROM generate_series(1, 100000) i; SELECT pg_backend_pid();`,
      );
      assert.equal(r.stderr, '');
      const [three, isNull, sum, pid] = r.stdout.trim().split('\n');
      assert.deepEqual([three, isNull, sum], ['3', 't', '5000150000']);
      const maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
      assert.match(maps, /\/memfd:plrust:add \(deleted\)/);
      assert.doesNotMatch(maps, /libs\/add\.so/);
      const contexts = await s.run(
        `SELECT name || ':' || coalesce(ident, '') FROM pg_backend_memory_contexts WHERE name LIKE 'PL/Rust%' ORDER BY 1;`,
      );
      for (const expected of ['PL/Rust:', 'PL/Rust arguments:', 'PL/Rust function:add']) {
        assert.ok(contexts.stdout.split('\n').includes(expected), `${expected} in\n${contexts.stdout}`);
      }
      await s.close();
    });

    test('every supported type goes in and comes out, with NULLs and arrays', async () => {
      const values: Record<string, string[]> = {
        bool: ['true', 'false', 'NULL'],
        int2: ['-32768', '32767'],
        int4: ['-2147483648', '2147483647', 'NULL'],
        int8: ['-9223372036854775808', '9223372036854775807'],
        float4: ['1.5', `'NaN'`, `'-Infinity'`],
        float8: ['1e308', '-0.5', `'Infinity'`],
        text: [`'héllo wörld ✓'`, `''`, 'NULL'],
        varchar: [`'abc'`],
        bytea: [`'\\x00ff10'`, `''`],
        'bool[]': [`'{t,f,NULL}'`],
        'int2[]': [`'{1,NULL,-3}'`],
        'int4[]': [`'{1,NULL,3}'`, `'{}'`, 'NULL'],
        'int8[]': [`'{9223372036854775807,NULL}'`],
        'float4[]': [`'{1.25,NULL}'`],
        'float8[]': [`'{1.5,NULL,-2}'`],
        'text[]': [`'{"a b",NULL,"ü",""}'`],
        'varchar[]': [`'{x,y}'`],
        'bytea[]': [`'{"\\\\x00ff",NULL}'`],
      };
      const checks: string[] = [];
      for (const [type, inputs] of Object.entries(values)) {
        const name = identName(type);
        await define(
          `CREATE FUNCTION ${name}(x ${type}) RETURNS ${type} LANGUAGE plrust AS 'identity'`,
          `${name}(${type})`,
          lib(name),
        );
        for (const v of inputs) {
          const [got, want] = [`${name}((${v})::${type})::text`, `((${v})::${type})::text`];
          checks.push(
            `SELECT format('%s %s -> %s', '${type}', ${sqlString(v)}, CASE WHEN ${got} IS NOT DISTINCT FROM ${want} ` +
              `THEN 'same' ELSE coalesce(${got}, 'NULL') || ' instead of ' || coalesce(${want}, 'NULL') END);`,
          );
        }
      }
      const out = await pg.psql(checks.join('\n'));
      const lines = out.split('\n');
      assert.equal(lines.length, checks.length);
      for (const line of lines) assert.match(line, / -> same$/, line);

      const flat = await pg.psqlResult(`SELECT ident_int4_arr('{{1,2},{3,4}}');`);
      assert.match(
        flat.stderr,
        /ERROR: {2}PL\/Rust functions accept only one-dimensional arrays\nDETAIL: {2}Argument 1 has 2 dimensions\.\nCONTEXT: {2}PL\/Rust function "ident_int4_arr"\n/,
      );

      await define(`CREATE FUNCTION rev(t text) RETURNS text LANGUAGE plrust AS 'reverse'`, 'rev(text)', lib('rev'));
      await define(`CREATE FUNCTION touch() RETURNS void LANGUAGE plrust AS 'Ok(Some(()))'`, 'touch()', lib('touch'));
      assert.equal(
        await pg.psql(`SELECT rev('héllo ✓'), rev(NULL) IS NULL, touch() IS NULL, pg_typeof(touch());`),
        '✓ olléh|t|f|void',
      );
    });

    test('in a LATIN1 database, text reaches function code as UTF-8 and comes back converted', async () => {
      await pg.psql(`CREATE DATABASE latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;`);
      await pg.psql('CREATE EXTENSION plrust;', { db: 'latin1' });
      await define(
        `CREATE FUNCTION rev(t text) RETURNS text LANGUAGE plrust AS 'reverse'`,
        'rev(text)',
        lib('rev'),
        'latin1',
      );
      const utf8 = { db: 'latin1', settings: { client_encoding: 'UTF8' } };
      assert.equal(await pg.psql(`SELECT rev('àéîõü'), octet_length(rev('àéîõü'));`, utf8), 'üõîéà|5');
    });

    test('an Err and a panic raise an ERROR that names the function in CONTEXT and roll back; the session carries on', async () => {
      await pg.psql('CREATE TABLE rollback_probe (x int);');
      const s = await pg.openSession();
      await s.run('\\set VERBOSITY verbose');
      const err = await s.run(`BEGIN; INSERT INTO rollback_probe VALUES (1); SELECT fault('err', 5); COMMIT;`);
      assert.match(err.stderr, /ERROR: {2}38000: bad input: 5\nCONTEXT: {2}PL\/Rust function "fault"\n/);
      assert.equal((await s.run('SELECT count(*) FROM rollback_probe;')).stdout.trim(), '0');

      const panic = await s.run(`SELECT fault('panic', 7);`);
      assert.match(
        panic.stderr,
        /ERROR: {2}38000: boom 7\nDETAIL: {2}The function panicked at \S+\.rs:\d+:\d+\.\nCONTEXT: {2}PL\/Rust function "fault"\n/,
      );
      const payload = await s.run(`SELECT fault('panic_any', 7);`);
      assert.match(
        payload.stderr,
        /ERROR: {2}38000: non-string panic payload\n(.*\n)*CONTEXT: {2}PL\/Rust function "fault"\n/,
      );
      assert.equal((await s.run('SELECT add(20, 22);')).stdout.trim(), '42');

      const overflow = await s.run('SELECT add(2147483647, 1);');
      assert.match(
        overflow.stderr,
        /ERROR: {2}38000: integer overflow in 2147483647 add 1\nCONTEXT: {2}PL\/Rust function "add"\n/,
      );
      await s.close();
    });

    test('a library is refused when its checksum, ELF header, ABI version or signature is wrong', async () => {
      await pg.psql(
        `SET check_function_bodies = off;
         CREATE FUNCTION chk(a int4, b int4) RETURNS int4 STRICT LANGUAGE plrust AS 'checksum';
         CREATE FUNCTION sig(x int4, y int4) RETURNS int4 STRICT LANGUAGE plrust AS 'signature';`,
      );
      await store('chk(int4,int4)', lib('add'), { sha256: '0'.repeat(64) });
      assert.match(
        (await pg.psqlResult('SELECT chk(1, 2);')).stderr,
        /the artifact of PL\/Rust function "chk" does not match its checksum/,
      );

      const garbage = join(work, 'libs', 'garbage.so');
      writeFileSync(garbage, 'not a shared library');
      await store('chk(int4,int4)', garbage);
      assert.match(
        (await pg.psqlResult('SELECT chk(1, 2);')).stderr,
        /refusing to load the library of PL\/Rust function "chk"[^]*not a 64-bit little-endian ELF file/,
      );

      // with a compiler, the handler would rebuild the function for its own ABI version
      await store('chk(int4,int4)', lib('add'), { abi: 3 });
      assert.match(
        (await pg.psqlResult(`${NO_COMPILER} SELECT chk(1, 2);`)).stderr,
        /was built for ABI version 3, this handler speaks version 2/,
      );

      await store('sig(int4,int4)', lib('add'));
      const wrong = await pg.psqlResult('SELECT sig(1, 2);');
      assert.match(wrong.stderr, /the library of PL\/Rust function "sig" was built for a different signature/);
      assert.match(wrong.stderr, /Catalog: \{"args":\[\{"name":"x","type":"int4"\}/);

      await store('chk(int4,int4)', lib('add'));
      assert.equal(await pg.psql('SELECT chk(1, 2);'), '3');
    });

    test('CREATE OR REPLACE in one session is seen by the next call in another; RENAME keeps working', async () => {
      await define(
        `CREATE FUNCTION swap(a int4, b int4) RETURNS int4 STRICT LANGUAGE plrust AS 'Ok(Some(a + b))'`,
        'swap(int4,int4)',
        lib('add'),
      );
      const other = await pg.openSession({ user: 'bob' });
      assert.equal((await other.run('SELECT swap(2, 3);')).stdout.trim(), '5');
      await define(
        `CREATE OR REPLACE FUNCTION swap(a int4, b int4) RETURNS int4 STRICT LANGUAGE plrust AS 'Ok(a.checked_mul(b))'`,
        'swap(int4,int4)',
        lib('mul'),
      );
      assert.equal((await other.run('SELECT swap(2, 3);')).stdout.trim(), '6');
      await pg.psql('ALTER FUNCTION swap(int4,int4) RENAME TO swapped;');
      assert.equal((await other.run('SELECT swapped(2, 3);')).stdout.trim(), '6');
      await other.close();
    });

    describe('prebuilt artifacts', () => {
      const installed: string[] = [];
      const sig: Array<[string, string]> = [
        ['a', 'int4'],
        ['b', 'int4'],
      ];

      function installPrebuilt(body: string, library: string, checksum?: string): string {
        const hash = definitionHash({ strict: true, returns: 'int4', args: sig, body });
        const dir = join(sharedir, 'plrust', 'prebuilt', hash);
        mkdirSync(dir, { recursive: true });
        installed.push(dir);
        placed.add(dir);
        cpSync(library, join(dir, `${ARCH}.so`));
        writeFileSync(join(dir, `${ARCH}.so.sha256`), `${checksum ?? sha256(readFileSync(library))}  ${ARCH}.so\n`);
        return hash;
      }

      const stale = `SELECT count(*) FROM plrust.artifacts a WHERE NOT EXISTS (
          SELECT 1 FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
           WHERE l.lanname = 'plrust' AND plrust.definition_hash(p.oid) = a.definition_hash);`;

      after(() => {
        for (const dir of installed) {
          rmSync(dir, { recursive: true, force: true });
          placed.delete(dir);
        }
        // the parents too, when nothing else lives there
        for (const dir of [join(sharedir, 'plrust', 'prebuilt'), join(sharedir, 'plrust')]) {
          try {
            rmdirSync(dir);
          } catch {
            break;
          }
        }
      });

      test('CREATE FUNCTION uses a matching prebuilt artifact without a compiler', async () => {
        const body = 'Ok(Some(a + b)) // prebuilt';
        const hash = installPrebuilt(body, lib('add'));
        const r = await pg.psqlResult(
          `${NO_COMPILER} CREATE FUNCTION pre(a int4, b int4) RETURNS int4 STRICT LANGUAGE plrust AS ${sqlString(body)}; SELECT pre(20, 22);`,
        );
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.trim(), '42');
        if (ARCH === 'x86_64') assert.match(r.stderr, /WARNING: {2}no library for aarch64\n/);
        assert.deepEqual(
          await pg.query(`SELECT arch, toolchain FROM plrust.artifacts WHERE definition_hash = '${hash}'`),
          [[ARCH, 'prebuilt']],
        );
      });

      test('a function created unchecked finds its prebuilt artifact at the first call', async () => {
        const body = 'Ok(Some(a + b)) // prebuilt, found at call time';
        installPrebuilt(body, lib('add'));
        const r = await pg.psql(
          `${NO_COMPILER} SET check_function_bodies = off;
           CREATE FUNCTION pre_late(a int4, b int4) RETURNS int4 STRICT LANGUAGE plrust AS ${sqlString(body)};
           SELECT pre_late(1, 1);`,
        );
        assert.equal(r, '2');
      });

      test('a prebuilt artifact that does not match its checksum is refused', async () => {
        const body = 'Ok(Some(a + b)) // tampered';
        installPrebuilt(body, lib('add'), 'f'.repeat(64));
        const r = await pg.psqlResult(
          `${NO_COMPILER} CREATE FUNCTION pre_bad(a int4, b int4) RETURNS int4 STRICT LANGUAGE plrust AS ${sqlString(body)};`,
        );
        assert.match(r.stderr, /prebuilt PL\/Rust artifact ".*" does not match its checksum/);
      });

      test('CREATE OR REPLACE and DROP leave no stale artifacts', async () => {
        const before = installPrebuilt('Ok(Some(a + b)) // prebuilt', lib('add'));
        const body = 'Ok(a.checked_mul(b)) // prebuilt';
        const replaced = installPrebuilt(body, lib('mul'));
        assert.equal(
          await pg.psql(
            `${NO_COMPILER} CREATE OR REPLACE FUNCTION pre(a int4, b int4) RETURNS int4 STRICT LANGUAGE plrust AS ${sqlString(body)}; SELECT pre(6, 7);`,
          ),
          '42',
        );
        const hashes = `('${before}', '${replaced}')`;
        assert.deepEqual(
          await pg.query(`SELECT definition_hash FROM plrust.artifacts WHERE definition_hash IN ${hashes}`),
          [[replaced]],
        );
        await pg.psql('DROP FUNCTION pre(int4, int4);');
        assert.deepEqual(await pg.query(`SELECT count(*) FROM plrust.artifacts WHERE definition_hash IN ${hashes}`), [
          ['0'],
        ]);
        assert.equal(await pg.psql(stale), '0');
      });
    });

    test('pg_dump carries the artifacts: a restored database runs the functions without compiling', async () => {
      const dump = join(pg.dir, 'plrust.dump');
      const dumped = await pg.runProgram('pg_dump', ['-Fc', '-f', dump, '-d', pg.conninfo()]);
      assert.equal(dumped.code, 0, dumped.stderr);
      await pg.psql('CREATE DATABASE restored;');
      const restored = await pg.runProgram('pg_restore', ['-d', pg.conninfo({ db: 'restored' }), dump]);
      assert.equal(restored.code, 0, restored.stderr);
      assert.equal(await pg.psql("SELECT add(1, 2), swapped(2, 3), rev('abc');", { db: 'restored' }), '3|6|cba');
    });

    test('no fault took the server down', () => {
      assert.equal(pg.postmasterPid(), postmaster);
      assert.doesNotMatch(pg.logText(), /terminated by signal|server process .* was terminated/);
    });
  });

  /* The validator and the first call with the real `plrust compile`, configured by plrust install. */
  describe('with plrust compile as the compiler', () => {
    test('CREATE FUNCTION compiles and stores a library for every target; the function runs', async () => {
      const out = await pg.psql(
        `CREATE FUNCTION c_add(a int4, b int4) RETURNS int4 STRICT LANGUAGE plrust AS 'Ok(a.checked_add(b))';
         SELECT c_add(40, 2);`,
      );
      assert.equal(out, '42');
      const stored = await pg.query(
        `SELECT arch, toolchain FROM plrust.artifacts WHERE definition_hash = plrust.definition_hash('c_add(int4,int4)') ORDER BY arch;`,
      );
      const targets = (await pg.psql(`LOAD 'plrust'; SHOW plrust.targets;`)).split(',').sort();
      assert.deepEqual(
        stored.map(([arch]) => arch),
        targets,
      );
      for (const [, toolchain] of stored) assert.equal(toolchain, install.toolchain);
    });

    test('an unprivileged role creates and calls a function', async () => {
      const out = await pg.psql(
        `CREATE FUNCTION c_bob(t text) RETURNS text STRICT LANGUAGE plrust AS $$ Ok(Some(t.to_uppercase())) $$;
         SELECT c_bob('grüße');`,
        { user: 'bob' },
      );
      assert.equal(out, 'GRÜSSE');
    });

    test('a rejected body fails CREATE FUNCTION with the line number in the body', async () => {
      const r = await pg.psqlResult(
        `CREATE FUNCTION c_bad(a int4) RETURNS int4 STRICT LANGUAGE plrust AS $$\n    let s = include_str!("/etc/passwd");\n    Ok(Some(a))\n$$;`,
      );
      assert.match(r.stderr, /ERROR: .*\n(.*\n)*DETAIL: .*\b2:\d+\b.*include_str/);
      assert.match(r.stderr, /CONTEXT: {2}compiling PL\/Rust function "c_bad"/);
      assert.deepEqual(await pg.query(`SELECT count(*) FROM pg_proc WHERE proname = 'c_bad'`), [['0']]);
    });

    test('a function created unchecked is compiled at its first call; a panic reports its line', async () => {
      const r = await pg.psqlResult(
        `SET check_function_bodies = off;
         CREATE FUNCTION c_boom(a int4) RETURNS int4 STRICT LANGUAGE plrust AS $$\n    if a > 2 { panic!("boom {}", a); }\n    Ok(Some(a))\n$$;
         SELECT c_boom(1);
         SELECT c_boom(3);`,
        { settings: { 'plrust.targets': ARCH } },
      );
      assert.equal(r.stdout.trim(), '1');
      assert.match(
        r.stderr,
        /ERROR: {2}boom 3\nDETAIL: {2}The function panicked at \S*:2:\d+\.\nCONTEXT: {2}PL\/Rust function "c_boom"\n/,
      );
    });

    /*
     * docs/ABI.md, Memory: what function code allocates stays valid until it
     * frees it, because safe Rust keeps heap data in statics across calls.
     */
    test('heap data a function keeps in a static stays valid across calls and statements', async () => {
      await pg.psql(
        `CREATE FUNCTION remember(s text) RETURNS text STRICT LANGUAGE plrust AS $$
    static LOG: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut log = LOG.lock().unwrap();
    log.push(s.to_string());
    Ok(Some(log.join(",")))
$$;
CREATE FUNCTION churn(n int4) RETURNS int4 STRICT LANGUAGE plrust AS $$
    let v = vec![b'#'; n as usize];
    Ok(Some(std::hint::black_box(&v).iter().filter(|&&b| b == b'#').count() as i32))
$$;`,
        { settings: { 'plrust.targets': ARCH } },
      );
      const s = await pg.openSession();
      const expected: string[] = [];
      for (const word of ['alpha', 'beta', 'gamma']) {
        expected.push(word);
        // freed and reused memory in between: a dangling vector would now read other data
        assert.equal((await s.run(`SELECT churn(100000);`)).stdout.trim(), '100000');
        const r = await s.run(`SELECT remember('${word}');`);
        assert.equal(r.stderr, '');
        assert.equal(r.stdout.trim(), expected.join(','));
      }
      const many = await s.run(
        `SELECT count(*) FROM (SELECT remember(i::text) FROM generate_series(1, 500) i) calls; SELECT remember('omega');`,
      );
      const all = [...expected, ...Array.from({ length: 500 }, (_, i) => String(i + 1)), 'omega'].join(',');
      assert.equal(many.stdout.trim(), `500\n${all}`);
      const contexts = await s.run(
        `SELECT parent || '>' || name || ':' || ident FROM pg_backend_memory_contexts WHERE ident IN ('remember', 'churn') ORDER BY ident;`,
      );
      assert.equal(contexts.stdout.trim(), 'PL/Rust>PL/Rust function:churn\nPL/Rust>PL/Rust function:remember');
      await s.close();
    });

    test('plrust.memory_limit bounds the bytes a function holds, kept across calls included', async () => {
      await pg.psql(
        `CREATE FUNCTION hoard(kb int4, keep bool) RETURNS int8 STRICT LANGUAGE plrust AS $$
    static KEPT: std::sync::Mutex<Vec<Vec<u8>>> = std::sync::Mutex::new(Vec::new());
    let block = std::hint::black_box(vec![1u8; kb as usize * 1024]);
    let mut kept = KEPT.lock().unwrap();
    if keep {
        kept.push(block);
    }
    Ok(Some(kept.iter().map(|b| b.len() as i64).sum()))
$$;`,
        { settings: { 'plrust.targets': ARCH } },
      );
      const s = await pg.openSession();
      assert.equal((await s.run(`LOAD 'plrust'; SET plrust.memory_limit = '1MB';`)).stderr, '');
      for (const total of [307200, 614400, 921600])
        assert.equal((await s.run('SELECT hoard(300, true);')).stdout.trim(), String(total));
      // blocks freed before the call returns do not add up: a hundred calls of 60 kB each fit
      const transient = await s.run('SELECT sum(hoard(60, false)) FROM generate_series(1, 100);');
      assert.equal(transient.stdout.trim(), String(100 * 921600), transient.stderr);
      // the 900 kB held from earlier calls leave no room for 200 kB more
      const refused = await s.run('SELECT hoard(200, false);');
      assert.match(
        refused.stderr,
        /ERROR: {2}out of memory\nDETAIL: {2}The function reached plrust.memory_limit \(1024 kB\) on a request of 204800 bytes\. The PL\/Rust functions of this session hold \d+ kB\.\nCONTEXT: {2}PL\/Rust function "hoard"\n/,
      );
      assert.equal((await s.run('SELECT hoard(60, false);')).stdout.trim(), '921600');
      await s.close();
    });
  });

  test('plrust uninstall removes what plrust install put in place', async () => {
    await pg.stop();
    const removed = await uninstallPlrust(home);
    const handler = removed.files.find((f) => f.path.endsWith('/plrust.so'));
    assert.ok(handler !== undefined && ['removed', 'restored'].includes(handler.result), JSON.stringify(removed.files));
    assert.deepEqual(removed.warnings, []);
  });
});

/* The hand-written function library: docs/ABI.md version 2 in plain Rust. */
const RUST_LIBRARY = `
// A hand-written function library for ABI version 2 (docs/ABI.md).
use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;
use std::fmt::Write as _;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicPtr, Ordering};

#[repr(C)]
pub struct Host {
    abi_version: u32,
    flags: u32,
    ctx: *mut c_void,
    alloc: unsafe extern "C" fn(*mut c_void, usize, usize) -> *mut u8,
    dealloc: unsafe extern "C" fn(*mut c_void, *mut u8, usize, usize),
    realloc: unsafe extern "C" fn(*mut c_void, *mut u8, usize, usize, usize) -> *mut u8,
    interrupt_flag: *const i32,
    interrupt_requested: Option<unsafe extern "C" fn(*mut c_void) -> i32>,
    stack_limit: usize,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct Slice {
    ptr: *const u8,
    len: usize,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub union Val {
    b: u8,
    i16: i16,
    i32: i32,
    i64: i64,
    f32: f32,
    f64: f64,
    bytes: Slice,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct Value {
    is_null: u8,
    pad: [u8; 7],
    v: Val,
}

#[repr(C)]
pub struct Error {
    message: Slice,
    location: Slice,
}

const OK: i32 = 0;
const ERR: i32 = 1;
const PANIC: i32 = 2;
const ABI_MISMATCH: i32 = 7;

static HOST: AtomicPtr<Host> = AtomicPtr::new(null_mut());

struct HostAlloc;

unsafe impl GlobalAlloc for HostAlloc {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let h = HOST.load(Ordering::Relaxed);
        if h.is_null() {
            return null_mut();
        }
        ((*h).alloc)((*h).ctx, l.size(), l.align())
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        let h = HOST.load(Ordering::Relaxed);
        if !h.is_null() {
            ((*h).dealloc)((*h).ctx, p, l.size(), l.align())
        }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new_size: usize) -> *mut u8 {
        let h = HOST.load(Ordering::Relaxed);
        if h.is_null() {
            return null_mut();
        }
        ((*h).realloc)((*h).ctx, p, l.size(), l.align(), new_size)
    }
}

#[global_allocator]
static GLOBAL: HostAlloc = HostAlloc;

// The panic hook records the location here, without allocating.
static mut LOCATION: [u8; 256] = [0; 256];
static mut LOCATION_LEN: usize = 0;

struct Fixed<'a>(&'a mut [u8], usize);
impl std::fmt::Write for Fixed<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let n = s.len().min(self.0.len() - self.1);
        self.0[self.1..self.1 + n].copy_from_slice(&s.as_bytes()[..n]);
        self.1 += n;
        Ok(())
    }
}

#[no_mangle]
pub extern "C" fn plrust_abi_version() -> u32 {
    2
}

#[no_mangle]
pub extern "C" fn plrust_signature() -> *const u8 {
    SIGNATURE.as_ptr()
}

#[no_mangle]
pub unsafe extern "C" fn plrust_init(host: *const Host) -> i32 {
    if (*host).abi_version != 2 {
        return ABI_MISMATCH;
    }
    HOST.store(host as *mut Host, Ordering::Relaxed);
    // A lasting allocation made in init: it must survive every call.
    std::panic::set_hook(Box::new(|info| unsafe {
        let buf = &mut *std::ptr::addr_of_mut!(LOCATION);
        let mut w = Fixed(buf, 0);
        if let Some(l) = info.location() {
            let _ = write!(w, "{}:{}:{}", l.file(), l.line(), l.column());
        }
        LOCATION_LEN = w.1;
    }));
    OK
}

fn leak(bytes: Vec<u8>) -> Slice {
    let b = Box::leak(bytes.into_boxed_slice());
    Slice { ptr: b.as_ptr(), len: b.len() }
}

fn leak_values(values: Vec<Value>) -> Slice {
    let b = Box::leak(values.into_boxed_slice());
    Slice { ptr: b.as_ptr() as *const u8, len: b.len() }
}

unsafe fn bytes_of(s: Slice) -> &'static [u8] {
    if s.len == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(s.ptr, s.len)
    }
}

unsafe fn values_of(s: Slice) -> &'static [Value] {
    if s.len == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(s.ptr as *const Value, s.len)
    }
}

fn null() -> Value {
    Value { is_null: 1, pad: [0; 7], v: Val { i64: 0 } }
}

fn value(v: Val) -> Value {
    Value { is_null: 0, pad: [0; 7], v }
}

fn fail(error: &mut Error, status: i32, message: String) -> i32 {
    error.message = leak(message.into_bytes());
    error.location = Slice { ptr: std::ptr::null(), len: 0 };
    status
}

fn copy_value(v: &Value, bytes: bool) -> Value {
    if v.is_null != 0 {
        return null();
    }
    if bytes {
        value(Val { bytes: leak(unsafe { bytes_of(v.v.bytes) }.to_vec()) })
    } else {
        *v
    }
}

#[no_mangle]
pub unsafe extern "C" fn plrust_call(args: *const Value, nargs: u32, result: *mut Value, error: *mut Error) -> i32 {
    let args = std::slice::from_raw_parts(args, nargs as usize);
    let result = &mut *result;
    let error = &mut *error;
    match KIND {
        "add" | "mul" => {
            let (a, b) = (args[0].v.i32, args[1].v.i32);
            let r = if KIND == "add" { a.checked_add(b) } else { a.checked_mul(b) };
            match r {
                Some(r) => *result = value(Val { i32: r }),
                None => return fail(error, ERR, format!("integer overflow in {} {} {}", a, KIND, b)),
            }
        }
        "reverse" => {
            if args[0].is_null != 0 {
                *result = null();
            } else {
                let s = std::str::from_utf8(bytes_of(args[0].v.bytes)).unwrap();
                *result = value(Val { bytes: leak(s.chars().rev().collect::<String>().into_bytes()) });
            }
        }
        "ident" => {
            let a = &args[0];
            *result = if a.is_null != 0 {
                null()
            } else if ARRAY {
                let copied: Vec<Value> = values_of(a.v.bytes).iter().map(|e| copy_value(e, BYTES)).collect();
                value(Val { bytes: leak_values(copied) })
            } else {
                copy_value(a, BYTES)
            };
        }
        "void" => *result = null(),
        "fault" => {
            let mode = std::str::from_utf8(bytes_of(args[0].v.bytes)).unwrap_or("");
            let n = args[1].v.i64;
            match mode {
                "err" => return fail(error, ERR, format!("bad input: {}", n)),
                "panic" | "panic_any" => {
                    LOCATION_LEN = 0;
                    let caught = std::panic::catch_unwind(|| {
                        if mode == "panic" {
                            panic!("boom {}", n)
                        } else {
                            std::panic::panic_any(n)
                        }
                    });
                    let payload = caught.unwrap_err();
                    let message = match payload.downcast_ref::<String>() {
                        Some(s) => s.clone(),
                        None => "non-string panic payload".to_string(),
                    };
                    let status = fail(error, PANIC, message);
                    error.location = leak((&*std::ptr::addr_of!(LOCATION))[..LOCATION_LEN].to_vec());
                    return status;
                }
                _ => *result = value(Val { i64: n }),
            }
        }
        _ => unreachable!(),
    }
    OK
}
`;
