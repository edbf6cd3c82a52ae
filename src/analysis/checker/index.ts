/**
 * The trust checker: Rust source in, rule violations out. It runs in three
 * stages, each a precondition of the next: the lexer (a source that does not
 * tokenize is rejected as a whole), delimiter balance (the code must not be
 * able to close the wrapper it is pasted into), then every rule family over
 * the token stream.
 *
 * `context` says where the source will be pasted: 'items' for a .rs file of
 * items placed in the user module, 'fn-body' for an SQL function body placed
 * inside a generated fn. The rules are the same; the context decides where
 * the runaway-loop checkpoint goes.
 */
import { lexRust, type Token } from '../lexer.js';
import { buildTokenTrees } from '../token-tree.js';
import { attributeRules } from './attributes.js';
import { ffiRules } from './ffi.js';
import { keywordRules } from './keywords.js';
import { leakRules } from './leaks.js';
import { macroRules } from './macros.js';
import { moduleRules } from './modules.js';
import { nameRules } from './names.js';
import { objectRules } from './objects.js';
import type { RuleId } from './rules.js';
import { runtimeRules } from './runtime.js';
import { Scan, type CheckContext, type RuleCheck } from './scan.js';
import { soundnessRules } from './soundness.js';

export { CHECKER_VERSION, RULES, type RuleId, type RuleInfo } from './rules.js';
export { classifyMacro } from './macros.js';
export { STANDARD_MACROS } from './names.js';
export type { CheckContext } from './scan.js';

export interface Diagnostic {
  rule: RuleId;
  /** `<file>:<line>:<col>: <rule>: <explanation>`, ready to print. */
  message: string;
  /** The explanation alone, for callers that render positions themselves. */
  explanation: string;
  file: string;
  /** 1-based line and code-point column in the checked source. */
  line: number;
  col: number;
}

export interface CheckOptions {
  file: string;
  context: CheckContext;
  /** Rules not to run (the expanded pass leaves `unsafe` to rustc's own lint). */
  skip?: ReadonlySet<RuleId>;
  /** Findings at these tokens are dropped (the expanded pass: tokens written by a standard macro). */
  waive?: (at: Token) => boolean;
  /** Derive helper attributes of the function's allowed crates (`serde`). */
  helpers?: ReadonlySet<string>;
}

const FAMILIES: readonly (readonly RuleCheck[])[] = [
  macroRules,
  ffiRules,
  attributeRules,
  moduleRules,
  soundnessRules,
  objectRules,
  nameRules,
  leakRules,
  keywordRules,
  runtimeRules,
];

function diagnostic(file: string, rule: RuleId, line: number, col: number, explanation: string): Diagnostic {
  return { rule, message: `${file}:${line}:${col}: ${rule}: ${explanation}`, explanation, file, line, col };
}

export function checkSource(source: string, opts: CheckOptions): Diagnostic[] {
  const { file } = opts;
  const lexed = lexRust(source);
  if (!lexed.ok) return [diagnostic(file, 'lex-error', lexed.error.line, lexed.error.col, lexed.error.message)];

  const { trees, issues } = buildTokenTrees(lexed.tokens);
  if (issues.length > 0) {
    return issues.map((issue) =>
      diagnostic(
        file,
        'unbalanced-delimiters',
        issue.at.line,
        issue.at.col,
        `${issue.message}; the code would ${opts.context === 'items' ? 'close the module' : 'close the function body'} it is placed in`,
      ),
    );
  }

  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  const report = (rule: RuleId, at: Token, explanation: string): void => {
    const key = `${rule}@${at.index}`;
    if (seen.has(key) || opts.skip?.has(rule) || opts.waive?.(at)) return;
    seen.add(key);
    out.push(diagnostic(file, rule, at.line, at.col, explanation));
  };

  for (const t of lexed.tokens) {
    if (t.kind === 'shebang') {
      report(
        'shebang',
        t,
        'a leading `#!` line is not a shebang once the code is placed inside the generated crate; remove it',
      );
    }
  }
  const significant = lexed.tokens.filter((t) => t.kind !== 'doc-comment' && t.kind !== 'shebang');
  const scan = new Scan(file, opts.context, significant, trees, opts.helpers);
  for (const family of FAMILIES) for (const rule of family) rule(scan, report);
  return out.sort((a, b) => a.line - b.line || a.col - b.col);
}
