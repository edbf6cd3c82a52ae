/**
 * Compiles many definitions for many targets, a few rustc processes at a
 * time, and collects every failure before giving up so one run reports all
 * broken functions at once.
 */
import os from 'node:os';
import type { Arch } from '../config/schema.js';
import type { FunctionDef } from '../functions/definition.js';
import { compileFor, CompileError, type Artifact, type CompileOptions } from './compile-function.js';
import type { ResolvedToolchain } from '../toolchain/store.js';
import { PlrustError, ExitCode } from '../util/errors.js';
import type { UserDiagnostic } from '../analysis/diagnostics.js';

export interface BuiltFunction {
  def: FunctionDef;
  artifacts: Artifact[];
}

async function pool<T>(jobs: (() => Promise<T>)[], width: number): Promise<PromiseSettledResult<T>[]> {
  const results: PromiseSettledResult<T>[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      try {
        results[i] = { status: 'fulfilled', value: await jobs[i]!() };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, worker));
  return results;
}

export async function buildAll(
  defs: FunctionDef[],
  tc: ResolvedToolchain,
  targets: Arch[],
  opts: CompileOptions,
): Promise<BuiltFunction[]> {
  const jobs = defs.flatMap((def) => targets.map((arch) => ({ def, arch })));
  const results = await pool(
    jobs.map((j) => () => compileFor(j.def, tc, j.arch, opts)),
    Math.max(1, os.cpus().length),
  );
  const failures = new Map<FunctionDef, unknown>();
  results.forEach((r, i) => {
    // The same source error shows for every target; report it once per function.
    if (r.status === 'rejected' && !failures.has(jobs[i]!.def)) failures.set(jobs[i]!.def, r.reason);
  });
  if (failures.size > 0) {
    const errors = [...failures.values()];
    const diagnostics: UserDiagnostic[] = errors.flatMap((e) => (e instanceof CompileError ? e.diagnostics : []));
    const other = errors.find((e) => !(e instanceof CompileError));
    if (other && failures.size === 1) throw other;
    const untrusted = errors.every((e) => e instanceof PlrustError && e.code === 'UNTRUSTED_CODE');
    throw new PlrustError({
      code: untrusted ? 'UNTRUSTED_CODE' : 'COMPILE_FAILED',
      message: `${failures.size} of ${defs.length} function${defs.length > 1 ? 's' : ''} failed:\n${errors.map((e) => (e instanceof Error ? e.message : String(e))).join('\n')}`,
      hint: 'nothing was written to the output directory',
      exitCode: untrusted ? ExitCode.Untrusted : ExitCode.Failed,
      data: { diagnostics },
    });
  }
  return defs.map((def) => ({
    def,
    artifacts: targets.map(
      (arch) =>
        (results[jobs.findIndex((j) => j.def === def && j.arch === arch)] as PromiseFulfilledResult<Artifact>).value,
    ),
  }));
}
