/**
 * `plrust compile`'s request and response (docs/COMPILE.md, protocol 1). The
 * request is validated strictly: it comes from the handler, and anything
 * unexpected means the two sides disagree about the protocol.
 */
import { isSparseUrl } from '../deps/source.js';
import { z } from 'zod';
import { PlrustError, ExitCode } from '../util/errors.js';
import { ARCHES, type Arch } from '../config/schema.js';
import type { FunctionDef } from '../functions/definition.js';
import { parseSqlType } from '../functions/sql-types.js';
import { ABI_VERSION, CompileError, compileFor, type CompileOptions } from './compile-function.js';
import { definitionHash } from '../functions/definition-hash.js';
import type { ResolvedToolchain } from '../toolchain/store.js';
import { DEFAULT_LIMITS, type ConfineSettings } from '../confine/plan.js';

const PROTOCOL_VERSION = 1;

const positive = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

const requestSchema = z
  .object({
    protocol: z.literal(PROTOCOL_VERSION),
    name: z.string().min(1),
    args: z.array(z.object({ name: z.string().min(1), type: z.string().min(1) }).strict()),
    returns: z.string().min(1),
    strict: z.boolean(),
    body: z.string(),
    targets: z.array(z.enum(ARCHES)).min(1).optional(),
    // Added compatibly to protocol 1: a handler that sends none of them gets the defaults.
    sandbox: z.boolean().optional(),
    limits: z
      .object({
        memoryBytes: positive,
        cpuSeconds: positive,
        maxLibraryBytes: positive,
        processes: positive,
      })
      .partial()
      .strict()
      .optional(),
    protect: z.array(z.string().startsWith('/')).optional(),
    workDirMaxBytes: positive.optional(),
    // plrust.allowed_dependencies and plrust.dependency_source, superuser-only settings.
    allowedDependencies: z.string().startsWith('/').optional(),
    dependencySource: z
      .string()
      .refine((s) => s.startsWith('/') || isSparseUrl(s), 'an absolute directory or a sparse+http(s):// index URL')
      .optional(),
  })
  .strict();

export type CompileRequest = z.infer<typeof requestSchema>;

export function parseCompileRequest(text: string): CompileRequest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new PlrustError({
      code: 'BAD_REQUEST',
      message: 'the compile request on stdin is not JSON',
      exitCode: ExitCode.Usage,
    });
  }
  const parsed = requestSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new PlrustError({
      code: 'BAD_REQUEST',
      message: `invalid compile request: ${i.path.join('.') || '(top)'}: ${i.message}`,
      hint: 'see docs/COMPILE.md',
      exitCode: ExitCode.Usage,
    });
  }
  return parsed.data;
}

/** The sandbox and limits the request asks for; what it leaves out has the defaults. */
export function requestConfinement(req: CompileRequest): ConfineSettings {
  const l = req.limits ?? {};
  return {
    sandbox: req.sandbox ?? true,
    limits: {
      memoryBytes: l.memoryBytes ?? DEFAULT_LIMITS.memoryBytes,
      cpuSeconds: l.cpuSeconds ?? DEFAULT_LIMITS.cpuSeconds,
      outputBytes: l.maxLibraryBytes ?? DEFAULT_LIMITS.outputBytes,
      processes: l.processes ?? DEFAULT_LIMITS.processes,
    },
    protect: req.protect ?? [],
  };
}

/** A catalog function as a definition. Its body's positions are reported relative to the body itself. */
function requestToDefinition(req: CompileRequest): FunctionDef {
  return {
    sqlName: req.name,
    rustName: req.name
      .replace(/^.*\./, '')
      .replace(/[^A-Za-z0-9_]/g, '_')
      .replace(/^(?=[0-9])/, '_'),
    args: req.args.map((a) => ({ name: a.name, type: parseSqlType(a.type, `argument ${a.name}`, false) })),
    returns: parseSqlType(req.returns, 'result', true),
    strict: req.strict,
    volatility: 'volatile',
    parallel: 'unsafe',
    source: req.body,
    // A fixed origin: the library (and so the cache entry) must not depend on where the request came from.
    origin: { file: 'body', line: 1, col: 1 },
  };
}

export async function compileRequest(
  req: CompileRequest,
  tc: ResolvedToolchain,
  opts: CompileOptions & { storeRoot: string; prebuiltRoots?: string[] },
) {
  const def = requestToDefinition(req);
  const installed = tc.manifest.targets.map((t) => t.arch);
  const targets: Arch[] = req.targets ?? installed;
  const missing = targets.filter((t) => !installed.includes(t));
  if (missing.length) {
    throw new PlrustError({
      code: 'TARGET_NOT_INSTALLED',
      message: `toolchain ${tc.id} has no ${missing.join(', ')} target`,
      hint: `run \`plrust toolchain install --target ${missing.join(',')}\` as the administrator`,
    });
  }
  let artifacts;
  try {
    const withLimits: CompileOptions = {
      ...opts,
      confine: requestConfinement(req),
      dependencies: {
        storeRoot: opts.storeRoot,
        ...(opts.prebuiltRoots ? { prebuiltRoots: opts.prebuiltRoots } : {}),
        ...(req.allowedDependencies ? { allowList: req.allowedDependencies } : {}),
        ...(req.dependencySource ? { source: req.dependencySource } : {}),
      },
    };
    artifacts = await Promise.all(targets.map((arch) => compileFor(def, tc, arch, withLimits)));
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    // The handler shows the message as the ERROR and the diagnostics as its DETAIL: keep them apart.
    const diagnostics = e.diagnostics.map(({ file: _f, rendered: _r, ...d }) => ({
      ...d,
      rendered: `line ${d.line}:${d.col}: ${d.rule ? `${d.rule}: ` : ''}${d.message}`,
    }));
    throw new PlrustError({
      code: e.code,
      message:
        e.code === 'UNTRUSTED_CODE'
          ? `${req.name} was rejected by the PL/Rust trust checker`
          : `${req.name} does not compile`,
      ...(e.hint ? { hint: e.hint } : {}),
      data: { diagnostics },
    });
  }
  return {
    protocol: PROTOCOL_VERSION,
    ok: true,
    definitionHash: definitionHash(def),
    toolchain: tc.id,
    abiVersion: ABI_VERSION,
    sandboxed: requestConfinement(req).sandbox,
    artifacts: artifacts.map((a) => ({
      arch: a.arch,
      target: a.triple,
      path: a.library,
      sha256: a.sha256,
      size: a.size,
      cached: a.cached,
    })),
  };
}
