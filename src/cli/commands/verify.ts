/**
 * `plrust verify <lib.so...>`: the linked-symbol allowlist check on libraries
 * built elsewhere (or by an older plrust).
 */
import type { Context } from '../context.js';
import { ExitCode, PlrustError } from '../../util/errors.js';
import { formatImport, verifyLibrary, type VerifyReport } from '../../verify/verify.js';

interface VerifyFailure {
  path: string;
  ok: false;
  error: { code: string; message: string; hint?: string };
}

type VerifyResult = VerifyReport | VerifyFailure;

async function verifyOne(path: string): Promise<VerifyResult> {
  try {
    return await verifyLibrary(path);
  } catch (e) {
    if (!(e instanceof PlrustError)) throw e;
    return { path, ok: false, error: { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } };
  }
}

/** A denied import outranks an unreadable file: both fail, but "untrusted" is the more specific answer. */
function exitCodeFor(results: VerifyResult[]): ExitCode {
  if (results.some((r) => 'denied' in r && !r.ok)) return ExitCode.Untrusted;
  if (results.some((r) => !r.ok)) return ExitCode.Failed;
  return ExitCode.Ok;
}

export async function verify(ctx: Context, _opts: object, paths: string[]): Promise<void> {
  const results = await Promise.all(paths.map(verifyOne));
  ctx.out.result({ ok: results.every((r) => r.ok), libraries: results }, (print) => {
    for (const r of results) {
      if ('error' in r) {
        print(`error: ${r.error.message}`);
      } else if (r.ok) {
        print(`ok: ${r.path} (${r.machine}, ${r.imported.length} imports, all allowed)`);
      } else {
        print(`untrusted: ${r.path} (${r.machine})`);
        for (const s of r.denied) print(`  ${formatImport(s)}: ${s.reason}`);
        for (const l of r.deniedLibraries) print(`  ${l.name}: ${l.reason}`);
        for (const c of r.loadTimeCode) print(`  ${c}: code that would run when the library is loaded`);
      }
    }
  });
  process.exitCode = exitCodeFor(results);
}
