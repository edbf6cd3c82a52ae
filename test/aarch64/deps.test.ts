/**
 * Issue 16 on arm64: a function using an allowed crate (regex, from Debian's
 * directory registry) is compiled by an x86_64 server for both targets,
 * dumped, and restored into an arm64 server (emulated) that has neither a
 * compiler nor the crates; it runs there and answers as on x86_64.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { join } from 'node:path';
import { parseJson, runPlrust } from '../helpers/cli.js';
import { sharedToolchain } from '../helpers/toolchain.js';
import { PG_CONFIG, startCluster, type PgCluster } from '../helpers/pg-cluster.js';
import {
  aarch64Environment,
  aarch64SkipReason,
  freshServerWorkDir,
  startAarch64Cluster,
  type Aarch64Cluster,
} from '../helpers/aarch64-pg.js';

const FUNCTION = `CREATE FUNCTION d_words(s text, n int4) RETURNS int8 STRICT LANGUAGE plrust AS $$
[dependencies]
regex = "1"

[code]
let re = regex::Regex::new(&format!(r"\\b\\w{{{n},}}\\b"))?;
Ok(Some(re.find_iter(s).count() as i64))
$$;`;
const QUERY = `SELECT d_words('the quick brown fox jumps over the lazy dog', 5), d_words('Grüße aus arm64', 4);`;

describe(
  'a function with [dependencies] from an x86_64 server runs on an arm64 server without compiler or crates',
  { skip: aarch64SkipReason() ?? (fs.existsSync('/usr/share/cargo/registry/regex-1.7.1') ? false : 'no regex crate') },
  () => {
    let x86: PgCluster;
    let arm: Aarch64Cluster;
    let dump: string;
    const dir = fs.mkdtempSync('/tmp/plrust-deps-arm-');
    fs.chmodSync(dir, 0o755);
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

    before(async () => {
      const [env, { home }] = await Promise.all([aarch64Environment(), sharedToolchain()]);
      const installs = await Promise.all(
        [PG_CONFIG, env.pgConfig].map(async (pgConfig) => {
          const r = await runPlrust(['install', '--pg-config', pgConfig, '--json'], { home, timeoutMs: 5 * 60_000 });
          assert.equal(r.code, 0, `plrust install --pg-config ${pgConfig}: ${r.stderr}`);
          return parseJson<{ serverHome?: string; compiler: string[] }>(r);
        }),
      );
      const host = installs[0]!;
      const allowed = join(dir, 'allowed.toml');
      fs.writeFileSync(allowed, 'regex = ">=1.7, <2"\n');
      [x86, arm] = await Promise.all([
        startCluster({
          settings: {
            'plrust.targets': 'x86_64,aarch64',
            'plrust.compiler': host.compiler.join(','),
            'plrust.home': host.serverHome ?? '',
            'plrust.work_dir': freshServerWorkDir(),
            'plrust.allowed_dependencies': allowed,
            // regex is built for both targets on first use.
            'plrust.compile_timeout': 900,
          },
        }),
        startAarch64Cluster({ settings: { 'plrust.compiler': '', 'plrust.home': '' } }),
      ]);
      dump = join(x86.dir, 'deps.dump');
    });

    after(async () => {
      await Promise.all([x86?.stop(), arm?.stop()]);
    });

    test('compiled on x86_64 for both targets, restored and run on arm64 with the same results', async () => {
      await x86.psql(`CREATE EXTENSION plrust;\n${FUNCTION}`);
      const arches = await x86.psql(
        `SELECT string_agg(arch, ',' ORDER BY arch) FROM plrust.artifacts WHERE definition_hash = plrust.definition_hash('d_words(text,int4)');`,
      );
      assert.equal(arches, 'aarch64,x86_64');
      assert.equal(await x86.psql(QUERY), '3|2');
      const dumped = await x86.runProgram('pg_dump', ['-Fc', '-f', dump, '-d', x86.conninfo()]);
      assert.equal(dumped.code, 0, dumped.stderr);
      const restored = await arm.runProgram('pg_restore', ['-d', arm.conninfo(), dump]);
      assert.equal(restored.code, 0, restored.stderr);
      assert.equal(await arm.psql(QUERY), '3|2');
    });
  },
);
