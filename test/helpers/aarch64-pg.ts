/**
 * The arm64 PostgreSQL 15 of the aarch64 tests: Debian's own arm64 packages
 * unpacked into a private root by scripts/aarch64-pg.sh and run under
 * qemu-aarch64 through binfmt_misc. The server (initdb, pg_ctl, postgres and
 * every backend) is the emulated arm64 build; clients (psql, pg_dump,
 * pg_restore) are the host's native ones, which speak the same protocol over
 * the unix socket and cost nothing to emulate. Clusters are pg-cluster.ts's,
 * started with this installation.
 */
import { join } from 'node:path';
import { REPO_ROOT, tempDir } from './cli.js';
import {
  PG_BIN_DIR,
  giveToServer,
  runCommand,
  startCluster,
  type ClusterOptions,
  type PgCluster,
  type PgInstallation,
} from './pg-cluster.js';

const SCRIPT = join(REPO_ROOT, 'scripts', 'aarch64-pg.sh');

export interface Aarch64Environment {
  /** PLRUST_AARCH64_ROOT: apt state, package cache and the root, kept between runs. */
  base: string;
  /** The unpacked arm64 file system: QEMU_LD_PREFIX. */
  root: string;
  binDir: string;
  /** The root's pg_config (a wrapper that runs Debian's arm64 pg_config under qemu-aarch64). */
  pgConfig: string;
}

export type Aarch64Cluster = PgCluster;

/** Why the aarch64 tests do not run here, or undefined when they should. */
export function aarch64SkipReason(): string | undefined {
  if (process.env.PLRUST_TEST_SKIP_AARCH64) return 'PLRUST_TEST_SKIP_AARCH64 is set';
  if (process.arch !== 'x64') return 'the aarch64 environment emulates arm64 on an x86_64 host';
  return undefined;
}

let environment: Promise<Aarch64Environment> | undefined;

/**
 * Makes the environment once per process: fetches and unpacks the packages
 * the first time on a machine (cached under PLRUST_AARCH64_ROOT), registers
 * qemu-aarch64 with binfmt_misc. Fails with the script's explanation when
 * that is not possible here.
 */
export function aarch64Environment(): Promise<Aarch64Environment> {
  environment ??= (async () => {
    // As the caller: registering with binfmt_misc needs this process's rights.
    const r = await runCommand('bash', [SCRIPT, 'setup'], { as: 'caller' });
    if (r.code !== 0)
      throw new Error(
        `scripts/aarch64-pg.sh setup failed (exit ${r.code}):\n${r.stderr.split('\n').slice(-15).join('\n')}`,
      );
    const root = r.stdout.trim().split('\n').pop()!;
    const binDir = join(root, 'usr', 'lib', 'postgresql', '15', 'bin');
    return { base: join(root, '..'), root, binDir, pgConfig: join(binDir, 'pg_config') };
  })();
  return environment;
}

function aarch64Installation(env: Aarch64Environment): PgInstallation {
  return {
    label: 'aarch64',
    serverBinDir: env.binDir,
    clientBinDir: PG_BIN_DIR,
    // binfmt_misc hands arm64 programs to qemu-aarch64, which finds their libraries under this prefix.
    serverEnv: { QEMU_LD_PREFIX: env.root },
    // Emulated start-up and shutdown are slow: on a busy machine they can outlast pg_ctl's default 60 s.
    pgCtlTimeoutS: 120,
  };
}

/**
 * A fresh plrust.work_dir for a server (as the `postgres` OS user when run as
 * root): its compile cache starts empty, so every CREATE FUNCTION of the test
 * really compiles.
 */
export function freshServerWorkDir(): string {
  const dir = tempDir('server-work');
  giveToServer(dir);
  return dir;
}

/**
 * initdb (about 5 s emulated) and start a throwaway arm64 cluster: unix
 * socket only, in a fresh directory; stopped and removed when the process
 * ends, however it ends.
 */
export async function startAarch64Cluster(opts: Omit<ClusterOptions, 'installation'> = {}): Promise<Aarch64Cluster> {
  return startCluster({ ...opts, installation: aarch64Installation(await aarch64Environment()) });
}
