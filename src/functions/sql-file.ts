/**
 * Reads `CREATE [OR REPLACE] FUNCTION … LANGUAGE plrust AS $$…$$` statements
 * out of a .sql file as people write them for psql and migrations: dollar
 * quoting with tags, '…' bodies, E'' strings, comments, quoted and
 * schema-qualified names, and any other statements (which are ignored).
 */
import { PlrustError } from '../util/errors.js';
import type { FunctionDef, Parallel, Volatility } from './definition.js';
import { parseSqlType } from './sql-types.js';
import { parseReturns } from './set-returns.js';

type TokKind = 'word' | 'qident' | 'string' | 'number' | 'punct';

interface Tok {
  kind: TokKind;
  /** Words lower-cased; identifiers and strings unquoted. */
  value: string;
  line: number;
  col: number;
  /** For strings: where the content starts (after the opening quote or tag). */
  contentLine?: number;
  contentCol?: number;
}

class SqlSyntaxError extends PlrustError {
  constructor(file: string, line: number, col: number, message: string) {
    super({ code: 'SQL_SYNTAX', message: `${file}:${line}:${col}: ${message}`, data: { file, line, col } });
  }
}

/** Splits the file into statements of tokens; comments vanish, strings keep their exact content. */
function lexSql(text: string, file: string): Tok[][] {
  const statements: Tok[][] = [];
  let cur: Tok[] = [];
  let i = 0;
  let line = 1;
  let col = 1;
  const advance = (n: number) => {
    for (let k = 0; k < n; k++) {
      if (text[i] === '\n') {
        line++;
        col = 1;
      } else col++;
      i++;
    }
  };
  while (i < text.length) {
    const c = text[i]!;
    const startLine = line;
    const startCol = col;
    if (/\s/.test(c)) {
      advance(1);
    } else if (c === '-' && text[i + 1] === '-') {
      while (i < text.length && text[i] !== '\n') advance(1);
    } else if (c === '/' && text[i + 1] === '*') {
      let depth = 0;
      do {
        if (text.startsWith('/*', i)) {
          depth++;
          advance(2);
        } else if (text.startsWith('*/', i)) {
          depth--;
          advance(2);
        } else if (i >= text.length) {
          throw new SqlSyntaxError(file, startLine, startCol, 'unterminated /* comment');
        } else advance(1);
      } while (depth > 0);
    } else if (c === "'" || ((c === 'E' || c === 'e') && text[i + 1] === "'")) {
      const escapes = c !== "'";
      advance(escapes ? 2 : 1);
      const contentLine = line;
      const contentCol = col;
      let value = '';
      for (;;) {
        if (i >= text.length) throw new SqlSyntaxError(file, startLine, startCol, 'unterminated string literal');
        const d = text[i]!;
        if (d === "'" && text[i + 1] === "'") {
          value += "'";
          advance(2);
        } else if (d === "'") {
          advance(1);
          break;
        } else if (escapes && d === '\\') {
          const e = text[i + 1] ?? '';
          value += ({ n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' } as Record<string, string>)[e] ?? e;
          advance(2);
        } else {
          value += d;
          advance(1);
        }
      }
      cur.push({ kind: 'string', value, line: startLine, col: startCol, contentLine, contentCol });
    } else if (c === '$' && /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.test(text.slice(i, i + 66))) {
      const tag = text.slice(i).match(/^\$([A-Za-z_][A-Za-z0-9_]*)?\$/)![0];
      advance(tag.length);
      const contentLine = line;
      const contentCol = col;
      const end = text.indexOf(tag, i);
      if (end < 0)
        throw new SqlSyntaxError(file, startLine, startCol, `unterminated dollar-quoted string (no closing ${tag})`);
      const value = text.slice(i, end);
      advance(end - i + tag.length);
      cur.push({ kind: 'string', value, line: startLine, col: startCol, contentLine, contentCol });
    } else if (c === '"') {
      advance(1);
      let value = '';
      for (;;) {
        if (i >= text.length) throw new SqlSyntaxError(file, startLine, startCol, 'unterminated quoted identifier');
        if (text[i] === '"' && text[i + 1] === '"') {
          value += '"';
          advance(2);
        } else if (text[i] === '"') {
          advance(1);
          break;
        } else {
          value += text[i];
          advance(1);
        }
      }
      cur.push({ kind: 'qident', value, line: startLine, col: startCol });
    } else if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      const m = text.slice(i).match(/^[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/)![0];
      advance(m.length);
      cur.push({ kind: 'word', value: m.toLowerCase(), line: startLine, col: startCol });
    } else if (/[0-9]/.test(c)) {
      const m = text.slice(i).match(/^[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?/)![0];
      advance(m.length);
      cur.push({ kind: 'number', value: m, line: startLine, col: startCol });
    } else if (c === ';') {
      advance(1);
      if (cur.length) statements.push(cur);
      cur = [];
    } else {
      advance(1);
      cur.push({ kind: 'punct', value: c, line: startLine, col: startCol });
    }
  }
  if (cur.length) statements.push(cur);
  return statements;
}

const isWord = (t: Tok | undefined, ...words: string[]) =>
  t !== undefined && t.kind === 'word' && words.includes(t.value);
const isPunct = (t: Tok | undefined, p: string) => t !== undefined && t.kind === 'punct' && t.value === p;

/** Rust identifiers for SQL names: the function's own name, made safe and unique by the caller. */
function rustIdent(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

const ARG_MODES = ['in', 'out', 'inout', 'variadic'];

function parseStatement(toks: Tok[], file: string): FunctionDef | undefined {
  let p = 0;
  if (!isWord(toks[p], 'create')) return undefined;
  p++;
  if (isWord(toks[p], 'or') && isWord(toks[p + 1], 'replace')) p += 2;
  if (!isWord(toks[p], 'function')) return undefined;
  const createTok = toks[0]!;
  p++;
  const err = (t: Tok | undefined, msg: string) =>
    new SqlSyntaxError(file, t?.line ?? createTok.line, t?.col ?? createTok.col, msg);
  // Name: ident [. ident]
  const nameParts: string[] = [];
  for (;;) {
    const t = toks[p];
    if (!t || (t.kind !== 'word' && t.kind !== 'qident'))
      throw err(t, 'expected a function name after CREATE FUNCTION');
    nameParts.push(t.kind === 'word' ? t.value : t.value);
    p++;
    if (isPunct(toks[p], '.')) p++;
    else break;
  }
  const sqlName = nameParts.map((n) => (/^[a-z_][a-z0-9_]*$/.test(n) ? n : `"${n.replace(/"/g, '""')}"`)).join('.');
  if (!isPunct(toks[p], '(')) throw err(toks[p], `expected ( after the function name ${sqlName}`);
  p++;
  // Arguments: split at top-level commas until the matching ).
  const argToks: Tok[][] = [[]];
  let depth = 0;
  for (;;) {
    const t = toks[p];
    if (!t) throw err(toks[p - 1], `unclosed argument list of ${sqlName}`);
    p++;
    if (isPunct(t, '(')) depth++;
    if (isPunct(t, ')')) {
      if (depth === 0) break;
      depth--;
    }
    if (isPunct(t, ',') && depth === 0) argToks.push([]);
    else argToks[argToks.length - 1]!.push(t);
  }
  const args = argToks
    .filter((a) => a.length > 0)
    .map((a, idx) => {
      let q = 0;
      if (isWord(a[q], ...ARG_MODES)) {
        if (a[q]!.value !== 'in')
          throw err(a[q], `${sqlName}: ${a[q]!.value.toUpperCase()} arguments are not supported (only IN)`);
        q++;
      }
      const defaultAt = a.findIndex((t, k) => k >= q && (isWord(t, 'default') || isPunct(t, '=')));
      const body = defaultAt >= 0 ? a.slice(q, defaultAt) : a.slice(q);
      if (defaultAt >= 0) throw err(a[defaultAt], `${sqlName}: argument defaults are not supported`);
      // "name type" or just "type": a name is present when two or more words remain and the rest parses as a type.
      let name: string | undefined;
      let typeToks = body;
      if (body.length >= 2 && (body[0]!.kind === 'word' || body[0]!.kind === 'qident')) {
        const rest = body.slice(1);
        const restText = renderType(rest);
        const looksLikeType = !/^(precision|varying)\b/.test(restText) && restText !== '';
        if (looksLikeType) {
          name = body[0]!.value;
          typeToks = rest;
        }
      }
      if (!name) throw err(a[0], `${sqlName}: argument ${idx + 1} has no name; PL/Rust binds arguments by name`);
      return { name, type: parseSqlType(renderType(typeToks), `${sqlName} argument ${name}`, false) };
    });
  // Options, in any order.
  let returns: Pick<FunctionDef, 'returns' | 'returnsSet'> | undefined;
  let language: string | undefined;
  let bodyTok: Tok | undefined;
  let strict = false;
  let volatility: Volatility = 'volatile';
  let parallel: Parallel = 'unsafe';
  while (p < toks.length) {
    const t = toks[p]!;
    if (isWord(t, 'returns')) {
      p++;
      if (isWord(toks[p], 'null')) {
        // RETURNS NULL ON NULL INPUT
        p += 4;
        strict = true;
        continue;
      }
      const start = p;
      while (p < toks.length && !isOptionStart(toks, p)) p++;
      returns = parseReturns(renderType(toks.slice(start, p)), `${sqlName} result`);
    } else if (isWord(t, 'language')) {
      language = toks[p + 1]?.value;
      p += 2;
    } else if (isWord(t, 'as')) {
      bodyTok = toks[p + 1];
      if (!bodyTok || bodyTok.kind !== 'string')
        throw err(bodyTok ?? t, `${sqlName}: expected the function body as a string after AS`);
      p += 2;
      if (isPunct(toks[p], ',')) throw err(toks[p], `${sqlName}: AS 'obj_file', 'link_symbol' is not a PL/Rust body`);
    } else if (isWord(t, 'strict')) {
      strict = true;
      p++;
    } else if (isWord(t, 'called')) {
      strict = false;
      p += 4;
    } else if (isWord(t, 'immutable', 'stable', 'volatile')) {
      volatility = t.value as Volatility;
      p++;
    } else if (isWord(t, 'parallel')) {
      const v = toks[p + 1]?.value;
      if (v !== 'safe' && v !== 'restricted' && v !== 'unsafe')
        throw err(toks[p + 1], `${sqlName}: PARALLEL takes SAFE, RESTRICTED or UNSAFE`);
      parallel = v;
      p += 2;
    } else {
      // Options that do not change how the function is compiled (COST, SECURITY DEFINER, SET …).
      p++;
    }
  }
  if (language !== 'plrust') return undefined;
  if (!returns) throw err(createTok, `${sqlName}: RETURNS is missing`);
  if (!bodyTok) throw err(createTok, `${sqlName}: the function body (AS $$ … $$) is missing`);
  const bare = nameParts[nameParts.length - 1]!;
  return {
    sqlName,
    rustName: rustIdent(bare),
    args,
    ...returns,
    strict,
    volatility,
    parallel,
    source: bodyTok.value,
    origin: { file, line: bodyTok.contentLine!, col: bodyTok.contentCol! },
  };
}

const OPTION_WORDS = [
  'language',
  'as',
  'strict',
  'called',
  'immutable',
  'stable',
  'volatile',
  'parallel',
  'security',
  'cost',
  'rows',
  'set',
  'leakproof',
  'not',
  'window',
  'external',
  'support',
  'transform',
  'return',
  'begin',
];

function isOptionStart(toks: Tok[], p: number): boolean {
  const t = toks[p]!;
  if (t.kind === 'string') return true;
  if (isWord(t, 'returns') && isWord(toks[p + 1], 'null')) return true;
  return isWord(t, ...OPTION_WORDS);
}

function renderType(toks: Tok[]): string {
  // Quoting matters for one type name: "char" is the single-byte type, char is char(1).
  const qident = (v: string): string => (v === 'char' ? '"char"' : v);
  return toks
    .map((t) => (t.kind === 'punct' ? t.value : t.kind === 'qident' ? qident(t.value) : ` ${t.value}`))
    .join('')
    .replace(/\s+/g, ' ')
    .trim();
}

export interface SqlFileResult {
  functions: FunctionDef[];
  /** Statements that were not PL/Rust functions. */
  ignored: number;
}

export function parseSqlFile(text: string, file: string): SqlFileResult {
  const functions: FunctionDef[] = [];
  let ignored = 0;
  for (const stmt of lexSql(text, file)) {
    const def = parseStatement(stmt, file);
    if (def) functions.push(def);
    else ignored++;
  }
  return { functions, ignored };
}
