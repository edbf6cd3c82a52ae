/**
 * The set-up most end-to-end suites of function behaviour share: PL/Rust
 * installed by the real `plrust install` from a private home, one
 * PostgreSQL 15 cluster with the extension (x86_64 only, so each CREATE
 * FUNCTION compiles once), and the suite's functions created. Called inside
 * a `describe`, it registers that block's before/after hooks; `pg` is set
 * once the before hook ran. The isolation suites re-run these files with
 * PLRUST_TEST_ISOLATION set, which startCluster applies.
 */
import { after, before } from 'node:test';
import { startCluster, type PgCluster } from './pg-cluster.js';
import { installPlrust, tempHome, uninstallPlrust } from './plrust-install.js';

export interface FunctionsCluster {
  readonly pg: PgCluster;
  /** The PLRUST_HOME PL/Rust was installed from (a suite may build and install more from it). */
  readonly home: string;
}

export function functionsCluster(name: string, functions: string): FunctionsCluster {
  let home: string | undefined;
  let pg: PgCluster | undefined;
  before(async () => {
    home = await tempHome(name, { toolchain: true });
    await installPlrust(home);
    pg = await startCluster();
    await pg.psql(`ALTER DATABASE postgres SET plrust.targets = 'x86_64'; CREATE EXTENSION plrust;`);
    await pg.psql(functions);
  });
  after(async () => {
    await pg?.stop();
    if (home) await uninstallPlrust(home);
  });
  const notReady = () => new Error(`the ${name} cluster is not running: its before hook failed or has not run`);
  return {
    get pg(): PgCluster {
      if (!pg) throw notReady();
      return pg;
    },
    get home(): string {
      if (!home) throw notReady();
      return home;
    },
  };
}
