/**
 * The PostgreSQL majors of the matrix suite: the host's own (the test
 * installation of pg-cluster.ts, 15 on Debian 12) and Debian's packages of
 * the others, unpacked by scripts/pg-versions.sh into private roots whose
 * programs run on their own glibc through wrappers. Every installation is
 * used as a user would: its own pg_config, initdb, pg_ctl, postgres and
 * clients.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './cli.js';
import { PG_BIN_DIR, runCommand, type PgInstallation } from './pg-cluster.js';

const SCRIPT = join(REPO_ROOT, 'scripts', 'pg-versions.sh');

/** Every major the matrix covers by default: the oldest supported, the host's, and each newer one Debian ships. */
export const MATRIX_MAJORS = [13, 15, 17, 18, 19] as const;

/** PLRUST_TEST_PG_MAJORS="15,17" narrows the matrix (for a quick run by hand). */
export function matrixMajors(): number[] {
  const only = process.env.PLRUST_TEST_PG_MAJORS;
  if (!only) return [...MATRIX_MAJORS];
  return only.split(',').map((m) => {
    const n = Number(m.trim());
    if (!Number.isInteger(n)) throw new Error(`PLRUST_TEST_PG_MAJORS: ${m} is not a major version`);
    return n;
  });
}

/** The major of the host's test installation (PLRUST_TEST_PG_BIN). */
export function hostMajor(): number {
  const r = spawnSync(join(PG_BIN_DIR, 'pg_config'), ['--version'], { encoding: 'utf8' });
  const m = /PostgreSQL (\d+)/.exec(r.stdout ?? '');
  if (!m) throw new Error(`${PG_BIN_DIR}/pg_config --version did not name a version: ${r.stderr}`);
  return Number(m[1]);
}

export interface VersionedInstallation extends PgInstallation {
  major: number;
  pgConfig: string;
  /** The unpacked root of scripts/pg-versions.sh, or undefined for the host's installation. */
  root: string | undefined;
}

const made = new Map<number, Promise<VersionedInstallation>>();

/** The installation of one major: the host's, or fetched and unpacked once (cached in PLRUST_PG_VERSIONS_ROOT). */
export function pgVersion(major: number): Promise<VersionedInstallation> {
  let p = made.get(major);
  if (!p) {
    p = (async () => {
      if (major === hostMajor()) {
        return {
          label: `pg${major}`,
          major,
          serverBinDir: PG_BIN_DIR,
          clientBinDir: PG_BIN_DIR,
          pgConfig: join(PG_BIN_DIR, 'pg_config'),
          root: undefined,
        };
      }
      const r = await runCommand('bash', [SCRIPT, 'setup', String(major)], { as: 'caller' });
      if (r.code !== 0)
        throw new Error(
          `scripts/pg-versions.sh setup ${major} failed (exit ${r.code}):\n${r.stderr.split('\n').slice(-15).join('\n')}`,
        );
      const binDir = r.stdout.trim().split('\n').pop()!;
      return {
        label: `pg${major}`,
        major,
        // Its own clients too: pg_dump must be at least as new as the server it dumps.
        serverBinDir: binDir,
        clientBinDir: binDir,
        pgConfig: join(binDir, 'pg_config'),
        root: binDir.replace(new RegExp(`/usr/lib/postgresql/${major}/bin$`), ''),
      };
    })();
    made.set(major, p);
  }
  return p;
}
