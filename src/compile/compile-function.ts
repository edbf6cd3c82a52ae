/**
 * One function, one target: trust check, instrumentation, generation, rustc
 * against the toolchain's sysroot, the linked-symbol allowlist — or a cache
 * hit that skips all of it. Shared by `plrust build` and `plrust compile`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { PlrustError, ExitCode } from '../util/errors.js';
import { sha256File } from '../util/sha256.js';
import type { Arch } from '../config/schema.js';
import { checkSource, CHECKER_VERSION } from '../analysis/checker/index.js';
import { instrument } from '../analysis/instrument.js';
import {
  generateCrate,
  mapGeneratedPosition,
  rustcArgs,
  RUSTC_ENV,
  USER_MODULE_FILE,
  WRAPPER_FILE,
  type GeneratedCrate,
} from './generate.js';
import { cacheKey, lookup, store, DEFINITION_FILE, LIBRARY_NAME, type CacheKey } from './cache.js';
import { definitionHash, type DefinitionHash } from '../functions/definition-hash.js';
import { mapRustcDiagnostics, render, toUserPosition, type UserDiagnostic } from '../analysis/diagnostics.js';
import type { FunctionDef } from '../functions/definition.js';
import { targetOf, type ResolvedToolchain } from '../toolchain/store.js';
import { verifyLibrary, untrustedError } from '../verify/verify.js';
import { DEFAULT_SETTINGS, type ConfineSettings } from '../confine/plan.js';
import { runConfined, limitError } from '../confine/run.js';
import { checkExpandedCrate, expansionArgs } from './expand.js';
import { splitBody } from '../deps/body.js';
import { loadAllowList, noAllowList, resolveDependencies } from '../deps/allowlist.js';
import { openSource, DEFAULT_SOURCE } from '../deps/source.js';
import { discardUnit, ensureUnit, linkArgs, type DependencyUnit } from '../deps/store.js';

const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string };

/** docs/ABI.md; the generated wrapper and the runtime crate implement this version. */
export const ABI_VERSION = 2;
/** Bumped when the cache layout or anything that feeds the key changes meaning. */
const CACHE_FORMAT = 1;

export interface Artifact {
  arch: Arch;
  triple: string;
  library: string;
  sha256: string;
  size: number;
  cached: boolean;
  definitionHash: DefinitionHash;
  signature: string;
}

export class CompileError extends PlrustError {
  readonly diagnostics: UserDiagnostic[];
  constructor(def: FunctionDef, diagnostics: UserDiagnostic[], kind: 'untrusted' | 'rustc') {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    super({
      code: kind === 'untrusted' ? 'UNTRUSTED_CODE' : 'COMPILE_FAILED',
      message: `${def.sqlName}: ${kind === 'untrusted' ? 'rejected by the trust checker' : 'does not compile'}:\n  ${errors.map((d) => d.rendered).join('\n  ')}`,
      hint:
        kind === 'untrusted'
          ? 'see docs/TRUST.md for what PL/Rust functions may not do, and why'
          : 'fix the errors above; positions are in your source',
      exitCode: kind === 'untrusted' ? ExitCode.Untrusted : ExitCode.Failed,
      data: { diagnostics },
    });
    this.diagnostics = diagnostics;
  }
}

/** Trust-checker findings in the user's coordinates; empty when the source may be compiled. */
function checkDefinition(def: FunctionDef, helpers: readonly string[] = []): UserDiagnostic[] {
  return checkSource(def.source, { file: def.origin.file, context: 'fn-body', helpers: new Set(helpers) }).map((d) => {
    const pos = toUserPosition(def.origin, d.line, d.col);
    const out = {
      severity: 'error' as const,
      rule: d.rule,
      file: def.origin.file,
      line: pos.line,
      col: pos.col,
      message: d.explanation,
    };
    return { ...out, rendered: render(out) };
  });
}

function fileSha(tc: ResolvedToolchain, rel: string): string {
  return tc.manifest.files.find((f) => f.path === rel)?.sha256 ?? rel;
}

/**
 * Everything that can change a library's bytes goes into its cache key: the
 * generated sources, the toolchain (std, runtime crate, target spec), the
 * compiler flags, and the versions of plrust, the checker and the ABI.
 */
export function artifactKey(
  inputs: {
    toolchain: string;
    runtimeSha: string;
    specSha: string;
    wrapper: string;
    user: string;
    triple: string;
    /** Store keys of the linked dependency units; absent without [dependencies]. */
    deps?: string[];
  },
  versions: { plrust: string; checker: string; abi: number } = {
    plrust: pkg.version,
    checker: CHECKER_VERSION,
    abi: ABI_VERSION,
  },
): CacheKey {
  return cacheKey({
    format: CACHE_FORMAT,
    ...versions,
    ...inputs,
    args: rustcArgs({
      sysroot: 'S',
      targetSpec: `T/${inputs.triple}.json`,
      runtimeRlib: 'R/rt.rlib',
      src: 'lib.rs',
      out: 'out',
    }),
  });
}

export interface CompileOptions {
  cacheRoot: string;
  tmpRoot: string;
  rustc?: string;
  /** The sandbox and limits of every rustc run (default: sandboxed, default limits). */
  confine?: ConfineSettings;
  /** Where [dependencies] are allowed, found and built (docs/DEPENDENCIES.md). */
  dependencies?: DependencyOptions;
}

export interface DependencyOptions {
  /** The administrator's allow-list; without one, any [dependencies] is refused. */
  allowList?: string;
  /** The offline directory source (default: Debian's directory registry). */
  source?: string;
  /** Where built units are kept. */
  storeRoot: string;
  /** Read-only stores searched first (PLRUST_HOME/deps, filled by `plrust deps build`). */
  prebuiltRoots?: string[];
}

/**
 * The toolchain directories rustc needs read-only: plrust's toolchain
 * (sysroot, runtime crate, target specs) and, for a compiler outside /usr
 * (rustup's), its own installation.
 */
export function toolchainDirs(tc: ResolvedToolchain, rustc: string): string[] {
  const real = fs.realpathSync(rustc);
  const root = path.dirname(path.dirname(real));
  return real.startsWith('/usr/') ? [tc.dir] : [tc.dir, root];
}

/**
 * Every rustc run on function source goes through here, in the compile
 * sandbox with the same limits: first the expansion that the second trust
 * pass checks, then, only if that passes, the compilation itself.
 */
async function runRustc(
  def: FunctionDef,
  crate: GeneratedCrate,
  t: ReturnType<typeof targetOf>,
  rustc: string,
  dirs: { src: string; out: string; toolchain: string[] },
  confine: ConfineSettings,
  unit: DependencyUnit | undefined,
): Promise<void> {
  const compileArgs = (at: { src: string; out: string; tmp: string }) => [
    ...rustcArgs({
      sysroot: t.sysrootPath,
      targetSpec: t.specPath,
      runtimeRlib: t.runtimePath,
      src: path.join(at.src, WRAPPER_FILE),
      out: path.join(at.out, LIBRARY_NAME),
      errorFormat: 'json',
      runtimeSerdeJson: !unit?.crates.some((c) => c.crate === 'serde_json'),
    }),
    ...linkArgs(unit),
    // Intermediate objects go to the box's bounded scratch space, not to the output directory.
    '-Z',
    `temps-dir=${at.tmp}`,
  ];
  const job = {
    readOnly: [...dirs.toolchain, ...(unit ? [unit.dir] : [])],
    src: dirs.src,
    out: dirs.out,
    env: { ...RUSTC_ENV },
  };
  const run = async (args: (at: { src: string; out: string; tmp: string }) => string[], what: string) => {
    const r = await runConfined({ program: rustc, args, ...job }, confine);
    if (r.limit) throw limitError(r.limit, confine.limits, `${what} ${def.sqlName} for ${t.triple}`);
    return r;
  };

  const expanded = await checkExpandedCrate(
    def,
    () => run((at) => expansionArgs(compileArgs(at), path.join(at.out, EXPANDED_FILE)), 'expanding'),
    path.join(dirs.out, EXPANDED_FILE),
    unit ? { libraries: new Set(unit.libraries), helpers: new Set(unit.helpers) } : undefined,
  );
  if (!expanded.ok) throw new CompileError(def, rustcDiagnostics(expanded.stderr, crate), 'rustc');
  if (expanded.diagnostics.length > 0) throw new CompileError(def, expanded.diagnostics, 'untrusted');

  const r = await run(compileArgs, 'compiling');
  if (r.code !== 0) throw new CompileError(def, rustcDiagnostics(r.stderr, crate), 'rustc');
  const out = path.join(dirs.out, LIBRARY_NAME);
  // RLIMIT_FSIZE stops a writer at the limit, so a library of exactly the limit may have been cut short.
  if (fs.statSync(out).size >= confine.limits.outputBytes)
    throw limitError('outputBytes', confine.limits, `the library of ${def.sqlName} for ${t.triple}`);
}

/** Where the expansion pass prints the crate, in the job's output directory (removed once checked). */
const EXPANDED_FILE = 'expanded.rs';

export async function compileFor(
  def: FunctionDef,
  tc: ResolvedToolchain,
  arch: Arch,
  opts: CompileOptions,
): Promise<Artifact> {
  // The definition hash covers the whole body, [dependencies] included, as the handler computes it.
  const hash = definitionHash(def);
  const split = splitBody(def.source);
  const code: FunctionDef = {
    ...def,
    source: split.code,
    origin: {
      ...def.origin,
      line: def.origin.line + split.codeLineOffset,
      col: split.codeLineOffset ? 1 : def.origin.col,
    },
  };
  const t = targetOf(tc, arch);
  // The box binds the compiler's real directory at its real path: a compiler published behind a
  // symlink (PLRUST_HOME/compilers/<name>) must be named by the path that exists in the box.
  const rustc = fs.realpathSync(opts.rustc ?? tc.manifest.rustc.path);
  const confine = opts.confine ?? DEFAULT_SETTINGS;
  let unit: DependencyUnit | undefined;
  if (split.dependencies.length > 0) {
    const d = opts.dependencies;
    const allow = d?.allowList ? loadAllowList(d.allowList) : undefined;
    if (!d || !allow) throw noAllowList(split.dependencies);
    const source = await openSource(
      d.source ?? DEFAULT_SOURCE,
      split.dependencies.map((r) => r.name),
    );
    const resolved = resolveDependencies(split.dependencies, allow, source);
    unit = await ensureUnit(resolved, tc, arch, {
      storeRoot: d.storeRoot,
      ...(d.prebuiltRoots ? { prebuiltRoots: d.prebuiltRoots } : {}),
      tmpRoot: opts.tmpRoot,
      confine,
      source: source.location,
      toolchainDirs: toolchainDirs(tc, rustc),
    });
  }
  // After the unit: the derive helper attributes its crates declare are part of what the code may write.
  const findings = checkDefinition(code, unit?.helpers);
  if (findings.length > 0) throw new CompileError(code, findings, 'untrusted');
  const crate = generateCrate(code, instrument(code.source, 'fn-body'));
  const key = artifactKey({
    toolchain: tc.id,
    runtimeSha: fileSha(tc, t.runtime),
    specSha: fileSha(tc, t.spec),
    wrapper: crate.source,
    user: crate.userModule,
    triple: t.triple,
    ...(unit ? { deps: [unit.key] } : {}),
  });
  const hit = lookup(opts.cacheRoot, key);
  const meta = { arch, triple: t.triple, definitionHash: hash, signature: crate.signature };
  if (hit) {
    return {
      ...meta,
      library: hit.library,
      sha256: await sha256File(hit.library),
      size: fs.statSync(hit.library).size,
      cached: true,
    };
  }
  const entry = await store(opts.cacheRoot, opts.tmpRoot, key, async (dir) => {
    const src = path.join(dir, 'src');
    const outDir = path.join(dir, 'out');
    fs.mkdirSync(src);
    fs.mkdirSync(outDir);
    fs.writeFileSync(path.join(src, WRAPPER_FILE), crate.source);
    fs.writeFileSync(path.join(src, USER_MODULE_FILE), crate.userModule);
    await runRustc(code, crate, t, rustc, { src, out: outDir, toolchain: toolchainDirs(tc, rustc) }, confine, unit);
    const out = path.join(dir, LIBRARY_NAME);
    fs.renameSync(path.join(outDir, LIBRARY_NAME), out);
    fs.rmSync(outDir, { recursive: true, force: true });
    fs.writeFileSync(path.join(dir, DEFINITION_FILE), `${hash}\n`);
    const report = await verifyLibrary(out);
    if (!report.ok) {
      if (unit) discardUnit(unit, opts.tmpRoot);
      throw untrusted(untrustedError(report), def, unit);
    }
  });
  return {
    ...meta,
    library: entry.library,
    sha256: await sha256File(entry.library),
    size: fs.statSync(entry.library).size,
    cached: false,
  };
}

/** With crates linked, the import most likely comes from one of them: say which the function links. */
function untrusted(e: PlrustError, def: FunctionDef, unit: DependencyUnit | undefined): PlrustError {
  if (!unit) return e;
  const crates = unit.crates.map((c) => c.crate).join(', ');
  return new PlrustError({
    code: e.code,
    exitCode: e.exitCode,
    message: `${def.sqlName} links the crates ${crates}, and its library ${e.message.replace(/^\S+ /, '')}`,
    hint: 'a crate on the allow-list needs this: the administrator should take it off the list (docs/DEPENDENCIES.md)',
    ...(e.data ? { data: e.data } : {}),
  });
}

function rustcDiagnostics(stderr: string, crate: GeneratedCrate): UserDiagnostic[] {
  const diags = mapRustcDiagnostics(stderr, {
    origin: crate.origin,
    map: (file, line, col) => mapGeneratedPosition(crate, file, line, col),
  });
  if (diags.some((d) => d.severity === 'error')) return diags;
  // rustc failed without a diagnostic we could read (a linker failure, say): show what it printed.
  const message = stderr.trim().split('\n').slice(0, 10).join('\n') || 'rustc failed';
  const d = {
    severity: 'error' as const,
    file: crate.origin.file,
    line: crate.origin.line,
    col: crate.origin.col,
    message,
  };
  return [...diags, { ...d, rendered: render(d) }];
}
