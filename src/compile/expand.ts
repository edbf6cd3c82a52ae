/**
 * The expanded pass of the trust check (src/analysis/expanded.ts says what
 * it checks and why): rustc prints the generated crate after macro
 * expansion, and the same rules run on that. It runs on every cache miss,
 * per target (cfg(target_arch) may expand differently), before the real
 * compilation and against exactly its command line.
 */
import fs from 'node:fs';
import { checkExpanded, ExpandedParseError, type AllowedCrates, type ExpandedFinding } from '../analysis/expanded.js';
import { lexRust } from '../analysis/lexer.js';
import { render, toUserPosition, type UserDiagnostic } from '../analysis/diagnostics.js';
import type { FunctionDef } from '../functions/definition.js';
import { PlrustError, ExitCode } from '../util/errors.js';

/** The compile command line turned into "print the expanded crate to `out`". */
export function expansionArgs(compileArgs: readonly string[], out: string): string[] {
  const args: string[] = [];
  for (let i = 0; i < compileArgs.length; i++) {
    if (compileArgs[i] === '-o') i++;
    else args.push(compileArgs[i]!);
  }
  // verbose-internals: the hygiene table then says which crate defined each macro (the code is printed the same).
  return [...args, '-Zunpretty=expanded,hygiene', '-Zverbose-internals', '-o', out];
}

/** Larger expansions are refused: they come from macros that multiply code, and the check reads it all into memory. */
export const MAX_EXPANDED_BYTES = 32 * 1024 * 1024;

export type ExpansionResult =
  | { ok: true; diagnostics: UserDiagnostic[] }
  /** rustc rejected the crate while expanding it: the compilation would fail the same way. */
  | { ok: false; stderr: string };

/**
 * Check the crate printed by `expand` (rustc with `expansionArgs`, run
 * wherever the caller runs rustc: in the compile sandbox for builds) into
 * `printed`, a host path; the file is removed afterwards.
 */
export async function checkExpandedCrate(
  def: FunctionDef,
  expand: () => Promise<{ code: number | null; stderr: string }>,
  printed: string,
  /** The function's allowed crates: their macros' output is theirs (src/analysis/expanded.ts). */
  allowed?: AllowedCrates,
): Promise<ExpansionResult> {
  try {
    const r = await expand();
    if (r.code !== 0) return { ok: false, stderr: r.stderr };
    const size = fs.statSync(printed).size;
    if (size > MAX_EXPANDED_BYTES) {
      throw new PlrustError({
        code: 'EXPANSION_TOO_LARGE',
        message: `${def.sqlName}: its macros expand to ${size} bytes of code, more than the ${MAX_EXPANDED_BYTES} the trust check reads`,
        hint: 'Write the code out instead of generating it with recursive or repeated macros.',
        exitCode: ExitCode.Untrusted,
      });
    }
    let findings: ExpandedFinding[];
    try {
      findings = checkExpanded(fs.readFileSync(printed, 'utf8'), def.origin.file, allowed);
    } catch (e) {
      if (!(e instanceof ExpandedParseError)) throw e;
      throw new PlrustError({
        code: 'EXPANSION_UNREADABLE',
        message: `${def.sqlName}: the macro-expanded program could not be checked: ${e.message}`,
        hint: 'This is a bug in plrust (or an unsupported rustc): the function is refused rather than compiled unchecked.',
        exitCode: ExitCode.Failed,
      });
    }
    return { ok: true, diagnostics: findings.map((f) => toDiagnostic(def, f)) };
  } finally {
    fs.rmSync(printed, { force: true });
  }
}

/** A finding of the expanded pass at the user's first call of the macro that produced it, else at the function. */
function toDiagnostic(def: FunctionDef, f: ExpandedFinding): UserDiagnostic {
  let pos = { line: def.origin.line, col: def.origin.col };
  if (f.macro !== undefined) {
    const tokens = lexRust(def.source).tokens;
    const call = tokens.findIndex(
      (t, i) => t.value === f.macro && tokens[i + 1]?.kind === 'punct' && tokens[i + 1]?.text === '!',
    );
    if (call >= 0) pos = toUserPosition(def.origin, tokens[call]!.line, tokens[call]!.col);
  }
  const where = f.macro !== undefined ? `in the expansion of \`${f.macro}!\`` : 'after macro expansion';
  const d = {
    severity: 'error' as const,
    rule: f.rule,
    file: def.origin.file,
    line: pos.line,
    col: pos.col,
    message: `${f.explanation} (${where})`,
  };
  return { ...d, rendered: render(d) };
}
