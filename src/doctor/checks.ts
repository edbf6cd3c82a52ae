/**
 * The doctor's checks. Each returns a Finding with the fix spelled out (the
 * Debian package or the flag), so the report is a to-do list, not a puzzle.
 */
import fs from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { which } from '../util/exec.js';
import { selectCompiler, surveyCompilers } from '../toolchain/select.js';
import { rustupHome } from '../toolchain/rustup.js';
import { hasLocalSource } from '../toolchain/source.js';
import { hostArch, linkerFor, loadTargetDefinition } from '../targets/definitions.js';
import { probePgConfig, serverDevProblems } from '../install/pg-config.js';
import type { Arch } from '../config/schema.js';
import { DEFAULT_SETTINGS, planRun } from '../confine/plan.js';
import { execPlan, hostFacts } from '../confine/run.js';
import { PlrustError } from '../util/errors.js';

export type FindingStatus = 'ok' | 'warn' | 'fail';

export interface Finding {
  id: string;
  title: string;
  status: FindingStatus;
  /** A failed required check makes `doctor` exit non-zero. */
  required: boolean;
  detail: string;
  fix?: string;
}

const ok = (id: string, title: string, detail: string, required = true): Finding => ({
  id,
  title,
  status: 'ok',
  required,
  detail,
});

export function checkNode(version = process.versions.node): Finding {
  return semver.gte(version, '20.0.0')
    ? ok('node', 'Node.js', `v${version}`)
    : {
        id: 'node',
        title: 'Node.js',
        status: 'fail',
        required: true,
        detail: `v${version} is too old`,
        fix: 'install Node.js 20 or later',
      };
}

/**
 * One finding per compiler on the machine that plrust cannot use, saying
 * why and what fixes it (the rustup command, a supported version): a
 * user who has Rust installed learns why it was passed over.
 */
export async function checkCompilers(places: { rustupHome: string; compilersDir?: string }): Promise<Finding[]> {
  return (await surveyCompilers(places)).map((c) => {
    const title = `compiler ${c.version ?? '?'} (${c.origin.kind}${c.origin.detail ? ` ${c.origin.detail}` : ''})`;
    return c.usable
      ? ok(`compiler:${c.path}`, title, `${c.path}: usable`, false)
      : {
          id: `compiler:${c.path}`,
          title,
          status: 'warn' as const,
          required: false,
          detail: `${c.path} cannot build a toolchain: ${c.why ?? 'unknown reason'}`,
          ...(c.fix ? { fix: c.fix } : {}),
        };
  });
}

export async function checkRust(opts: { rustc?: string; cargo?: string; rustSrc?: string }): Promise<Finding[]> {
  return [...(await checkChosenRust(opts)), ...(await checkCompilers({ rustupHome: rustupHome() }))];
}

async function checkChosenRust(opts: { rustc?: string; cargo?: string; rustSrc?: string }): Promise<Finding[]> {
  try {
    const choice = await selectCompiler({ ...opts, rustcOrigin: 'configured' });
    const src = opts.rustSrc ? { location: opts.rustSrc } : hasLocalSource(choice.rustc);
    return [
      ok('rustc', 'Rust compiler', `${choice.rustc.version} at ${choice.rustc.path} (${choice.reason})`),
      ok('cargo', 'cargo', choice.cargo),
      src
        ? ok('rust-src', 'std source', src.location)
        : {
            id: 'rust-src',
            title: 'std source',
            status: 'warn',
            required: false,
            detail: `no local std source for rustc ${choice.rustc.version}; toolchain install will download it`,
            fix: "apt-get install rust-web-src (for Debian's rustc-web), or `rustup component add rust-src`, or pass --rust-src",
          },
    ];
  } catch (e) {
    const err = e as Error & { hint?: string };
    return [
      {
        id: 'rustc',
        title: 'Rust compiler',
        status: 'fail',
        required: true,
        detail: err.message,
        fix: err.hint ?? 'apt-get install rustc-web cargo-web rust-web-src',
      },
    ];
  }
}

export function checkLinker(arch: Arch, host: Arch = hostArch()): Finding {
  const l = linkerFor(loadTargetDefinition(arch), host);
  const found = which(l.linker);
  const title = `${l.cross ? 'cross ' : ''}linker for ${arch}`;
  return found
    ? ok(`linker-${arch}`, title, found)
    : {
        id: `linker-${arch}`,
        title,
        status: 'fail',
        required: true,
        detail: `${l.linker} not found`,
        fix: `apt-get install ${l.package}${l.cross && arch === 'aarch64' ? ' libc6-dev-arm64-cross' : ''}, or leave ${arch} out of the targets`,
      };
}

/**
 * A foreign-architecture installation's handler is C, cross-compiled: that
 * needs the target's gcc and its C library headers, which are separate
 * Debian packages (the Rust targets link without the headers).
 */
function checkHandlerCrossCompiler(arch: Arch, host: Arch = hostArch()): Finding {
  const def = loadTargetDefinition(arch);
  const cc = linkerFor(def, host);
  const id = `handler-cc-${arch}`;
  const title = `C cross compiler for the ${arch} handler`;
  const libcPackage = `libc6-dev-${arch === 'aarch64' ? 'arm64' : 'amd64'}-cross`;
  const found = which(cc.linker);
  if (!found) {
    return {
      id,
      title,
      status: 'fail',
      required: true,
      detail: `${cc.linker} not found`,
      fix: `apt-get install ${cc.package} ${libcPackage}`,
    };
  }
  const header = path.join(def.libcRoot, 'include', 'stdio.h');
  if (!fs.existsSync(header)) {
    return {
      id,
      title,
      status: 'fail',
      required: true,
      detail: `no ${arch} C library headers (${header} is missing)`,
      fix: `apt-get install ${libcPackage}`,
    };
  }
  return ok(id, title, `${found} with the C library in ${def.libcRoot}`);
}

export function checkQemu(host: Arch = hostArch()): Finding {
  const other: Arch = host === 'x86_64' ? 'aarch64' : 'x86_64';
  const bin = `qemu-${other}`;
  const found = which(bin);
  return found
    ? ok('qemu', `qemu-user (${other}, for tests)`, found, false)
    : {
        id: 'qemu',
        title: `qemu-user (${other}, for tests)`,
        status: 'warn',
        required: false,
        detail: `${bin} not found: ${other} libraries cannot be tested on this machine`,
        fix: 'apt-get install qemu-user',
      };
}

/** Sets up the compiler's box once, around /usr/bin/true, as the user running the doctor. */
export async function checkSandbox(scratch: string): Promise<Finding> {
  const title = 'compiler sandbox (bubblewrap)';
  const src = fs.mkdtempSync(path.join(scratch, 'doctor-box-'));
  try {
    const job = { program: '/usr/bin/true', args: () => [], readOnly: [], src, out: src, env: {} };
    const r = await execPlan(planRun(job, DEFAULT_SETTINGS, hostFacts()));
    if (r.code === 0) return ok('sandbox', title, 'rustc runs in a box that sees only the toolchain');
    return {
      id: 'sandbox',
      title,
      status: 'fail',
      required: true,
      detail: `a trivial program failed in the box (exit ${String(r.code)}): ${r.stderr.trim().split('\n')[0] ?? ''}`,
    };
  } catch (e) {
    const err = e instanceof PlrustError ? e : undefined;
    return {
      id: 'sandbox',
      title,
      status: 'fail',
      required: true,
      detail: err?.message ?? String(e),
      ...(err?.hint ? { fix: err.hint } : {}),
    };
  } finally {
    fs.rmSync(src, { recursive: true, force: true });
  }
}

export function checkBuildTools(): Finding[] {
  return ['make', 'cc'].map((t) =>
    which(t)
      ? ok(t, t, which(t)!)
      : {
          id: t,
          title: t,
          status: 'fail' as const,
          required: true,
          detail: `${t} not found (needed to build the language handler)`,
          fix: 'apt-get install build-essential',
        },
  );
}

export async function checkPostgres(pgConfig: string | undefined, explicit: boolean): Promise<Finding[]> {
  const candidate = pgConfig ?? which('pg_config');
  if (!candidate) {
    return [
      {
        id: 'pg_config',
        title: 'PostgreSQL (pg_config)',
        status: explicit ? 'fail' : 'warn',
        required: explicit,
        detail: 'no pg_config found',
        fix: 'pass --pg-config /usr/lib/postgresql/<major>/bin/pg_config, or apt-get install postgresql-15 postgresql-server-dev-15',
      },
    ];
  }
  try {
    const pg = await probePgConfig(candidate);
    const host = hostArch();
    const archNote =
      pg.arch && pg.arch !== host
        ? `, a foreign ${pg.arch} installation: the handler is cross-built with ${linkerFor(loadTargetDefinition(pg.arch), host).linker}`
        : '';
    const findings: Finding[] = [
      ok('pg_config', 'PostgreSQL (pg_config)', `PostgreSQL ${pg.version} at ${pg.pgConfig}${archNote}`, explicit),
    ];
    const problems = serverDevProblems(pg);
    findings.push(
      problems.length === 0
        ? ok('pgxs', 'server headers and PGXS', pg.includedirServer, explicit)
        : {
            id: 'pgxs',
            title: 'server headers and PGXS',
            status: explicit ? 'fail' : 'warn',
            required: explicit,
            detail: problems.map((p) => p.message).join('; '),
            fix: problems[0]!.hint,
          },
    );
    if (pg.arch && pg.arch !== host) findings.push(checkHandlerCrossCompiler(pg.arch, host));
    return findings;
  } catch (e) {
    const err = e as Error & { hint?: string };
    return [
      {
        id: 'pg_config',
        title: 'PostgreSQL (pg_config)',
        status: explicit ? 'fail' : 'warn',
        required: explicit,
        detail: err.message,
        ...(err.hint ? { fix: err.hint } : {}),
      },
    ];
  }
}

export function checkHome(home: string): Finding {
  let dir = path.resolve(home);
  while (!fs.existsSync(dir)) dir = path.dirname(dir);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    if (!fs.statSync(dir).isDirectory()) throw new Error('not a directory');
    return ok('home', 'PLRUST_HOME writable', home);
  } catch {
    return {
      id: 'home',
      title: 'PLRUST_HOME writable',
      status: 'fail',
      required: true,
      detail: `${dir} is not writable`,
      fix: `make ${dir} writable, or choose another home with --home / PLRUST_HOME`,
    };
  }
}
