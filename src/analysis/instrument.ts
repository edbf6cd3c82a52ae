/**
 * Runaway-code checkpoints. A function that loops forever must still be
 * cancellable by statement_timeout and pg_cancel_backend, and the only way
 * to stop safe Rust cooperatively is for it to call back into the runtime.
 * So the generated crate calls `::plrust_rt::checkpoint()` at:
 *
 * - the start of every fn body (recursion passes through here),
 * - the start of every `loop`, `while` and `for` body,
 * - the start of every closure body (iterator adapters loop inside std and
 *   call back into user code only through closures): block closures get the
 *   call first in their block; expression closures `|x| e` become
 *   `|x| { ::plrust_rt::checkpoint(); e }`, where `e` runs to the next `,`
 *   or `;` at its nesting level or the end of the enclosing group,
 * - the first statement of an SQL function body (context 'fn-body').
 *
 * Text is only ever inserted on the line where it lands, never with a
 * newline, so line numbers of the user's code are unchanged and rustc's
 * diagnostics map back directly (columns after an insertion shift; see
 * `instrumentDetailed`).
 *
 * Compile-time code is left alone because the call is not a const fn: const
 * fn bodies, const and static initialisers, inline `const { }` blocks, array
 * lengths `[x; N]`, and enum discriminants. Closures and nested fn items
 * inside those still run at run time and are instrumented. Macro
 * invocation arguments and macro_rules transcribers are treated as run-time
 * code: if that guess is wrong the result fails to compile, which is safe.
 *
 * A loop or fn whose body is a macro metavariable (`loop $b`) has no braces
 * to insert into; such sites are returned as `unresolved` (the checker turns
 * them into the 'uninstrumentable' rule) and `instrument` refuses them.
 *
 * User-defined macros can take their arguments apart: `($k:ident $a:block,
 * $b:block) => { $k $b }` called as `m!(loop {}, {})` keeps the `loop` and
 * drops its instrumented block, and `tt` fragments can reassemble closure
 * bars from anywhere. So loops, fns and `|` tokens may not appear in the
 * arguments of a macro that is not a known std macro (or that the source
 * shadows or renames); inside macro_rules transcribers they are literal and
 * instrumented like any other code. A `$v:vis` fragment may expand to
 * nothing, so it does not count as an operand before a `|`.
 */
import { lexRust, type Token } from './lexer.js';
import {
  angleDelta,
  buildTokenTrees,
  firstToken,
  isGroup,
  lastToken,
  significant,
  type Group,
  type TokenTree,
} from './token-tree.js';
import { PlrustError } from '../util/errors.js';

export type InstrumentContext = 'items' | 'fn-body';

export const CHECKPOINT_CALL = '::plrust_rt::checkpoint();';

export type CheckpointSite = 'fn' | 'loop' | 'while' | 'for' | 'closure' | 'body';

export interface Insertion {
  /** UTF-16 index in the original source where `text` goes. */
  index: number;
  text: string;
  site: CheckpointSite;
}

export interface UnresolvedSite {
  site: CheckpointSite;
  at: Token;
  reason: string;
}

export interface InstrumentPlan {
  insertions: Insertion[];
  unresolved: UnresolvedSite[];
}

export interface PlacedInsertion extends Insertion {
  /** 1-based line and code-point column in the original source. */
  line: number;
  col: number;
}

type Mode = 'run' | 'const';

const OPERAND_KEYWORDS = new Set(['self', 'Self', 'super', 'crate', 'true', 'false']);

const KEYWORDS = new Set([
  'as',
  'break',
  'const',
  'continue',
  'crate',
  'else',
  'enum',
  'extern',
  'false',
  'fn',
  'for',
  'if',
  'impl',
  'in',
  'let',
  'loop',
  'match',
  'mod',
  'move',
  'mut',
  'pub',
  'ref',
  'return',
  'self',
  'Self',
  'static',
  'struct',
  'super',
  'trait',
  'true',
  'type',
  'unsafe',
  'use',
  'where',
  'while',
  'async',
  'await',
  'dyn',
  'yield',
  'box',
  'become',
  'do',
  'try',
]);

/** Keywords that cannot occur in a fn signature or a loop header: reaching one means the body is missing. */
const STOP_KEYWORDS = new Set(['fn', 'struct', 'enum', 'trait', 'mod', 'use', 'static', 'pub', 'macro_rules', 'type']);

const FN_QUALIFIERS = new Set(['unsafe', 'async', 'extern', 'safe']);

/**
 * std/core macros whose arguments are expressions, patterns, format strings
 * or items that they emit as parsed: they never take the pieces of a loop or
 * closure apart.
 */
const STD_MACROS = new Set([
  'assert',
  'assert_eq',
  'assert_ne',
  'debug_assert',
  'debug_assert_eq',
  'debug_assert_ne',
  'format',
  'format_args',
  'write',
  'writeln',
  'panic',
  'vec',
  'matches',
  'todo',
  'unimplemented',
  'unreachable',
  'concat',
  'stringify',
  'cfg',
  'line',
  'column',
  'file',
  'module_path',
  'compile_error',
  'thread_local',
  'print',
  'println',
  'eprint',
  'eprintln',
  'dbg',
  'is_x86_feature_detected',
  'is_aarch64_feature_detected',
]);

const STD_ROOTS = new Set(['std', 'core', 'alloc']);

function tokenAt(nodes: readonly TokenTree[], i: number): Token | undefined {
  const n = nodes[i];
  return n === undefined || isGroup(n) ? undefined : n;
}

function punctAt(nodes: readonly TokenTree[], i: number, p: string): boolean {
  const t = tokenAt(nodes, i);
  return t !== undefined && t.kind === 'punct' && t.text === p;
}

function groupAt(nodes: readonly TokenTree[], i: number, delim?: string): Group | undefined {
  const n = nodes[i];
  return isGroup(n) && (delim === undefined || n.delim === delim) ? n : undefined;
}

/** A keyword (plain identifier, not a `$metavariable`). */
function kwAt(nodes: readonly TokenTree[], i: number, kw?: string): string | undefined {
  const t = tokenAt(nodes, i);
  if (t === undefined || t.kind !== 'ident' || punctAt(nodes, i - 1, '$')) return undefined;
  if (kw !== undefined) return t.value === kw ? kw : undefined;
  return t.value;
}

function isNameAt(nodes: readonly TokenTree[], i: number): boolean {
  const t = tokenAt(nodes, i);
  return t !== undefined && (t.kind === 'raw-ident' || (t.kind === 'ident' && !KEYWORDS.has(t.value)));
}

function isAttributeGroup(nodes: readonly TokenTree[], i: number): boolean {
  return (
    groupAt(nodes, i, '[') !== undefined &&
    (punctAt(nodes, i - 1, '#') || (punctAt(nodes, i - 1, '!') && punctAt(nodes, i - 2, '#')))
  );
}

/**
 * Whether the node at `i` completes an operand, so a following `|` is bit-or
 * and a following `{` ends a condition. `emptyable` names transcriber
 * metavariables that may expand to nothing.
 */
function endsOperand(nodes: readonly TokenTree[], i: number, emptyable: ReadonlySet<string> = new Set()): boolean {
  const n = nodes[i];
  if (n === undefined) return false;
  if (isGroup(n)) return !isAttributeGroup(nodes, i);
  switch (n.kind) {
    case 'ident':
      if (punctAt(nodes, i - 1, '$')) return !emptyable.has(n.value);
      return !KEYWORDS.has(n.value) || OPERAND_KEYWORDS.has(n.value);
    case 'raw-ident':
      return true;
    case 'punct':
      // `$( … )?` in a macro transcriber may expand to nothing: not an operand.
      return n.text === '?' && !(groupAt(nodes, i - 1, '(') !== undefined && punctAt(nodes, i - 2, '$'));
    case 'lifetime':
    case 'doc-comment':
    case 'shebang':
    case 'open':
    case 'close':
      return false;
    default:
      return true;
  }
}

/** From a `<` at `i`, the index just past its matching `>`. */
function skipAngles(nodes: readonly TokenTree[], i: number, to: number): number {
  let depth = 0;
  let k = i;
  while (k < to) {
    const t = tokenAt(nodes, k);
    k++;
    if (t?.kind === 'punct') depth += angleDelta(t.text);
    if (depth <= 0) return k;
  }
  return k;
}

/** `impl` used as a type (`-> impl Trait`, `x: impl Trait`) rather than an impl item. */
function implIsType(nodes: readonly TokenTree[], i: number): boolean {
  const p = nodes[i - 1];
  if (p === undefined) return false;
  if (isGroup(p)) return false;
  if (p.kind === 'lifetime') return true;
  if (p.kind === 'punct') return ['->', ':', '&', '&&', '<', ',', '=', '+', '*', '|'].includes(p.text);
  return p.kind === 'ident' && ['mut', 'dyn', 'as'].includes(p.value);
}

/** A keyword that cannot appear before the body of a fn or loop header. */
function isStop(nodes: readonly TokenTree[], i: number): boolean {
  const kw = kwAt(nodes, i);
  if (kw === 'fn') return groupAt(nodes, i + 1, '(') === undefined;
  if (kw === 'impl') return !implIsType(nodes, i);
  if (kw !== undefined && STOP_KEYWORDS.has(kw)) return true;
  return punctAt(nodes, i, '#') || punctAt(nodes, i, ';');
}

/** Names that a `macro_rules!` in the source defines, or that a `use … as` introduces. */
function userMacroNames(trees: readonly TokenTree[]): Set<string> {
  const names = new Set<string>();
  const visit = (nodes: readonly TokenTree[]): void => {
    nodes.forEach((n, i) => {
      if (isGroup(n)) visit(significant(n.children));
      else if ((kwAt(nodes, i - 2, 'macro_rules') && punctAt(nodes, i - 1, '!')) || kwAt(nodes, i - 1, 'as'))
        names.add(n.value);
    });
  };
  visit(significant(trees));
  return names;
}

class Planner {
  readonly insertions: Insertion[] = [];
  readonly unresolved: UnresolvedSite[] = [];
  /** Name of the innermost user-defined macro whose arguments are being walked. */
  private userMacro: string | undefined;
  /** Depth of macro arguments of any kind: there `static`/`const` items may run at run time. */
  private macroArgs = 0;
  /** Metavariables of the current transcriber that may expand to nothing. */
  private emptyable: ReadonlySet<string> = new Set();

  constructor(
    private readonly call: string,
    private readonly userMacros: ReadonlySet<string>,
  ) {}

  private refuse(at: Token, site: CheckpointSite, reason: string): void {
    this.unresolved.push({ site, at, reason });
  }

  private insertBefore(tok: Token, site: CheckpointSite): void {
    this.insertions.push({ index: tok.index, text: `${this.call} `, site });
  }

  /**
   * Insert at the start of a block, after its inner attributes and inner doc
   * comments (those must stay first), right before the first statement.
   */
  blockStart(children: readonly TokenTree[], close: Token | undefined, site: CheckpointSite): void {
    let k = 0;
    for (;;) {
      const c = children[k];
      if (c !== undefined && !isGroup(c) && c.kind === 'doc-comment' && c.docStyle === 'inner') {
        k++;
      } else if (punctAt(children, k, '#') && punctAt(children, k + 1, '!') && groupAt(children, k + 2, '[')) {
        k += 3;
      } else {
        break;
      }
    }
    const first = children[k];
    if (first !== undefined) this.insertBefore(firstToken(first), site);
    else if (close !== undefined) this.insertBefore(close, site);
  }

  private block(group: Group, site: CheckpointSite, mode: Mode, instrumented: boolean): void {
    if (instrumented) this.blockStart(group.children, group.close, site);
    const kids = significant(group.children);
    this.seq(kids, 0, kids.length, mode, false);
  }

  seq(nodes: readonly TokenTree[], from: number, to: number, mode: Mode, matchArms: boolean): void {
    let i = from;
    while (i < to) {
      const n = nodes[i]!;
      if (isGroup(n)) {
        this.group(nodes, i, mode);
        i++;
        continue;
      }
      if (n.kind === 'ident' && !punctAt(nodes, i - 1, '$')) {
        const next = this.keyword(nodes, i, to, mode);
        if (next > i) {
          i = next;
          continue;
        }
      }
      if (n.kind === 'punct' && (n.text === '|' || n.text === '||') && this.userMacro !== undefined) {
        this.refuse(
          n,
          'closure',
          `a \`${n.text}\` in the arguments of the user-defined macro \`${this.userMacro}!\` could be reassembled into a closure without a checkpoint; write the closure inside the macro or pass a named fn`,
        );
        i++;
        continue;
      }
      if (n.kind === 'punct' && (n.text === '|' || n.text === '||') && this.closureStarts(nodes, i, from, matchArms)) {
        i = this.closure(nodes, i, to);
        continue;
      }
      i++;
    }
  }

  private group(nodes: readonly TokenTree[], i: number, mode: Mode): void {
    const g = nodes[i] as Group;
    const kids = significant(g.children);
    if (isAttributeGroup(nodes, i)) return;
    // Macro arguments may be expanded anywhere, including run-time code.
    const macroName = punctAt(nodes, i - 1, '!') ? tokenAt(nodes, i - 2) : undefined;
    if (macroName !== undefined && (macroName.kind === 'ident' || macroName.kind === 'raw-ident')) {
      const name = macroName.value;
      const root = punctAt(nodes, i - 3, '::') ? rootOfPath(nodes, i - 3) : undefined;
      // The name decides, never the path alone: `core::m!` may be a user macro re-exported by a module
      // the user named `core` (the checker's reserved-name rule rejects that module; this keeps the
      // instrumenter from trusting it either way).
      const isStd = STD_MACROS.has(name) && !this.userMacros.has(name) && (root === undefined || STD_ROOTS.has(root));
      const outer = this.userMacro;
      if (!isStd) this.userMacro = name;
      this.macroArgs++;
      this.seq(kids, 0, kids.length, 'run', false);
      this.macroArgs--;
      this.userMacro = outer;
      return;
    }
    if (g.delim === '[') {
      const semi = kids.findIndex((_, k) => punctAt(kids, k, ';'));
      if (semi >= 0) {
        this.seq(kids, 0, semi, mode, false);
        this.seq(kids, semi + 1, kids.length, 'const', false);
        return;
      }
    }
    this.seq(kids, 0, kids.length, mode, false);
  }

  /** Handle a keyword at `i`; returns the index to continue from, or `i` when nothing special applies. */
  private keyword(nodes: readonly TokenTree[], i: number, to: number, mode: Mode): number {
    const kw = kwAt(nodes, i);
    const isLoopOrFn =
      kw === 'loop' ||
      kw === 'while' ||
      (kw === 'for' && !punctAt(nodes, i + 1, '<')) ||
      (kw === 'fn' && !groupAt(nodes, i + 1, '('));
    if (isLoopOrFn && this.userMacro !== undefined) {
      this.refuse(
        tokenAt(nodes, i)!,
        kw === 'fn' ? 'fn' : 'loop',
        `\`${kw}\` in the arguments of the user-defined macro \`${this.userMacro}!\` could be separated from its checkpoint by the macro; write it inside the macro body instead`,
      );
      return i + 1;
    }
    switch (kw) {
      case 'macro_rules':
        return this.macroRules(nodes, i);
      case 'fn':
        return groupAt(nodes, i + 1, '(') ? i + 1 : this.fnItem(nodes, i, to);
      case 'loop': {
        const body = groupAt(nodes, i + 1, '{');
        if (!body) {
          this.unresolved.push({
            site: 'loop',
            at: tokenAt(nodes, i)!,
            reason: 'the `loop` body is not a `{ … }` block',
          });
          return i + 1;
        }
        this.block(body, 'loop', mode, mode === 'run');
        return i + 2;
      }
      case 'while':
        return this.loopWithHeader(nodes, i, i + 1, to, mode, 'while');
      case 'for': {
        if (punctAt(nodes, i + 1, '<')) return i + 1;
        let k = i + 1;
        while (k < to && !kwAt(nodes, k, 'in') && !isStop(nodes, k)) k++;
        if (!kwAt(nodes, k, 'in')) {
          this.unresolved.push({ site: 'for', at: tokenAt(nodes, i)!, reason: 'the `for` loop has no `in`' });
          return i + 1;
        }
        return this.loopWithHeader(nodes, i, k + 1, to, mode, 'for');
      }
      case 'match': {
        const body = findBody(nodes, i + 1, to);
        if (body < 0) return i + 1;
        this.seq(nodes, i + 1, body, mode, false);
        const arms = significant((nodes[body] as Group).children);
        this.seq(arms, 0, arms.length, mode, true);
        return body + 1;
      }
      case 'const':
        return this.constKeyword(nodes, i, to);
      case 'static': {
        const name = kwAt(nodes, i + 1, 'mut') ? i + 2 : i + 1;
        return isNameAt(nodes, name) && punctAt(nodes, name + 1, ':') ? this.initializer(nodes, name + 2, to) : i + 1;
      }
      case 'impl':
        return implIsType(nodes, i) ? i + 1 : this.itemBody(nodes, i, to, 'run');
      case 'trait':
      case 'mod':
        return this.itemBody(nodes, i, to, 'run');
      case 'struct':
      case 'enum':
        return this.itemBody(nodes, i, to, 'const');
      case 'union':
        return isNameAt(nodes, i + 1) ? this.itemBody(nodes, i, to, 'const') : i + 1;
      default:
        return i;
    }
  }

  /** `macro_rules! name { (matcher) => { transcriber }; … }`: transcribers are code, matchers are not. */
  private macroRules(nodes: readonly TokenTree[], i: number): number {
    if (!punctAt(nodes, i + 1, '!')) return i + 1;
    const def = groupAt(nodes, i + 3);
    if (!def) return i + 1;
    const arms = significant(def.children);
    for (let k = 0; k < arms.length; k++) {
      const matcher = groupAt(arms, k);
      const transcriber = groupAt(arms, k + 2);
      if (matcher && punctAt(arms, k + 1, '=>') && transcriber) {
        const kids = significant(transcriber.children);
        const outer = this.emptyable;
        this.emptyable = visMetavariables(matcher);
        this.seq(kids, 0, kids.length, 'run', false);
        this.emptyable = outer;
        k += 2;
      }
    }
    return i + 4;
  }

  private fnItem(nodes: readonly TokenTree[], i: number, to: number): number {
    let q = i - 1;
    while (
      q >= 0 &&
      ((kwAt(nodes, q) !== undefined && FN_QUALIFIERS.has(kwAt(nodes, q)!)) || tokenAt(nodes, q)?.kind === 'string')
    )
      q--;
    const isConst = kwAt(nodes, q, 'const') !== undefined;
    const fnTok = tokenAt(nodes, i)!;
    let k = i + 1;
    if (punctAt(nodes, k, '$')) k += 2;
    else if (tokenAt(nodes, k)?.kind === 'ident' || tokenAt(nodes, k)?.kind === 'raw-ident') k += 1;
    else return i + 1;
    if (punctAt(nodes, k, '<')) k = skipAngles(nodes, k, to);
    if (!groupAt(nodes, k, '(')) {
      this.unresolved.push({ site: 'fn', at: fnTok, reason: 'the fn parameters are not a `( … )` list' });
      return k;
    }
    k++;
    let depth = 0;
    while (k < to) {
      const body = groupAt(nodes, k, '{');
      if (body && depth === 0) {
        this.block(body, 'fn', isConst ? 'const' : 'run', !isConst);
        return k + 1;
      }
      if (punctAt(nodes, k, ';') && depth === 0) return k + 1;
      if (depth === 0 && isStop(nodes, k)) break;
      const t = tokenAt(nodes, k);
      if (t?.kind === 'punct') depth += angleDelta(t.text);
      k++;
    }
    this.unresolved.push({ site: 'fn', at: fnTok, reason: 'the fn body is not a `{ … }` block' });
    return k;
  }

  /** `while cond { … }` / `for pat in iter { … }`: the header runs from `headerStart`. */
  private loopWithHeader(
    nodes: readonly TokenTree[],
    i: number,
    headerStart: number,
    to: number,
    mode: Mode,
    site: 'while' | 'for',
  ): number {
    const body = findBody(nodes, headerStart, to);
    if (body < 0) {
      this.unresolved.push({ site, at: tokenAt(nodes, i)!, reason: `the \`${site}\` body is not a \`{ … }\` block` });
      return headerStart;
    }
    this.seq(nodes, headerStart, body, mode, false);
    this.block(nodes[body] as Group, site, mode, mode === 'run');
    return body + 1;
  }

  private constKeyword(nodes: readonly TokenTree[], i: number, to: number): number {
    const inline = groupAt(nodes, i + 1, '{');
    if (inline) {
      this.block(inline, 'body', 'const', false);
      return i + 2;
    }
    const nameOk = isNameAt(nodes, i + 1) || kwAt(nodes, i + 1, '_') !== undefined || punctAt(nodes, i + 1, '$');
    const colon = punctAt(nodes, i + 1, '$') ? i + 3 : i + 2;
    if (nameOk && punctAt(nodes, colon, ':')) return this.initializer(nodes, colon + 1, to);
    return i + 1;
  }

  /** A const/static item from its type: the initializer after `=` is compile-time code. */
  private initializer(nodes: readonly TokenTree[], from: number, to: number): number {
    let depth = 0;
    let k = from;
    while (k < to && !punctAt(nodes, k, ';')) {
      const t = tokenAt(nodes, k);
      if (t?.kind === 'punct' && t.text === '=' && depth === 0) {
        let end = k + 1;
        while (end < to && !punctAt(nodes, end, ';')) end++;
        // Inside macro arguments (`thread_local!`) an initializer can be run-time code.
        this.seq(nodes, k + 1, end, this.macroArgs > 0 ? 'run' : 'const', false);
        return end;
      }
      if (t?.kind === 'punct') depth += angleDelta(t.text);
      k++;
    }
    return k;
  }

  /** impl/trait/mod/struct/enum/union: walk the first `{ … }` (or tuple `( … )`) at angle depth 0. */
  private itemBody(nodes: readonly TokenTree[], i: number, to: number, mode: Mode): number {
    let depth = 0;
    for (let k = i + 1; k < to; k++) {
      const g = groupAt(nodes, k);
      if (g && depth === 0 && (g.delim === '{' || (mode === 'const' && g.delim === '('))) {
        const kids = significant(g.children);
        this.seq(kids, 0, kids.length, mode, false);
        return k + 1;
      }
      if (punctAt(nodes, k, ';') && depth === 0) return k + 1;
      const t = tokenAt(nodes, k);
      if (t?.kind === 'punct') depth += angleDelta(t.text);
    }
    return i + 1;
  }

  private closureStarts(nodes: readonly TokenTree[], i: number, from: number, matchArms: boolean): boolean {
    // A `|` opening a match arm or a `let` pattern is a leading or-pattern bar, not a closure.
    if (matchArms && (i === from || punctAt(nodes, i - 1, ','))) return false;
    if (kwAt(nodes, i - 1, 'let')) return false;
    return !endsOperand(nodes, i - 1, this.emptyable);
  }

  /**
   * A `|` where a closure would start but no closure parses: rustc would
   * reject it, unless a macro reassembles the pieces into a closure after
   * expansion, where it would have no checkpoint. Either way it is refused.
   */
  private brokenClosure(nodes: readonly TokenTree[], i: number, reason: string): number {
    this.unresolved.push({ site: 'closure', at: tokenAt(nodes, i)!, reason });
    return i + 1;
  }

  private closure(nodes: readonly TokenTree[], i: number, to: number): number {
    let k = i + 1;
    if (punctAt(nodes, i, '|')) {
      while (k < to && !punctAt(nodes, k, '|')) {
        if (punctAt(nodes, k, '||')) return this.brokenClosure(nodes, i, 'the closure parameters run into a `||`');
        k++;
      }
      if (k >= to) return this.brokenClosure(nodes, i, 'a `|` opens closure parameters that are never closed');
      k++;
    }
    if (punctAt(nodes, k, '->')) {
      let b = k + 1;
      let depth = 0;
      while (b < to && !(groupAt(nodes, b, '{') && depth === 0)) {
        const t = tokenAt(nodes, b);
        if (t?.kind === 'punct') depth += angleDelta(t.text);
        b++;
      }
      const body = groupAt(nodes, b, '{');
      if (!body) {
        this.unresolved.push({
          site: 'closure',
          at: tokenAt(nodes, i)!,
          reason: 'a closure with a return type needs a `{ … }` body',
        });
        return b;
      }
      this.block(body, 'closure', 'run', true);
      return b + 1;
    }
    const block = groupAt(nodes, k, '{');
    if (block) {
      this.block(block, 'closure', 'run', true);
      return k + 1;
    }
    let end = k;
    while (end < to && !punctAt(nodes, end, ',') && !punctAt(nodes, end, ';')) end++;
    if (end === k) return this.brokenClosure(nodes, i, 'the closure has no body');
    this.insertions.push({ index: firstToken(nodes[k]!).index, text: `{ ${this.call} `, site: 'closure' });
    this.insertions.push({ index: lastToken(nodes[end - 1]!).end, text: ' }', site: 'closure' });
    this.seq(nodes, k, end, 'run', false);
    return end;
  }
}

/** The first segment of the path that ends with the `::` at `i` (`std` in `::std::vec`). */
function rootOfPath(nodes: readonly TokenTree[], i: number): string | undefined {
  let k = i;
  let root: string | undefined;
  while (punctAt(nodes, k, '::')) {
    const seg = tokenAt(nodes, k - 1);
    if (seg === undefined || (seg.kind !== 'ident' && seg.kind !== 'raw-ident')) break;
    root = punctAt(nodes, k - 2, '$') ? `$${seg.value}` : seg.value;
    k -= 2;
  }
  return root;
}

/** Metavariables declared `$name:vis` anywhere in a macro_rules matcher. */
function visMetavariables(matcher: Group): Set<string> {
  const out = new Set<string>();
  const visit = (nodes: readonly TokenTree[]): void => {
    nodes.forEach((n, i) => {
      if (isGroup(n)) visit(significant(n.children));
      else if (punctAt(nodes, i - 1, '$') && punctAt(nodes, i + 1, ':') && kwAt(nodes, i + 2, 'vis')) out.add(n.value);
    });
  };
  visit(significant(matcher.children));
  return out;
}

/**
 * The index of the `{ … }` that ends a loop or match header starting at
 * `from`, or -1. As in rustc, a struct literal cannot appear there, so the
 * first brace group that follows a complete operand is the body; brace
 * groups in operand position (`while { … } { }`) and block-like expressions
 * (`match`, `if`, `loop`, `unsafe`, `const`) are stepped over.
 */
function findBody(nodes: readonly TokenTree[], from: number, to: number): number {
  let j = from;
  while (j < to) {
    const n = nodes[j]!;
    if (isGroup(n)) {
      if (n.delim === '{' && j > from && (endsOperand(nodes, j - 1) || punctAt(nodes, j - 1, '..'))) return j;
      j++;
      continue;
    }
    const kw = kwAt(nodes, j);
    if (kw === 'match' || kw === 'while' || kw === 'if') {
      const inner = findBody(nodes, j + 1, to);
      if (inner < 0) return -1;
      j = inner + 1;
      while (kw === 'if' && kwAt(nodes, j, 'else')) {
        if (kwAt(nodes, j + 1, 'if')) {
          const next = findBody(nodes, j + 2, to);
          if (next < 0) return -1;
          j = next + 1;
        } else if (groupAt(nodes, j + 1, '{')) {
          j += 2;
        } else {
          return -1;
        }
      }
      continue;
    }
    if ((kw === 'loop' || kw === 'unsafe' || kw === 'const') && groupAt(nodes, j + 1, '{')) {
      j += 2;
      continue;
    }
    if (kw === 'let') {
      let eq = j + 1;
      while (eq < to && !punctAt(nodes, eq, '=') && !isStop(nodes, eq)) eq++;
      if (!punctAt(nodes, eq, '=')) return -1;
      j = eq + 1;
      continue;
    }
    if (kw === 'for' && !punctAt(nodes, j + 1, '<')) return -1;
    if (isStop(nodes, j)) return -1;
    j++;
  }
  return -1;
}

export function planInstrumentation(
  trees: readonly TokenTree[],
  context: InstrumentContext,
  call: string = CHECKPOINT_CALL,
): InstrumentPlan {
  const planner = new Planner(call, userMacroNames(trees));
  if (context === 'fn-body') planner.blockStart(trees, undefined, 'body');
  const top = significant(trees);
  planner.seq(top, 0, top.length, 'run', false);
  return { insertions: planner.insertions, unresolved: planner.unresolved };
}

export interface InstrumentOptions {
  /** The checkpoint statement, `::plrust_rt::checkpoint();` by default. */
  call?: string;
}

/** Instrument and report where each insertion landed (original coordinates). */
export function instrumentDetailed(
  source: string,
  context: InstrumentContext,
  options: InstrumentOptions = {},
): { code: string; insertions: PlacedInsertion[] } {
  const lexed = lexRust(source);
  if (!lexed.ok) {
    throw new PlrustError({
      code: 'INSTRUMENT_LEX',
      message: `cannot instrument: ${lexed.error.line}:${lexed.error.col}: ${lexed.error.message}`,
      hint: 'run the trust checker first; it reports this as a lex-error',
    });
  }
  const { trees, issues } = buildTokenTrees(lexed.tokens);
  if (issues.length > 0) {
    const first = issues[0]!;
    throw new PlrustError({
      code: 'INSTRUMENT_DELIMITERS',
      message: `cannot instrument: ${first.at.line}:${first.at.col}: ${first.message}`,
      hint: 'run the trust checker first; it reports this as unbalanced-delimiters',
    });
  }
  const plan = planInstrumentation(trees, context, options.call ?? CHECKPOINT_CALL);
  if (plan.unresolved.length > 0) {
    const u = plan.unresolved[0]!;
    throw new PlrustError({
      code: 'INSTRUMENT_UNRESOLVED',
      message: `cannot instrument: ${u.at.line}:${u.at.col}: ${u.reason}`,
      hint: 'write the body out as a `{ … }` block instead of passing it through a macro metavariable',
    });
  }
  const ordered = plan.insertions
    .map((ins, order) => ({ ins, order }))
    .sort((a, b) => a.ins.index - b.ins.index || a.order - b.order);
  const placed = placeInsertions(
    source,
    ordered.map((o) => o.ins),
  );
  let code = '';
  let last = 0;
  for (const { ins } of ordered) {
    code += source.slice(last, ins.index) + ins.text;
    last = ins.index;
  }
  code += source.slice(last);
  return { code, insertions: placed };
}

export function instrument(source: string, context: InstrumentContext, options: InstrumentOptions = {}): string {
  return instrumentDetailed(source, context, options).code;
}

/** Line and code-point column of each (index-sorted) insertion. */
function placeInsertions(source: string, sorted: readonly Insertion[]): PlacedInsertion[] {
  const out: PlacedInsertion[] = [];
  let line = 1;
  let col = 1;
  let pos = 0;
  for (const ins of sorted) {
    while (pos < ins.index) {
      const cp = source.codePointAt(pos)!;
      pos += cp > 0xffff ? 2 : 1;
      if (cp === 0x0a) {
        line++;
        col = 1;
      } else {
        col++;
      }
    }
    out.push({ ...ins, line, col });
  }
  return out;
}
