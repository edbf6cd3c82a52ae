/** `plrust build` and `plrust compile`. */
import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../context.js';
import { PlrustError, ExitCode, usageError } from '../../util/errors.js';
import { parseTargets, type Arch } from '../../config/schema.js';
import { resolveToolchain, type ResolvedToolchain } from '../../toolchain/store.js';
import { readDefinitions } from '../../functions/inputs.js';
import { buildAll } from '../../compile/compile-many.js';
import { writeOutputs } from '../../compile/artifacts.js';
import { parseCompileRequest, compileRequest } from '../../compile/protocol.js';
import type { CompileOptions } from '../../compile/compile-function.js';
import { pruneCache } from '../../compile/cache.js';
import { sourceLocation } from '../../deps/source.js';
import { MIB, type ConfineSettings } from '../../confine/plan.js';
import type { ResolvedConfig } from '../../config/schema.js';

/** `plrust build`'s sandbox and limits: configuration (flags win), the sandbox unless --no-sandbox. */
export function buildConfinement(config: ResolvedConfig, sandbox: boolean): ConfineSettings {
  return {
    sandbox,
    limits: {
      memoryBytes: config.compileMemoryMb * MIB,
      cpuSeconds: config.compileCpuSeconds,
      outputBytes: config.maxLibrarySizeMb * MIB,
      processes: config.compileProcesses,
    },
    protect: [],
  };
}

function chooseTargets(tc: ResolvedToolchain, flag: string | undefined): Arch[] {
  const installed = tc.manifest.targets.map((t) => t.arch);
  if (flag === undefined) return installed;
  const t = parseTargets(flag);
  if (typeof t === 'string') throw usageError('BAD_TARGET', `--target: ${t}`);
  const missing = t.filter((a) => !installed.includes(a));
  if (missing.length) {
    throw new PlrustError({
      code: 'TARGET_NOT_INSTALLED',
      message: `toolchain ${tc.id} has no ${missing.join(', ')} target`,
      hint: `run \`plrust toolchain install --target ${missing.join(',')}\``,
      exitCode: ExitCode.Failed,
    });
  }
  return t;
}

/** The cache and scratch space: PLRUST_HOME's, or a separate work directory (the server's compiler uses one it can write). */
function compileDirs(
  ctx: Context,
  workDir: string | undefined,
): CompileOptions & { storeRoot: string; prebuiltRoots?: string[] } {
  if (workDir)
    return {
      cacheRoot: path.join(workDir, 'cache'),
      tmpRoot: path.join(workDir, 'tmp'),
      storeRoot: path.join(workDir, 'deps'),
      prebuiltRoots: [path.join(ctx.home.root, 'deps')],
    };
  return { cacheRoot: ctx.home.cache, tmpRoot: ctx.home.tmp, storeRoot: path.join(ctx.home.root, 'deps') };
}

export async function build(
  ctx: Context,
  opts: {
    target?: string;
    toolchain?: string;
    outDir?: string;
    sandbox?: boolean;
    allowed?: string;
    dependencySource?: string;
  },
  files: string[],
): Promise<void> {
  if (opts.sandbox === false)
    ctx.out.warn('--no-sandbox: rustc runs without the sandbox and can read whatever your OS user can');
  const defs = readDefinitions(files.map((f) => path.resolve(ctx.cwd, f)));
  const tc = resolveToolchain(ctx.home, opts.toolchain);
  const targets = chooseTargets(tc, opts.target);
  const started = Date.now();
  const progress = await ctx.out.progress(
    `compiling ${defs.length} function${defs.length > 1 ? 's' : ''} for ${targets.join(', ')}`,
  );
  let built;
  try {
    const dirs = compileDirs(ctx, undefined);
    pruneCache(dirs.cacheRoot, dirs.tmpRoot, ctx.config.values.cacheMaxSizeMb * MIB);
    built = await buildAll(defs, tc, targets, {
      ...dirs,
      confine: buildConfinement(ctx.config.values, opts.sandbox !== false),
      dependencies: {
        storeRoot: dirs.storeRoot,
        ...(opts.allowed ? { allowList: path.resolve(ctx.cwd, opts.allowed) } : {}),
        ...(opts.dependencySource ? { source: sourceLocation(ctx.cwd, opts.dependencySource) } : {}),
      },
    });
  } catch (e) {
    progress.fail();
    throw e;
  }
  progress.done();
  const outDir = path.resolve(ctx.cwd, ctx.config.values.outDir);
  const written = writeOutputs(outDir, built, tc.id);
  const seconds = (Date.now() - started) / 1000;
  const cached = built.flatMap((b) => b.artifacts).filter((a) => a.cached).length;
  ctx.out.result(
    {
      ok: true,
      toolchain: tc.id,
      outDir,
      sql: written.sqlFile,
      seconds,
      functions: written.functions.map((f) => ({ name: f.sqlName, dir: f.dir, artifacts: f.artifacts })),
    },
    (print) => {
      for (const f of written.functions)
        print(`${f.sqlName}: ${f.artifacts.map((a) => path.relative(ctx.cwd, a.path)).join(', ')}`);
      print(
        `built ${written.functions.length} function${written.functions.length > 1 ? 's' : ''} for ${targets.join(', ')} in ${seconds.toFixed(2)} s (${cached} from cache); CREATE FUNCTION statements: ${path.relative(ctx.cwd, written.sqlFile)}`,
      );
    },
  );
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The handler's interface (docs/COMPILE.md): always JSON, whatever the output flags say. */
export async function compile(ctx: Context, opts: { toolchain?: string; workDir?: string }): Promise<void> {
  let response;
  try {
    const req = parseCompileRequest(await readStdin());
    const tc = resolveToolchain(ctx.home, opts.toolchain);
    const dirs = compileDirs(ctx, opts.workDir);
    // Before the compile: the response names files in the cache that the handler still has to read.
    pruneCache(dirs.cacheRoot, dirs.tmpRoot, req.workDirMaxBytes ?? ctx.config.values.cacheMaxSizeMb * MIB);
    response = await compileRequest(req, tc, dirs);
  } catch (e) {
    const err =
      e instanceof PlrustError
        ? e
        : new PlrustError({ code: 'INTERNAL', message: String(e instanceof Error ? e.message : e) });
    const diagnostics = (err.data?.diagnostics as unknown[] | undefined) ?? [];
    process.stdout.write(
      `${JSON.stringify({ protocol: 1, ok: false, error: { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) }, diagnostics })}\n`,
    );
    process.exitCode = err.exitCode;
    return;
  }
  fs.writeSync(1, `${JSON.stringify(response)}\n`);
}

/** `plrust cache prune`: the CLI's artifact cache down to a size (default: the configured bound). */
export async function prune(ctx: Context, opts: { maxSize?: string }): Promise<void> {
  let maxMb = ctx.config.values.cacheMaxSizeMb;
  if (opts.maxSize !== undefined) {
    const n = Number(opts.maxSize);
    if (!Number.isInteger(n) || n < 0)
      throw usageError('BAD_SIZE', `--max-size: expected megabytes, got ${opts.maxSize}`);
    maxMb = n;
  }
  const r = pruneCache(ctx.home.cache, ctx.home.tmp, maxMb * MIB);
  ctx.out.result({ ok: true, ...r, maxBytes: maxMb * MIB }, (print) =>
    print(
      `removed ${r.removed} cache entr${r.removed === 1 ? 'y' : 'ies'} (${(r.freedBytes / MIB).toFixed(1)} MB); ${(r.keptBytes / MIB).toFixed(1)} MB kept`,
    ),
  );
}
