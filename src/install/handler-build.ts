/**
 * Builds the C language handler with PGXS against one PostgreSQL
 * installation, in a scratch copy of handler. A foreign-
 * architecture installation (arm64 on an x86_64 host) is cross-built with
 * that target's gcc; LLVM bitcode is never emitted, since Debian's PGXS
 * would make it with the host's clang for the host's architecture.
 */
import fs from 'node:fs';
import path from 'node:path';
import { exec } from '../util/exec.js';
import { PlrustError } from '../util/errors.js';
import { packageRoot } from '../util/package-root.js';
import { hostArch, linkerFor, loadTargetDefinition } from '../targets/definitions.js';
import type { PgInstallation } from './pg-config.js';
import { loadAllowlist, type Allowlist } from '../verify/allowlist.js';

/** The generated header the handler's ELF check (handler/plrust_elf.c) is compiled with. */
export const ALLOWLIST_HEADER = 'plrust_allowlist.h';

/**
 * The symbol allowlist as C arrays, sorted in strcmp order for bsearch: the
 * handler checks every library against the same list as `plrust verify`.
 */
export function allowlistHeader(list: Allowlist): string {
  const cName = (n: string) => {
    if (!/^[A-Za-z0-9_.@+-]+$/.test(n)) throw new Error(`allowlist name ${JSON.stringify(n)} cannot go into C`);
    return `\t"${n}",`;
  };
  const sorted = (names: Iterable<string>) => [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return [
    `/* Generated from ${path.basename(list.source)} by plrust install (src/install/handler-build.ts). Do not edit. */`,
    '#ifndef PLRUST_ALLOWLIST_H',
    '#define PLRUST_ALLOWLIST_H',
    '',
    'static const char *const plrust_allowed_symbols[] = {',
    ...sorted(list.symbols.keys()).map(cName),
    '};',
    '',
    'static const char *const plrust_allowed_libraries[] = {',
    ...sorted(list.libraries.keys()).map(cName),
    '};',
    '',
    '#endif',
    '',
  ].join('\n');
}

export interface BuiltHandler {
  dir: string;
  library: string;
  /** The isolation runner (docs/ISOLATION.md); absent where it cannot be built (no libseccomp for a foreign target). */
  runner?: string;
  control: string;
  scripts: string[];
}

export function handlerTemplateDir(): string {
  return path.join(packageRoot(), 'handler');
}

/** Pure: the make command line for this installation. */
function makeArgs(pg: PgInstallation, host = hostArch()): string[] {
  // The scratch build directory would otherwise end up in the debug info, making every build of the
  // same source a different plrust.so and every reinstall a replacement. Make expands $(CURDIR); the
  // quotes keep a directory with spaces one word for the shell.
  const args = [`PG_CONFIG=${pg.pgConfig}`, 'with_llvm=no', 'COPT=-ffile-prefix-map="$(CURDIR)"=.'];
  // libseccomp exists for the host's architecture only: a cross-built handler has no runner.
  if (pg.arch && pg.arch !== host)
    args.push(`CC=${linkerFor(loadTargetDefinition(pg.arch), host).linker}`, 'PLRUST_RUNNER=no');
  return args;
}

export async function buildHandler(pg: PgInstallation, workDir: string, logFile: string): Promise<BuiltHandler> {
  const dir = path.join(workDir, 'handler');
  fs.cpSync(handlerTemplateDir(), dir, { recursive: true });
  fs.writeFileSync(path.join(dir, ALLOWLIST_HEADER), allowlistHeader(await loadAllowlist()));
  // A fresh PLRUST_HOME has no logs/ yet, and exec's log stream would fail on it outside any try.
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const r = await exec('make', ['-C', dir, ...makeArgs(pg)], { logFile });
  if (r.code !== 0) {
    const errors = (r.stderr + r.stdout)
      .split('\n')
      .filter((l) => /error/i.test(l))
      .slice(0, 8);
    throw new PlrustError({
      code: 'HANDLER_BUILD_FAILED',
      message: `building the language handler for PostgreSQL ${pg.version} failed:\n  ${errors.join('\n  ') || 'make exited with ' + String(r.code)}`,
      hint: `full log: ${logFile}`,
    });
  }
  return {
    dir,
    library: path.join(dir, 'plrust.so'),
    ...(fs.existsSync(path.join(dir, 'plrust_runner')) ? { runner: path.join(dir, 'plrust_runner') } : {}),
    control: path.join(dir, 'plrust.control'),
    scripts: extensionScripts(dir),
  };
}

/** The extension's install and upgrade scripts in a handler directory (the template's are what make installs). */
export function extensionScripts(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /^plrust--[\d.]+(--[\d.]+)?\.sql$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}
