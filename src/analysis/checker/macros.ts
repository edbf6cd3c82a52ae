/**
 * Macros that read files or the environment at compile time, emit machine
 * code, or write to the backend's stdio, and the macro_rules tricks that
 * would hide a name from a token-level check.
 *
 * A macro can only be invoked under a name that appears literally in the
 * source: as `name!` (whatever path precedes it), as the new name of a
 * `use … as` rename, or through a macro_rules metavariable (`$m!`). The first
 * two are matched by name here; the third is rejected outright, since the
 * name is then only known at expansion time.
 */
import type { RuleCheck, Scan, Report, UseLeaf } from './scan.js';
import type { RuleId } from './rules.js';
import { STANDARD_MACROS } from './names.js';

const FORBIDDEN: Readonly<Record<string, string>> = {
  include: 'reads and compiles a file at build time',
  include_str: 'reads a file at build time',
  include_bytes: 'reads a file at build time',
  env: 'reads the build environment',
  option_env: 'reads the build environment',
  asm: 'emits arbitrary machine code',
  global_asm: 'emits arbitrary machine code',
  naked_asm: 'emits arbitrary machine code',
};

const STDIO: Readonly<Record<string, string>> = {
  print: "writes to the backend's stdout",
  println: "writes to the backend's stdout",
  eprint: "writes to the backend's stderr",
  eprintln: "writes to the backend's stderr",
  dbg: "writes to the backend's stderr",
};

/** The rule a call of the macro `name!` breaks, if any. */
export function classifyMacro(name: string): { rule: RuleId; why: string } | undefined {
  const forbidden = FORBIDDEN[name];
  if (forbidden !== undefined) return { rule: 'forbidden-macro', why: forbidden };
  const stdio = STDIO[name];
  if (stdio !== undefined)
    return { rule: 'stdio-macro', why: `${stdio}; return the text in the result or an error instead` };
  return undefined;
}

/** Aliases created by `use path::name as alias` for the macros above. */
function renamedMacros(uses: readonly UseLeaf[]): Map<string, string> {
  const aliases = new Map<string, string>();
  for (const leaf of uses) {
    const original = leaf.path[leaf.path.length - 1];
    if (leaf.glob || leaf.alias === undefined || leaf.alias === '_' || original === undefined) continue;
    if (classifyMacro(original)) aliases.set(leaf.alias, original);
  }
  return aliases;
}

const invocations: RuleCheck = (scan, report) => {
  const aliases = renamedMacros(scan.uses);
  scan.tokens.forEach((t, i) => {
    if (!scan.isName(i) || !scan.isPunct(i + 1, '!') || !scan.isOpen(i + 2)) return;
    if (scan.isKw(i, 'macro_rules')) return;
    const original = aliases.get(t.value) ?? t.value;
    const hit = classifyMacro(original);
    if (!hit) return;
    const via = original === t.value ? '' : ` (\`${t.value}\` is \`${original}\` renamed by \`use … as\`)`;
    report(hit.rule, t, `\`${original}!\` ${hit.why}${via}`);
  });
};

/**
 * The names of the file-reading, assembly and stdio macros wherever they
 * appear as identifiers, not only as `name!`: a user macro can receive the
 * name and the `!` as separate tokens and put them together (`env` alone is
 * too common a name; its spliced uses are found by the expanded pass).
 */
const BARE_NAMES = new Set([
  'include',
  'include_str',
  'include_bytes',
  'option_env',
  'asm',
  'global_asm',
  'naked_asm',
  'println',
  'eprintln',
  'eprint',
  'dbg',
]);

const bareNames: RuleCheck = (scan, report) => {
  scan.tokens.forEach((t, i) => {
    if (!scan.isName(i) || !BARE_NAMES.has(t.value) || scan.isPunct(i + 1, '!') || scan.isPunct(i - 1, '.')) return;
    const hit = classifyMacro(t.value)!;
    report(
      hit.rule,
      t,
      `the name \`${t.value}\` outside a call can be assembled into \`${t.value}!\` by a macro, which ${hit.why.split(';')[0]}`,
    );
  });
};

/**
 * Keywords that introduce the constructs the soundness rules look for. A
 * user-defined macro that receives one as a separate token can assemble the
 * construct out of the checker's sight (`m!(fn, …)` → `fn(…)`), so they may
 * not appear in a user macro's arguments; standard macros (names reserved
 * to them) parse their arguments as expressions, patterns or items.
 */
const SPLICED_KEYWORDS = new Set([
  'fn',
  'dyn',
  'impl',
  'trait',
  'mod',
  'const',
  'unsafe',
  'extern',
  'async',
  'type',
  'use',
  'macro_rules',
]);

const keywordArguments: RuleCheck = (scan, report) => {
  scan.tokens.forEach((t, i) => {
    if (!scan.isName(i) || !scan.isPunct(i + 1, '!') || !scan.isOpen(i + 2)) return;
    if (scan.isKw(i, 'macro_rules') || STANDARD_MACROS.has(t.value)) return;
    const close = scan.match[i + 2]!;
    for (let k = i + 3; k < close; k++) {
      const kw = scan.at(k)!;
      const spliced =
        (kw.kind === 'ident' && SPLICED_KEYWORDS.has(kw.value) && !scan.isPunct(k - 1, '$')) ||
        (kw.kind === 'punct' && kw.text === '#');
      if (spliced) {
        report(
          'macro-splice',
          kw,
          `\`${kw.value}\` handed to the user-defined macro \`${t.value}!\` can be assembled into code the checker never sees; write it inside the macro`,
        );
        return;
      }
    }
  });
};

const renames: RuleCheck = (scan, report) => {
  for (const leaf of scan.uses) {
    const original = leaf.path[leaf.path.length - 1];
    if (leaf.glob || leaf.alias === undefined || leaf.alias === '_' || original === undefined) continue;
    const hit = classifyMacro(original);
    if (hit) report(hit.rule, leaf.at, `\`use … ${original} as ${leaf.alias}\` renames a macro that ${hit.why}`);
  }
};

/** The end of the `use` declaration starting at `i` (its `;`, or the end). */
function useEnd(scan: Scan, i: number): number {
  let k = i + 1;
  while (k < scan.tokens.length && !scan.isPunct(k, ';')) k = scan.after(k);
  return k;
}

function spliceInUse(scan: Scan, report: Report): void {
  scan.tokens.forEach((_, i) => {
    if (!scan.isKw(i, 'use') || scan.isPunct(i + 1, '<')) return;
    const end = useEnd(scan, i);
    for (let k = i + 1; k < end; k++) {
      if (scan.isPunct(k, '$')) {
        report(
          'macro-splice',
          scan.at(k)!,
          "a `use` path built from a macro metavariable can rename any item out of the checker's sight",
        );
        return;
      }
    }
  });
}

const splices: RuleCheck = (scan, report) => {
  scan.tokens.forEach((t, i) => {
    if (!scan.isPunct(i, '$') || !scan.isMetavar(i + 1)) return;
    if (scan.isPunct(i + 2, '!') && scan.isOpen(i + 3)) {
      report(
        'macro-splice',
        t,
        `\`$${scan.at(i + 1)!.value}!\` invokes a macro whose name is only known at expansion time`,
      );
    }
  });
  spliceInUse(scan, report);
};

export const macroRules: readonly RuleCheck[] = [invocations, bareNames, keywordArguments, renames, splices];
