/**
 * Balanced delimiter groups over the lexer's tokens. User code is pasted
 * inside generated code (`mod user { … }` or a function body), so a stray or
 * mismatched delimiter is exactly how it would escape: every imbalance is a
 * diagnostic here, before anything else looks at the code.
 */
import type { Token } from './lexer.js';

export type Delimiter = '(' | '[' | '{';

export interface Group {
  kind: 'group';
  delim: Delimiter;
  open: Token;
  close: Token;
  children: TokenTree[];
}

export type TokenTree = Token | Group;

export interface DelimiterIssue {
  kind: 'unexpected-close' | 'mismatched-close' | 'unclosed-open';
  /** Where the problem is reported: the offending close, or the unclosed open. */
  at: Token;
  /** The open delimiter involved (for mismatches), if any. */
  open?: Token;
  message: string;
}

export interface TokenTreeResult {
  trees: TokenTree[];
  issues: DelimiterIssue[];
}

const CLOSER: Record<Delimiter, string> = { '(': ')', '[': ']', '{': '}' };

export function isGroup(tree: TokenTree | undefined): tree is Group {
  return tree !== undefined && tree.kind === 'group';
}

export function firstToken(tree: TokenTree): Token {
  return isGroup(tree) ? tree.open : tree;
}

export function lastToken(tree: TokenTree): Token {
  return isGroup(tree) ? tree.close : tree;
}

interface Frame {
  open: Token;
  children: TokenTree[];
}

/**
 * Build token trees. Recovery after an error keeps going so that every
 * imbalance is reported: a stray close is dropped, a mismatched close that
 * matches an outer open closes the groups in between (each reported as
 * unclosed), and opens still pending at the end are reported as unclosed.
 * Trees built after an error are best-effort.
 */
export function buildTokenTrees(tokens: readonly Token[]): TokenTreeResult {
  const issues: DelimiterIssue[] = [];
  const root: TokenTree[] = [];
  const stack: Frame[] = [];
  const top = (): TokenTree[] => (stack.length > 0 ? stack[stack.length - 1]!.children : root);

  const closeFrame = (frame: Frame, close: Token): void => {
    const group: Group = {
      kind: 'group',
      delim: frame.open.text as Delimiter,
      open: frame.open,
      close,
      children: frame.children,
    };
    top().push(group);
  };

  for (const tok of tokens) {
    if (tok.kind === 'open') {
      stack.push({ open: tok, children: [] });
      continue;
    }
    if (tok.kind !== 'close') {
      top().push(tok);
      continue;
    }
    const frame = stack[stack.length - 1];
    if (!frame) {
      issues.push({
        kind: 'unexpected-close',
        at: tok,
        message: `unexpected closing \`${tok.text}\` with no matching opening delimiter`,
      });
      continue;
    }
    if (CLOSER[frame.open.text as Delimiter] === tok.text) {
      stack.pop();
      closeFrame(frame, tok);
      continue;
    }
    const outer = findLastIndex(stack, (f) => CLOSER[f.open.text as Delimiter] === tok.text);
    issues.push({
      kind: 'mismatched-close',
      at: tok,
      open: frame.open,
      message: `mismatched closing \`${tok.text}\`: the innermost open delimiter is \`${frame.open.text}\` at ${frame.open.line}:${frame.open.col}`,
    });
    if (outer < 0) continue;
    while (stack.length - 1 > outer) {
      const inner = stack.pop()!;
      issues.push({ kind: 'unclosed-open', at: inner.open, message: `unclosed \`${inner.open.text}\`` });
      closeFrame(inner, tok);
    }
    closeFrame(stack.pop()!, tok);
  }
  while (stack.length > 0) {
    const frame = stack.pop()!;
    issues.push({
      kind: 'unclosed-open',
      at: frame.open,
      message: `unclosed \`${frame.open.text}\`: no matching \`${CLOSER[frame.open.text as Delimiter]}\` before the end of the source`,
    });
    closeFrame(frame, frame.open);
  }
  return { trees: root, issues };
}

function findLastIndex<T>(items: readonly T[], pred: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (pred(items[i]!)) return i;
  return -1;
}

/** Trees without doc comments: what the grammar sees between attributes. */
export function significant(trees: readonly TokenTree[]): TokenTree[] {
  return trees.filter((t) => isGroup(t) || (t.kind !== 'doc-comment' && t.kind !== 'shebang'));
}

/**
 * How much a punct changes generic-argument (`<…>`) depth. The lexer glues
 * `>>`, `>=`, `>>=` and `<<`, which open or close several levels at once.
 */
export function angleDelta(punct: string): number {
  switch (punct) {
    case '<':
      return 1;
    case '<<':
      return 2;
    case '>':
    case '>=':
      return -1;
    case '>>':
    case '>>=':
      return -2;
    default:
      return 0;
  }
}
