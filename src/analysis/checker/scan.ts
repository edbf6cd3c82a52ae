/**
 * The view every rule works on: the significant tokens (no doc comments) as
 * a flat array with matching-delimiter links, plus the parsed `use` trees.
 * Rules are token patterns, so text inside literals and comments can never
 * match them.
 */
import type { Token } from '../lexer.js';
import { angleDelta, type TokenTree } from '../token-tree.js';
import type { RuleId } from './rules.js';

export type CheckContext = 'items' | 'fn-body';

export type Report = (rule: RuleId, at: Token, explanation: string) => void;

export type RuleCheck = (scan: Scan, report: Report) => void;

export interface UseLeaf {
  /** Path segments as written, `self` leaves folded into their parent (`{self as m}` → `[…, mem]`). */
  path: string[];
  /** The `as` name, if renamed. */
  alias: string | undefined;
  glob: boolean;
  /** The token to report at: the leaf's last segment or its `*`. */
  at: Token;
}

export class Scan {
  readonly match: Int32Array;
  readonly uses: UseLeaf[];

  constructor(
    readonly file: string,
    readonly context: CheckContext,
    readonly tokens: readonly Token[],
    readonly trees: readonly TokenTree[],
    /** Derive helper attributes the function's allowed crates declare (checker/attributes.ts). */
    readonly helpers: ReadonlySet<string> = new Set(),
  ) {
    this.match = matchDelimiters(tokens);
    this.uses = parseUses(this);
  }

  at(i: number): Token | undefined {
    return this.tokens[i];
  }

  /** `$name` in a macro_rules body: a metavariable, never a keyword or a path. */
  isMetavar(i: number): boolean {
    const t = this.tokens[i];
    return t !== undefined && (t.kind === 'ident' || t.kind === 'raw-ident') && this.isPunct(i - 1, '$');
  }

  /** A keyword: a plain (not raw) identifier with that text, not a metavariable. */
  isKw(i: number, kw: string): boolean {
    const t = this.tokens[i];
    return t !== undefined && t.kind === 'ident' && t.value === kw && !this.isPunct(i - 1, '$');
  }

  /** An identifier or raw identifier naming `name` (`r#leak` names `leak`). */
  isName(i: number, name?: string): boolean {
    const t = this.tokens[i];
    if (t === undefined || (t.kind !== 'ident' && t.kind !== 'raw-ident') || this.isPunct(i - 1, '$')) return false;
    return name === undefined || t.value === name;
  }

  isPunct(i: number, p?: string): boolean {
    const t = this.tokens[i];
    return t !== undefined && t.kind === 'punct' && (p === undefined || t.text === p);
  }

  isOpen(i: number, d?: string): boolean {
    const t = this.tokens[i];
    return t !== undefined && t.kind === 'open' && (d === undefined || t.text === d);
  }

  isLiteral(i: number): boolean {
    const t = this.tokens[i];
    return (
      t !== undefined &&
      !['ident', 'raw-ident', 'lifetime', 'punct', 'open', 'close', 'doc-comment', 'shebang'].includes(t.kind)
    );
  }

  /** Index just past the group opened at `i` (or i+1 when `i` is not an open). */
  after(i: number): number {
    return this.isOpen(i) ? this.match[i]! + 1 : i + 1;
  }

  /**
   * From a `<` at `i`, the index just past its matching `>`. Groups are
   * skipped whole; glued `>>`, `>=`, `>>=` close several levels, `<<` opens two.
   */
  skipAngles(i: number, end = this.tokens.length): number {
    let depth = 0;
    let k = i;
    while (k < end) {
      const t = this.tokens[k]!;
      if (t.kind === 'open') {
        k = this.match[k]! + 1;
        continue;
      }
      if (t.kind === 'punct') depth += angleDelta(t.text);
      k++;
      if (depth <= 0) return k;
    }
    return k;
  }

  /** Split the tokens of [from, to) at top-level commas into [start, end) ranges. */
  splitCommas(from: number, to: number): Array<[number, number]> {
    const parts: Array<[number, number]> = [];
    let start = from;
    let k = from;
    while (k < to) {
      if (this.isOpen(k)) {
        k = this.match[k]! + 1;
        continue;
      }
      if (this.isPunct(k, ',')) {
        parts.push([start, k]);
        start = k + 1;
      }
      k++;
    }
    if (start < to) parts.push([start, to]);
    return parts;
  }
}

/** Matching delimiter index for every open/close; best-effort when unbalanced. */
function matchDelimiters(tokens: readonly Token[]): Int32Array {
  const match = new Int32Array(tokens.length).fill(-1);
  const stack: number[] = [];
  tokens.forEach((t, i) => {
    if (t.kind === 'open') stack.push(i);
    else if (t.kind === 'close') {
      const o = stack.pop();
      if (o !== undefined) {
        match[o] = i;
        match[i] = o;
      }
    }
  });
  for (const o of stack) match[o] = tokens.length - 1;
  return match;
}

/**
 * Every `use` declaration's leaves. `use` is a strict keyword, so each
 * occurrence is a use declaration, except `use<…>` precise-capture bounds.
 */
function parseUses(scan: Scan): UseLeaf[] {
  const leaves: UseLeaf[] = [];
  scan.tokens.forEach((_, i) => {
    if (!scan.isKw(i, 'use') || scan.isPunct(i + 1, '<')) return;
    useTree(scan, i + 1, [], leaves);
  });
  return leaves;
}

function useTree(scan: Scan, start: number, prefix: string[], out: UseLeaf[]): number {
  const path = [...prefix];
  let i = start;
  if (scan.isPunct(i, '::')) i++;
  for (;;) {
    if (scan.isPunct(i, '*')) {
      out.push({ path, alias: undefined, glob: true, at: scan.at(i)! });
      return i + 1;
    }
    if (scan.isOpen(i, '{')) {
      const close = scan.match[i]!;
      for (const [a] of scan.splitCommas(i + 1, close)) useTree(scan, a, path, out);
      return close + 1;
    }
    if (scan.isPunct(i, '$')) i++;
    const seg = scan.at(i);
    if (seg === undefined || (seg.kind !== 'ident' && seg.kind !== 'raw-ident')) return i;
    if (seg.value !== 'self' || path.length === 0) path.push(seg.value);
    i++;
    if (scan.isPunct(i, '::')) {
      i++;
      continue;
    }
    let alias: string | undefined;
    if (scan.isKw(i, 'as') && scan.at(i + 1) !== undefined) {
      alias = scan.at(i + 1)!.value;
      i += 2;
    }
    out.push({ path, alias, glob: false, at: seg });
    return i;
  }
}
