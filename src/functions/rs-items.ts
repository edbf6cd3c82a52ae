/**
 * The SQL functions of a `.rs` file: every top-level `pub fn` (plain `pub`,
 * not `pub(crate)`), found on token trees without a full parser. Everything
 * else in the file (private fns, structs, impls, nested modules) is a helper
 * and is not listed.
 *
 * A SQL function cannot be generic, so a `pub fn` with type or const
 * parameters, `impl Trait` parameters or a `where` clause is a diagnostic
 * naming it (lifetime parameters are fine: they only relate borrows), as are
 * `const`/`async`/`unsafe`/`extern` qualifiers, `self` receivers and
 * parameters that are patterns rather than names.
 *
 * ## Annotation grammar
 *
 * SQL options come from doc-comment lines of the function whose text (after
 * `///` or inside `/** … *\/`) starts with `plrust:`, for example
 *
 *     /// Adds one.
 *     /// plrust: strict immutable parallel-safe name=add_one
 *     pub fn add_one(x: i32) -> Option<i32> { Some(x + 1) }
 *
 *     annotation := ws* "plrust:" (ws+ option)* ws*
 *     option     := "strict"
 *                 | "immutable" | "stable" | "volatile"
 *                 | "parallel-safe" | "parallel-restricted" | "parallel-unsafe"
 *                 | "name=" sql-name
 *     sql-name   := ident | ident "." ident       (schema-qualified)
 *     ident      := [a-z_][a-z0-9_]*              (at most 63 bytes, PostgreSQL's NAMEDATALEN - 1)
 *
 * Options are lowercase and case-sensitive. Several annotation lines are
 * combined. It is an error to give an unknown option, the same option
 * twice, two volatility or two parallel options, or an invalid name
 * (identifiers are lowercase so that they mean the same quoted or not).
 * Defaults are PostgreSQL's: not strict, volatile, parallel unsafe, and the
 * Rust function name as the SQL name.
 */
import { lexRust, type Token } from '../analysis/lexer.js';
import {
  angleDelta,
  buildTokenTrees,
  firstToken,
  isGroup,
  lastToken,
  significant,
  type Group,
  type TokenTree,
} from '../analysis/token-tree.js';

export type Volatility = 'immutable' | 'stable' | 'volatile';
export type ParallelSafety = 'safe' | 'restricted' | 'unsafe';

export interface FunctionOptions {
  strict: boolean;
  volatility: Volatility;
  parallel: ParallelSafety;
  /** From `name=`; `undefined` means "use the Rust name". May be `schema.name`. */
  sqlName: string | undefined;
}

export interface DocLine {
  /** The line's text without the comment marker and one leading space. */
  text: string;
  line: number;
  col: number;
}

export interface RsParam {
  name: string;
  /** The type as normalised text, e.g. `Option<&str>`, `Vec<Option<i64>>`. */
  type: string;
  line: number;
  col: number;
}

export interface RsFunction {
  name: string;
  params: RsParam[];
  /** Normalised return type text, or `undefined` for `()`. */
  returnType: string | undefined;
  docs: DocLine[];
  options: FunctionOptions;
  /** From `pub` to the closing brace. */
  span: { startLine: number; endLine: number };
  /** Position of the function name. */
  line: number;
  col: number;
}

export type RsItemErrorCode =
  | 'lex-error'
  | 'unbalanced-delimiters'
  | 'generic-function'
  | 'unsupported-qualifier'
  | 'unsupported-parameter'
  | 'missing-body'
  | 'bad-annotation';

export interface RsItemDiagnostic {
  code: RsItemErrorCode;
  /** `<file>:<line>:<col>: <code>: <explanation>`. */
  message: string;
  explanation: string;
  file: string;
  line: number;
  col: number;
}

export interface RsItems {
  functions: RsFunction[];
  diagnostics: RsItemDiagnostic[];
}

const MAX_IDENT_BYTES = 63;
const SQL_IDENT = /^[a-z_][a-z0-9_]*$/;
const QUALIFIERS = new Set(['const', 'async', 'unsafe', 'extern', 'safe']);

function diag(file: string, code: RsItemErrorCode, line: number, col: number, explanation: string): RsItemDiagnostic {
  return { code, message: `${file}:${line}:${col}: ${code}: ${explanation}`, explanation, file, line, col };
}

function isPunct(t: TokenTree | undefined, p: string): boolean {
  return t !== undefined && !isGroup(t) && t.kind === 'punct' && t.text === p;
}

function isKw(t: TokenTree | undefined, kw: string): boolean {
  return t !== undefined && !isGroup(t) && t.kind === 'ident' && t.value === kw;
}

function asGroup(t: TokenTree | undefined, delim: string): Group | undefined {
  return isGroup(t) && t.delim === delim ? t : undefined;
}

function angleChange(t: TokenTree): number {
  return isGroup(t) || t.kind !== 'punct' ? 0 : angleDelta(t.text);
}

function flatten(trees: readonly TokenTree[]): Token[] {
  const out: Token[] = [];
  for (const t of trees) {
    if (isGroup(t)) {
      out.push(t.open, ...flatten(t.children), t.close);
    } else if (t.kind !== 'doc-comment') {
      out.push(t);
    }
  }
  return out;
}

const WORDISH = new Set([
  'ident',
  'raw-ident',
  'lifetime',
  'char',
  'byte',
  'string',
  'byte-string',
  'c-string',
  'raw-string',
  'raw-byte-string',
  'raw-c-string',
  'integer',
  'float',
]);

/** Canonical text of a type: no spaces except between words, after commas, and around `+`, `=` and `->`. */
function normalizeTypeText(trees: readonly TokenTree[]): string {
  let out = '';
  let prev: Token | undefined;
  for (const t of flatten(trees)) {
    if (prev !== undefined) {
      const spaced =
        (WORDISH.has(prev.kind) && WORDISH.has(t.kind)) ||
        (prev.kind === 'punct' && [',', '+', '=', '->'].includes(prev.text)) ||
        (t.kind === 'punct' && ['+', '=', '->'].includes(t.text));
      if (spaced) out += ' ';
    }
    out += t.text;
    prev = t;
  }
  return out;
}

function docLines(tok: Token): DocLine[] {
  if (tok.text.startsWith('//')) {
    const text = tok.value.startsWith(' ') ? tok.value.slice(1) : tok.value;
    return [{ text, line: tok.line, col: tok.col }];
  }
  const lines = tok.value.split('\n').map((raw, k) => {
    const stripped = k === 0 ? raw : raw.replace(/^\s*\*?/, '');
    return {
      text: (stripped.startsWith(' ') ? stripped.slice(1) : stripped).trimEnd(),
      line: tok.line + k,
      col: k === 0 ? tok.col : 1,
    };
  });
  // The lines holding the opening `/**` and the closing `*/` alone are layout, not text.
  if (lines.length > 1 && lines[lines.length - 1]!.text === '') lines.pop();
  if (lines.length > 1 && lines[0]!.text === '') lines.shift();
  return lines;
}

/** Parse the `plrust:` lines among a function's doc lines (grammar at the top of this module). */
export function parseAnnotation(
  lines: readonly DocLine[],
  file: string,
): { options: FunctionOptions; diagnostics: RsItemDiagnostic[] } {
  const options: FunctionOptions = { strict: false, volatility: 'volatile', parallel: 'unsafe', sqlName: undefined };
  const diagnostics: RsItemDiagnostic[] = [];
  const seen = new Set<string>();
  let volatility: string | undefined;
  let parallel: string | undefined;
  for (const line of lines) {
    const m = /^\s*plrust:(.*)$/.exec(line.text);
    if (!m) continue;
    const bad = (why: string): void => {
      diagnostics.push(diag(file, 'bad-annotation', line.line, line.col, why));
    };
    for (const opt of m[1]!.split(/\s+/).filter((s) => s.length > 0)) {
      const key = opt.startsWith('name=') ? 'name=' : opt;
      if (seen.has(key)) {
        bad(`\`${key}\` is given more than once`);
        continue;
      }
      seen.add(key);
      if (opt === 'strict') {
        options.strict = true;
      } else if (opt === 'immutable' || opt === 'stable' || opt === 'volatile') {
        if (volatility !== undefined)
          bad(`\`${opt}\` conflicts with \`${volatility}\`: give one of immutable, stable, volatile`);
        else {
          volatility = opt;
          options.volatility = opt;
        }
      } else if (opt === 'parallel-safe' || opt === 'parallel-restricted' || opt === 'parallel-unsafe') {
        if (parallel !== undefined)
          bad(
            `\`${opt}\` conflicts with \`${parallel}\`: give one of parallel-safe, parallel-restricted, parallel-unsafe`,
          );
        else {
          parallel = opt;
          options.parallel = opt.slice('parallel-'.length) as ParallelSafety;
        }
      } else if (key === 'name=') {
        const name = opt.slice('name='.length);
        const parts = name.split('.');
        const valid =
          parts.length <= 2 && parts.every((p) => SQL_IDENT.test(p) && Buffer.byteLength(p) <= MAX_IDENT_BYTES);
        if (valid) options.sqlName = name;
        else
          bad(
            `\`name=${name}\` is not a valid SQL name: use lowercase letters, digits and \`_\` (optionally \`schema.name\`), at most ${MAX_IDENT_BYTES} bytes per part`,
          );
      } else {
        bad(
          `unknown option \`${opt}\` (known: strict, immutable, stable, volatile, parallel-safe, parallel-restricted, parallel-unsafe, name=<sql name>)`,
        );
      }
    }
  }
  return { options, diagnostics };
}

/** Index just past the item starting at `i` among top-level siblings. */
function itemEnd(nodes: readonly TokenTree[], i: number): number {
  let depth = 0;
  for (let k = i; k < nodes.length; k++) {
    const n = nodes[k]!;
    if (isPunct(n, ';')) return k + 1;
    if (depth <= 0 && asGroup(n, '{')) return k + 1;
    depth += angleChange(n);
  }
  return nodes.length;
}

function parseParams(group: Group, fnName: string, file: string, diagnostics: RsItemDiagnostic[]): RsParam[] {
  const params: RsParam[] = [];
  const kids = significant(group.children);
  const parts: TokenTree[][] = [];
  let current: TokenTree[] = [];
  let depth = 0;
  for (const k of kids) {
    if (depth === 0 && isPunct(k, ',')) {
      parts.push(current);
      current = [];
      continue;
    }
    depth += angleChange(k);
    current.push(k);
  }
  if (current.length > 0) parts.push(current);
  for (let part of parts) {
    while (isPunct(part[0], '#') && asGroup(part[1], '[')) part = part.slice(2);
    if (part.length === 0) continue;
    const at = firstToken(part[0]!);
    const colon = part.findIndex((t) => isPunct(t, ':'));
    const pattern = colon < 0 ? part : part.slice(0, colon);
    const nameTok =
      pattern.length === 2 && isKw(pattern[0], 'mut') ? pattern[1] : pattern.length === 1 ? pattern[0] : undefined;
    const name =
      nameTok !== undefined && !isGroup(nameTok) && (nameTok.kind === 'ident' || nameTok.kind === 'raw-ident')
        ? nameTok.value
        : undefined;
    if (colon < 0 || name === undefined || name === 'self' || name === '_') {
      diagnostics.push(
        diag(
          file,
          'unsupported-parameter',
          at.line,
          at.col,
          `parameter \`${normalizeTypeText(part)}\` of \`${fnName}\` must be \`name: Type\` (a SQL function has named arguments and no receiver)`,
        ),
      );
      continue;
    }
    const type = part.slice(colon + 1);
    const implTrait = flatten(type).find((t) => t.kind === 'ident' && t.value === 'impl');
    if (implTrait !== undefined) {
      diagnostics.push(
        diag(
          file,
          'generic-function',
          implTrait.line,
          implTrait.col,
          `parameter \`${name}\` of \`${fnName}\` has an \`impl Trait\` type, which makes the function generic; a SQL function needs concrete types`,
        ),
      );
      continue;
    }
    params.push({ name, type: normalizeTypeText(type), line: at.line, col: at.col });
  }
  return params;
}

function parsePubFn(
  nodes: readonly TokenTree[],
  start: number,
  end: number,
  docs: DocLine[],
  file: string,
  out: RsItems,
): void {
  const pub = firstToken(nodes[start]!);
  let k = start + 1;
  const qualifiers: string[] = [];
  while (
    k < end &&
    !isGroup(nodes[k]) &&
    (nodes[k] as Token).kind === 'ident' &&
    QUALIFIERS.has((nodes[k] as Token).value)
  ) {
    qualifiers.push((nodes[k] as Token).value);
    k++;
    if (!isGroup(nodes[k]) && (nodes[k] as Token | undefined)?.kind === 'string') k++;
  }
  if (!isKw(nodes[k], 'fn')) return;
  const nameTok = nodes[k + 1];
  if (nameTok === undefined || isGroup(nameTok) || (nameTok.kind !== 'ident' && nameTok.kind !== 'raw-ident')) return;
  const name = nameTok.value;
  const bad = (code: RsItemErrorCode, at: Token, why: string): void => {
    out.diagnostics.push(diag(file, code, at.line, at.col, why));
  };
  if (qualifiers.length > 0)
    bad(
      'unsupported-qualifier',
      pub,
      `\`${qualifiers.join(' ')}\` is not allowed on the SQL function \`${name}\`; declare it as \`pub fn\``,
    );
  k += 2;
  if (isPunct(nodes[k], '<')) {
    const from = k;
    let depth = 0;
    do {
      depth += angleChange(nodes[k]!);
      k++;
    } while (k < end && depth > 0);
    // Lifetime parameters (`<'a>`, `<'a, 'b: 'a>`) only relate borrows: the SQL signature stays concrete.
    const lifetimesOnly = flatten(nodes.slice(from + 1, k - 1)).every(
      (t) => t.kind === 'lifetime' || (t.kind === 'punct' && [',', ':', '+'].includes(t.text)),
    );
    if (!lifetimesOnly)
      bad(
        'generic-function',
        nameTok,
        `\`${name}\` is generic; a SQL function needs concrete argument and return types`,
      );
  }
  const paramGroup = asGroup(nodes[k], '(');
  if (!paramGroup) return;
  const params = parseParams(paramGroup, name, file, out.diagnostics);
  k++;
  let returnType: string | undefined;
  if (isPunct(nodes[k], '->')) {
    const from = k + 1;
    let depth = 0;
    k = from;
    while (k < end && !(depth <= 0 && (asGroup(nodes[k], '{') || isKw(nodes[k], 'where') || isPunct(nodes[k], ';')))) {
      depth += angleChange(nodes[k]!);
      k++;
    }
    returnType = normalizeTypeText(nodes.slice(from, k));
  }
  if (isKw(nodes[k], 'where')) {
    bad(
      'generic-function',
      firstToken(nodes[k]!),
      `\`${name}\` has a \`where\` clause; a SQL function needs concrete argument and return types`,
    );
    while (k < end && !asGroup(nodes[k], '{')) k++;
  }
  const body = asGroup(nodes[k], '{');
  if (!body) {
    bad('missing-body', nameTok, `\`${name}\` has no body`);
    return;
  }
  const parsed = parseAnnotation(docs, file);
  out.diagnostics.push(...parsed.diagnostics);
  out.functions.push({
    name,
    params,
    returnType: returnType === '()' ? undefined : returnType,
    docs,
    options: parsed.options,
    span: { startLine: pub.line, endLine: lastToken(body).line },
    line: nameTok.line,
    col: nameTok.col,
  });
}

/** List the top-level `pub fn`s of a `.rs` file. */
export function extractRsItems(source: string, file: string): RsItems {
  const out: RsItems = { functions: [], diagnostics: [] };
  const lexed = lexRust(source);
  if (!lexed.ok) {
    out.diagnostics.push(diag(file, 'lex-error', lexed.error.line, lexed.error.col, lexed.error.message));
    return out;
  }
  const { trees, issues } = buildTokenTrees(lexed.tokens);
  if (issues.length > 0) {
    for (const issue of issues)
      out.diagnostics.push(diag(file, 'unbalanced-delimiters', issue.at.line, issue.at.col, issue.message));
    return out;
  }
  // Significant siblings, with their index among all trees so that the doc
  // comments between two items can be collected from the raw list.
  const rawIndex: number[] = [];
  trees.forEach((t, r) => {
    if (isGroup(t) || (t.kind !== 'doc-comment' && t.kind !== 'shebang')) rawIndex.push(r);
  });
  const nodes = rawIndex.map((r) => trees[r]!);
  let docsFrom = 0;
  let s = 0;
  while (s < nodes.length) {
    if (isPunct(nodes[s], '#') && asGroup(nodes[s + 1], '[')) {
      s += 2;
      continue;
    }
    if (isPunct(nodes[s], '#') && isPunct(nodes[s + 1], '!') && asGroup(nodes[s + 2], '[')) {
      s += 3;
      continue;
    }
    const end = itemEnd(nodes, s);
    if (isKw(nodes[s], 'pub') && !asGroup(nodes[s + 1], '(')) {
      const docs = trees
        .slice(docsFrom, rawIndex[s])
        .flatMap((t) => (!isGroup(t) && t.kind === 'doc-comment' && t.docStyle === 'outer' ? docLines(t) : []));
      parsePubFn(nodes, s, end, docs, file, out);
    }
    docsFrom = rawIndex[end - 1]! + 1;
    s = end;
  }
  return out;
}
