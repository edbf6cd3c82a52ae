/**
 * What a PostgreSQL installation looks like, as its pg_config reports it:
 * the directories plrust installs into, the server headers the handler is
 * built against, and the architecture its server binary is built for (an
 * arm64 installation on an x86_64 host is cross-built).
 */
import fs from 'node:fs';
import path from 'node:path';
import { exec } from '../util/exec.js';
import { PlrustError, ExitCode } from '../util/errors.js';
import { readElfDynamicInfo } from '../verify/elf.js';
import { hostArch } from '../targets/definitions.js';
import type { Arch } from '../config/schema.js';

/** The majors the handler builds for (its version guards cover each one in between). */
export const SUPPORTED_PG_MAJORS = { min: 13, max: 19 } as const;

export interface PgInstallation {
  pgConfig: string;
  version: string;
  major: number;
  bindir: string;
  pkglibdir: string;
  sharedir: string;
  includedirServer: string;
  pgxs: string;
  /** The architecture of the installation's `postgres` binary. */
  arch: Arch | undefined;
}

/** Pure: pg_config's `KEY = value` lines. */
function parsePgConfigOutput(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = line.match(/^([A-Z_-]+) = (.*)$/);
    if (m) out[m[1]!] = m[2]!.trim();
  }
  return out;
}

function parsePgVersion(s: string): { version: string; major: number } | undefined {
  const m = s.match(/PostgreSQL (\d+)(?:\.(\d+))?/);
  if (!m) return undefined;
  return { version: m[2] ? `${m[1]}.${m[2]}` : m[1]!, major: Number(m[1]) };
}

export async function probePgConfig(pgConfig: string, env: NodeJS.ProcessEnv = process.env): Promise<PgInstallation> {
  if (!fs.existsSync(pgConfig)) {
    throw new PlrustError({
      code: 'PG_CONFIG_NOT_FOUND',
      message: `pg_config not found at ${pgConfig}`,
      hint: 'pass --pg-config with the pg_config of the PostgreSQL installation (Debian: /usr/lib/postgresql/<major>/bin/pg_config)',
      exitCode: ExitCode.Usage,
    });
  }
  const r = await exec(pgConfig, [], { timeoutMs: 30_000, env }).catch((e: Error) => ({
    code: null,
    stdout: '',
    stderr: e.message,
  }));
  if (r.code !== 0) {
    const why = (r.stderr || r.stdout).trim().split('\n')[0];
    const programArch = await binaryArch(pgConfig);
    if (programArch && programArch !== hostArch()) {
      // A foreign installation's own pg_config cannot run here unaided; one that runs it under qemu-user can.
      throw new PlrustError({
        code: 'PG_CONFIG_FOREIGN',
        message: `${pgConfig} is an ${programArch} program and did not run on this ${hostArch()} machine: ${why}`,
        hint: `run it under qemu-user: register qemu-${programArch} with binfmt_misc and set QEMU_LD_PREFIX to the root of that installation's file system, or pass --pg-config a wrapper script that runs it that way`,
      });
    }
    throw new PlrustError({
      code: 'PG_CONFIG_FAILED',
      message: `${pgConfig} failed: ${why}`,
      hint: 'check that this is a working pg_config',
    });
  }
  const kv = parsePgConfigOutput(r.stdout);
  const ver = parsePgVersion(kv.VERSION ?? '');
  const need = ['BINDIR', 'PKGLIBDIR', 'SHAREDIR', 'INCLUDEDIR-SERVER', 'PGXS'];
  const keys = {
    BINDIR: kv.BINDIR,
    PKGLIBDIR: kv.PKGLIBDIR,
    SHAREDIR: kv.SHAREDIR,
    'INCLUDEDIR-SERVER': kv['INCLUDEDIR-SERVER'],
    PGXS: kv.PGXS,
  };
  if (!ver || need.some((k) => !(keys as Record<string, string | undefined>)[k])) {
    throw new PlrustError({
      code: 'PG_CONFIG_FAILED',
      message: `${pgConfig} did not report a PostgreSQL version and its directories`,
      hint: 'pass the pg_config of a PostgreSQL server installation',
    });
  }
  if (ver.major < SUPPORTED_PG_MAJORS.min || ver.major > SUPPORTED_PG_MAJORS.max) {
    const { min, max } = SUPPORTED_PG_MAJORS;
    throw new PlrustError({
      code: 'PG_UNSUPPORTED',
      message: `PostgreSQL ${ver.version} (${pgConfig}) is not supported: plrust supports PostgreSQL ${min} to ${max}`,
      hint: `pass --pg-config the pg_config of a PostgreSQL ${min} to ${max} installation`,
      exitCode: ExitCode.Usage,
    });
  }
  return {
    pgConfig,
    version: ver.version,
    major: ver.major,
    bindir: kv.BINDIR!,
    pkglibdir: kv.PKGLIBDIR!,
    sharedir: kv.SHAREDIR!,
    includedirServer: kv['INCLUDEDIR-SERVER']!,
    pgxs: kv.PGXS!,
    arch: await binaryArch(path.join(kv.BINDIR!, 'postgres')),
  };
}

async function binaryArch(file: string): Promise<Arch | undefined> {
  try {
    return (await readElfDynamicInfo(file)).machine as Arch;
  } catch {
    return undefined;
  }
}

/** The checks `plrust install` and `plrust doctor` share: headers and PGXS present. */
export function serverDevProblems(pg: PgInstallation): { message: string; hint: string }[] {
  const problems: { message: string; hint: string }[] = [];
  const pkg = `postgresql-server-dev-${pg.major}`;
  if (!fs.existsSync(path.join(pg.includedirServer, 'postgres.h'))) {
    problems.push({
      message: `the PostgreSQL ${pg.major} server headers are missing (no postgres.h in ${pg.includedirServer})`,
      hint: `install them: apt-get install ${pkg}`,
    });
  }
  if (!fs.existsSync(pg.pgxs)) {
    problems.push({ message: `PGXS is missing (${pg.pgxs})`, hint: `install it: apt-get install ${pkg}` });
  }
  return problems;
}
