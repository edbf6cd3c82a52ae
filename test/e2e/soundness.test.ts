/**
 * The bug classes of docs/SOUNDNESS.md at CREATE FUNCTION, as an attacker
 * would send them: an unprivileged role with CREATE on its database submits
 * reproducers from the escape corpus as function bodies. Each is refused
 * with the rule named in the DETAIL, nothing is stored, the server never
 * restarts and the role stays unprivileged. One of them (a macro that
 * assembles `env!` from pieces) is only visible after macro expansion, so
 * the server-side compile runs the expanded pass too.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../helpers/cli.js';
import { startCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { installPlrust, tempHome, uninstallPlrust } from '../helpers/plrust-install.js';

const ESCAPES = path.join(REPO_ROOT, 'test', 'corpus', 'escapes');

/** A corpus file of items as an SQL body: the items, then the body's result. */
function body(file: string): string {
  return `${fs.readFileSync(path.join(ESCAPES, file), 'utf8').replace(/\s+$/, '')}\nOk(None)`;
}

const ENV_PIECES = `macro_rules! join {
    ($m:ident, $b:tt, $a:tt) => { $m $b $a };
}
Ok(Some(join!(env, !, ("HOME")).len() as i32))`;

const CASES: ReadonlyArray<[string, string, string]> = [
  ['coherence_turbofish', body('coherence-dyn-turbofish.rs'), 'blanket-impl'],
  ['coherence_alias', body('coherence-assoc-alias.rs'), 'dyn-generic-arg'],
  ['closure_static', body('closure-blanket-static.rs'), 'fn-trait-impl'],
  ['closure_std_iterator', body('closure-std-from-fn.rs'), 'outlives-bound'],
  ['closure_phantom', body('closure-phantom-static.rs'), 'projection-input'],
  ['cve_rs', body('cve-rs-higher-ranked-pointer.rs'), 'fn-pointer-type'],
  ['spoofed_core', body('spoof-core-module.rs'), 'reserved-name'],
  ['spliced_pointer', body('splice-fn-pointer-pieces.rs'), 'macro-splice'],
  ['env_pieces', ENV_PIECES, 'forbidden-macro'],
];

describe('soundness reproducers are refused at CREATE FUNCTION', () => {
  let home: string;
  let pg: PgCluster;
  const asMallory = { db: 'mallorys', user: 'mallory' };
  let started: string;

  before(async () => {
    home = await tempHome('soundness', { toolchain: true });
    await installPlrust(home);
    pg = await startCluster();
    await pg.psql(
      `CREATE ROLE mallory LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
       CREATE DATABASE mallorys;
       ALTER DATABASE mallorys SET plrust.targets = 'x86_64';
       GRANT CREATE ON DATABASE mallorys TO mallory;`,
    );
    await pg.psql('CREATE EXTENSION plrust; CREATE SCHEMA mallory;', asMallory);
    started = await pg.psql('SELECT pg_postmaster_start_time()');
  });

  after(async () => {
    await pg?.stop();
    if (home) await uninstallPlrust(home);
  });

  for (const [name, source, rule] of CASES) {
    test(`${name}: refused for ${rule}`, async () => {
      const r = await pg.psqlResult(
        `CREATE FUNCTION mallory.${name}() RETURNS int4 LANGUAGE plrust AS $body$\n${source}\n$body$;`,
        asMallory,
      );
      assert.notEqual(r.code, 0, r.stdout);
      assert.match(r.stderr, /ERROR: .*rejected by the PL\/Rust trust checker/);
      assert.match(r.stderr, new RegExp(`DETAIL: (.*\\n)*.*\\b${rule}: `), r.stderr);
      assert.deepEqual(await pg.query(`SELECT count(*) FROM pg_proc WHERE proname = '${name}'`, asMallory), [['0']]);
    });
  }

  test('the server never restarted and the role is still unprivileged', async () => {
    assert.equal(await pg.psql('SELECT pg_postmaster_start_time()'), started);
    assert.equal(await pg.psql('SELECT rolsuper FROM pg_roles WHERE rolname = current_user', asMallory), 'f');
  });

  test('the same role still creates and calls a legitimate function with closures, iterators and `?`', async () => {
    await pg.psql(
      `CREATE FUNCTION mallory.words(s text) RETURNS int4 STRICT LANGUAGE plrust AS $$
    fn parse(x: &str) -> Result<i32, Box<dyn std::error::Error>> {
        Ok(x.trim().parse::<i32>()?)
    }
    let total: i32 = s.split(',').map(parse).collect::<Result<Vec<_>, _>>().map_err(|e| e.to_string())?.iter().sum();
    Ok(Some(total))
$$;`,
      asMallory,
    );
    assert.equal(await pg.psql(`SELECT mallory.words('1, 2,3')`, asMallory), '6');
  });
});
