/**
 * A Rust lexer for the trust checker, the item extractor and the
 * instrumenter. It follows rustc's own tokenizer closely wherever the split
 * between "code" and "string/comment" is decided (raw strings with any number
 * of hashes, nested block comments, lifetimes versus char literals, literal
 * suffixes, reserved prefixes, the shebang rule), because any disagreement
 * there is a place where text the checker believes inert is code to rustc.
 * Where rustc would accept a token only to reject it later, this lexer is
 * allowed to reject early; it must never accept something as inert that
 * rustc reads as code.
 *
 * Punctuation is glued greedily (`::`, `..=`, `>>=`, …) the way rustc's
 * parser sees it; consumers that care about `>>` closing two generic lists
 * must split it themselves. Plain comments and whitespace produce no token;
 * doc comments do, since rustc turns them into `#[doc]` attributes.
 *
 * Editions 2021 and later are assumed (raw identifiers, `c"…"` strings and
 * reserved prefixes such as `foo"…"` or `#"…"` are handled as those editions
 * do).
 */

export type LiteralKind =
  | 'char'
  | 'byte'
  | 'string'
  | 'byte-string'
  | 'c-string'
  | 'raw-string'
  | 'raw-byte-string'
  | 'raw-c-string'
  | 'integer'
  | 'float';

export type TokenKind =
  'ident' | 'raw-ident' | 'lifetime' | LiteralKind | 'punct' | 'open' | 'close' | 'doc-comment' | 'shebang';

export type DocStyle = 'outer' | 'inner';

export interface Position {
  /** UTF-16 index into the source string (for slicing in JavaScript). */
  index: number;
  /** UTF-8 byte offset (what rustc and editors on disk count). */
  offset: number;
  /** 1-based line; only `\n` ends a line, as in rustc. */
  line: number;
  /** 1-based column in Unicode code points. */
  col: number;
}

export interface Token extends Position {
  kind: TokenKind;
  /** The exact source text. */
  text: string;
  /**
   * Identifiers and lifetimes: the name, NFC-normalised as rustc does, without
   * `r#` or the leading quote (so `r#include_str` and `include_str` compare
   * equal). Doc comments: the text after the `///`, `//!`, `/**` or `/*!`
   * marker. Everything else: the text.
   */
  value: string;
  /** Literal suffix such as `u8` in `1u8` or `f64` in `1.0f64`. */
  suffix?: string;
  docStyle?: DocStyle;
  /** UTF-16 index just past the token. */
  end: number;
  /** Line on which the token ends (strings and block doc comments span lines). */
  endLine: number;
}

export type LexErrorKind =
  | 'unterminated-string'
  | 'unterminated-raw-string'
  | 'unterminated-char'
  | 'unterminated-block-comment'
  | 'invalid-raw-string'
  | 'invalid-char-literal'
  | 'invalid-lifetime'
  | 'reserved-prefix'
  | 'unknown-character';

export interface LexError extends Position {
  kind: LexErrorKind;
  message: string;
}

export type LexResult = { ok: true; tokens: Token[] } | { ok: false; error: LexError; tokens: Token[] };

/** Three-character puncts first so the longest match wins. */
const PUNCTS: readonly string[] = [
  '<<=',
  '>>=',
  '...',
  '..=',
  '::',
  '->',
  '=>',
  '==',
  '!=',
  '<=',
  '>=',
  '&&',
  '||',
  '+=',
  '-=',
  '*=',
  '/=',
  '%=',
  '^=',
  '&=',
  '|=',
  '<<',
  '>>',
  '..',
  ';',
  ',',
  '.',
  '@',
  '#',
  '~',
  '?',
  ':',
  '$',
  '=',
  '!',
  '<',
  '>',
  '-',
  '&',
  '|',
  '+',
  '*',
  '/',
  '^',
  '%',
];

const OPEN = new Set(['(', '[', '{']);
const CLOSE = new Set([')', ']', '}']);

/** rustc's Pattern_White_Space set. */
const WHITESPACE = new Set([
  '\t',
  '\n',
  '\u000B',
  '\u000C',
  '\r',
  ' ',
  '\u0085',
  '\u200E',
  '\u200F',
  '\u2028',
  '\u2029',
]);

const XID_START = /^\p{XID_Start}$/u;
const XID_CONTINUE = /^\p{XID_Continue}$/u;

function isIdStart(c: string): boolean {
  if (c.length === 0) return false;
  if (c.length === 1 && c.charCodeAt(0) < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
  return XID_START.test(c);
}

function isIdContinue(c: string): boolean {
  if (c.length === 0) return false;
  if (c.length === 1 && c.charCodeAt(0) < 0x80)
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === '_';
  return XID_CONTINUE.test(c);
}

const isDigit = (c: string): boolean => c.length === 1 && c >= '0' && c <= '9';
const isHexDigit = (c: string): boolean =>
  isDigit(c) || (c.length === 1 && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));

function utf8Length(codePoint: number): number {
  if (codePoint < 0x80) return 1;
  if (codePoint < 0x800) return 2;
  if (codePoint < 0x10000) return 3;
  return 4;
}

class LexFailure {
  constructor(readonly error: LexError) {}
}

/** A cursor over code points that keeps line, column and byte offset current. */
class Cursor {
  index = 0;
  offset = 0;
  line = 1;
  col = 1;

  constructor(readonly src: string) {}

  eof(): boolean {
    return this.index >= this.src.length;
  }

  /** The code point `ahead` positions from the cursor, or '' past the end. */
  peek(ahead = 0): string {
    let i = this.index;
    for (let k = 0; k < ahead; k++) {
      if (i >= this.src.length) return '';
      i += (this.src.codePointAt(i) ?? 0) > 0xffff ? 2 : 1;
    }
    if (i >= this.src.length) return '';
    const cp = this.src.codePointAt(i) ?? 0;
    return String.fromCodePoint(cp);
  }

  startsWith(s: string): boolean {
    return this.src.startsWith(s, this.index);
  }

  bump(): string {
    const cp = this.src.codePointAt(this.index);
    if (cp === undefined) return '';
    const c = String.fromCodePoint(cp);
    this.index += c.length;
    this.offset += utf8Length(cp);
    if (c === '\n') {
      this.line += 1;
      this.col = 1;
    } else {
      this.col += 1;
    }
    return c;
  }

  bumpN(n: number): void {
    for (let k = 0; k < n; k++) this.bump();
  }

  eatWhile(pred: (c: string) => boolean): void {
    while (!this.eof() && pred(this.peek())) this.bump();
  }

  position(): Position {
    return { index: this.index, offset: this.offset, line: this.line, col: this.col };
  }
}

function fail(at: Position, kind: LexErrorKind, message: string): never {
  throw new LexFailure({ ...at, kind, message });
}

/**
 * Tokenize Rust source. Stops at the first error and returns it together with
 * the tokens read so far.
 */
export function lexRust(source: string): LexResult {
  const cur = new Cursor(source);
  const tokens: Token[] = [];
  try {
    if (cur.startsWith('\uFEFF')) {
      // Editors and rustc do not count a byte-order mark as a column.
      cur.bump();
      cur.col = 1;
    }
    const shebang = shebangLength(source, cur.index);
    if (shebang > 0) {
      const start = cur.position();
      cur.bumpN([...source.slice(cur.index, cur.index + shebang)].length);
      tokens.push(makeToken(source, start, cur, 'shebang'));
    }
    while (!cur.eof()) {
      const token = nextToken(cur);
      if (token) tokens.push(token);
    }
    return { ok: true, tokens };
  } catch (e) {
    if (e instanceof LexFailure) return { ok: false, error: e.error, tokens };
    throw e;
  }
}

interface TokenExtras {
  value?: string;
  suffix?: string;
  docStyle?: DocStyle;
}

/** Every token has the same fields in the same order: one object shape keeps rule scans fast. */
function makeToken(src: string, start: Position, cur: Cursor, kind: TokenKind, extra: TokenExtras = {}): Token {
  const text = src.slice(start.index, cur.index);
  return {
    kind,
    text,
    value: extra.value ?? text,
    suffix: extra.suffix,
    docStyle: extra.docStyle,
    index: start.index,
    offset: start.offset,
    line: start.line,
    col: start.col,
    end: cur.index,
    endLine: cur.line,
  };
}

/**
 * rustc treats a leading `#!` as a shebang line unless the next
 * non-whitespace, non-comment token is `[` (an inner attribute). Returns the
 * shebang's length in UTF-16 units, or 0.
 */
function shebangLength(src: string, at: number): number {
  if (!src.startsWith('#!', at)) return 0;
  let i = at + 2;
  for (;;) {
    const c = src[i];
    if (c === undefined) break;
    if (WHITESPACE.has(c)) {
      i++;
      continue;
    }
    if (src.startsWith('//', i) && !isLineDocStart(src, i)) {
      const nl = src.indexOf('\n', i);
      i = nl < 0 ? src.length : nl;
      continue;
    }
    if (src.startsWith('/*', i) && !isBlockDocStart(src, i)) {
      const endAt = blockCommentEnd(src, i);
      if (endAt < 0) break;
      i = endAt;
      continue;
    }
    break;
  }
  if (src[i] === '[') return 0;
  const nl = src.indexOf('\n', at);
  return (nl < 0 ? src.length : nl) - at;
}

function isLineDocStart(src: string, i: number): boolean {
  return (src[i + 2] === '/' && src[i + 3] !== '/') || src[i + 2] === '!';
}

function isBlockDocStart(src: string, i: number): boolean {
  const c = src[i + 2];
  if (c === '!') return true;
  return c === '*' && src[i + 3] !== '*' && src[i + 3] !== '/';
}

/** Index just past a nested block comment starting at `i`, or -1 when unterminated. */
function blockCommentEnd(src: string, i: number): number {
  let depth = 0;
  let k = i;
  while (k < src.length) {
    if (src.startsWith('/*', k)) {
      depth++;
      k += 2;
    } else if (src.startsWith('*/', k)) {
      depth--;
      k += 2;
      if (depth === 0) return k;
    } else {
      k++;
    }
  }
  return -1;
}

function nextToken(cur: Cursor): Token | undefined {
  const src = cur.src;
  const c = cur.peek();
  if (WHITESPACE.has(c)) {
    cur.bump();
    return undefined;
  }
  const start = cur.position();
  if (c === '/' && cur.peek(1) === '/') return lineComment(cur, start);
  if (c === '/' && cur.peek(1) === '*') return blockComment(cur, start);

  if (c === 'r' && cur.peek(1) === '#' && isIdStart(cur.peek(2))) {
    cur.bumpN(2);
    cur.eatWhile(isIdContinue);
    const name = src.slice(start.index + 2, cur.index).normalize('NFC');
    checkReservedPrefix(cur);
    return makeToken(src, start, cur, 'raw-ident', { value: name });
  }
  if (c === 'r' && (cur.peek(1) === '"' || cur.peek(1) === '#')) return rawString(cur, start, 1, 'raw-string');
  if (c === 'b' && cur.peek(1) === "'") {
    cur.bump();
    return quoted(cur, start, 'byte');
  }
  if ((c === 'b' || c === 'c') && cur.peek(1) === '"') {
    cur.bump();
    return doubleQuoted(cur, start, c === 'b' ? 'byte-string' : 'c-string');
  }
  if ((c === 'b' || c === 'c') && cur.peek(1) === 'r' && (cur.peek(2) === '"' || cur.peek(2) === '#')) {
    return rawString(cur, start, 2, c === 'b' ? 'raw-byte-string' : 'raw-c-string');
  }
  if (isIdStart(c)) {
    cur.bump();
    cur.eatWhile(isIdContinue);
    const name = src.slice(start.index, cur.index).normalize('NFC');
    checkReservedPrefix(cur);
    return makeToken(src, start, cur, 'ident', { value: name });
  }
  if (isDigit(c)) return numberLiteral(cur, start);
  if (c === "'") return lifetimeOrChar(cur, start);
  if (c === '"') return doubleQuoted(cur, start, 'string');
  if (c === '#' && cur.peek(1) === '"') {
    fail(
      start,
      'reserved-prefix',
      '`#"` is reserved syntax (guarded string literals); put a space between `#` and the string',
    );
  }
  if (OPEN.has(c)) {
    cur.bump();
    return makeToken(src, start, cur, 'open');
  }
  if (CLOSE.has(c)) {
    cur.bump();
    return makeToken(src, start, cur, 'close');
  }
  for (const p of PUNCTS) {
    if (cur.startsWith(p)) {
      cur.bumpN(p.length);
      return makeToken(src, start, cur, 'punct');
    }
  }
  const shown = c.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0') ?? '';
  return fail(
    start,
    'unknown-character',
    `unknown start of token: U+${shown}${/\p{L}|\p{N}|\p{P}|\p{S}/u.test(c) ? ` \`${c}\`` : ''}`,
  );
}

/**
 * An identifier glued to `"`, `'` or `#` is a reserved prefix in editions
 * 2021+ (rustc rejects it); rejecting it here keeps the token split identical.
 */
function checkReservedPrefix(cur: Cursor): void {
  const next = cur.peek();
  if (next === '"' || next === "'" || next === '#') {
    fail(cur.position(), 'reserved-prefix', `prefix before \`${next}\` is reserved; add a space after the identifier`);
  }
}

function lineComment(cur: Cursor, start: Position): Token | undefined {
  const src = cur.src;
  const doc: DocStyle | undefined =
    src[start.index + 2] === '/' && src[start.index + 3] !== '/'
      ? 'outer'
      : src[start.index + 2] === '!'
        ? 'inner'
        : undefined;
  // Only `\n` ends a line comment: a lone `\r` does not, in rustc either.
  while (!cur.eof() && cur.peek() !== '\n') cur.bump();
  if (!doc) return undefined;
  return makeToken(src, start, cur, 'doc-comment', { docStyle: doc, value: src.slice(start.index + 3, cur.index) });
}

function blockComment(cur: Cursor, start: Position): Token | undefined {
  const src = cur.src;
  const doc: DocStyle | undefined = isBlockDocStart(src, start.index)
    ? src[start.index + 2] === '!'
      ? 'inner'
      : 'outer'
    : undefined;
  cur.bumpN(2);
  let depth = 1;
  while (depth > 0) {
    if (cur.eof())
      fail(
        start,
        'unterminated-block-comment',
        'unterminated block comment (block comments nest: every `/*` needs its own `*/`)',
      );
    if (cur.startsWith('/*')) {
      cur.bumpN(2);
      depth++;
    } else if (cur.startsWith('*/')) {
      cur.bumpN(2);
      depth--;
    } else {
      cur.bump();
    }
  }
  if (!doc) return undefined;
  return makeToken(src, start, cur, 'doc-comment', { docStyle: doc, value: src.slice(start.index + 3, cur.index - 2) });
}

function eatSuffix(cur: Cursor): string | undefined {
  if (!isIdStart(cur.peek())) return undefined;
  const from = cur.index;
  cur.bump();
  cur.eatWhile(isIdContinue);
  return cur.src.slice(from, cur.index);
}

function literal(cur: Cursor, start: Position, kind: LiteralKind): Token {
  const suffix = eatSuffix(cur);
  return makeToken(cur.src, start, cur, kind, suffix === undefined ? {} : { suffix });
}

function doubleQuoted(cur: Cursor, start: Position, kind: LiteralKind): Token {
  cur.bump();
  for (;;) {
    if (cur.eof()) fail(start, 'unterminated-string', 'unterminated double quote string');
    const c = cur.bump();
    if (c === '"') break;
    if (c === '\\' && !cur.eof()) cur.bump();
  }
  return literal(cur, start, kind);
}

/** `r"…"`, `r#"…"#`, `br##"…"##`, `cr"…"`: `prefixLength` is 1 or 2. */
function rawString(cur: Cursor, start: Position, prefixLength: number, kind: LiteralKind): Token {
  cur.bumpN(prefixLength);
  let hashes = 0;
  while (cur.peek() === '#') {
    cur.bump();
    hashes++;
  }
  if (cur.peek() !== '"') {
    fail(start, 'invalid-raw-string', 'raw string: expected `"` after the `#` signs');
  }
  cur.bump();
  const closing = '"' + '#'.repeat(hashes);
  for (;;) {
    if (cur.eof()) {
      fail(start, 'unterminated-raw-string', `unterminated raw string: expected \`${closing}\` to close it`);
    }
    if (cur.startsWith(closing)) {
      cur.bumpN(closing.length);
      break;
    }
    cur.bump();
  }
  return literal(cur, start, kind);
}

/**
 * The body of a char or byte literal after its opening quote, as rustc's
 * tokenizer scans it: a newline or `/` before the closing quote means the
 * literal was never closed.
 */
function quoted(cur: Cursor, start: Position, kind: 'char' | 'byte'): Token {
  cur.bump();
  if (cur.peek(1) === "'" && cur.peek() !== '\\') {
    cur.bumpN(2);
  } else {
    for (;;) {
      const c = cur.peek();
      if (c === "'") {
        cur.bump();
        break;
      }
      if (cur.eof() || c === '/' || (c === '\n' && cur.peek(1) !== "'")) {
        fail(start, 'unterminated-char', `unterminated ${kind === 'char' ? 'character' : 'byte'} literal`);
      }
      if (c === '\\') {
        cur.bumpN(2);
      } else {
        cur.bump();
      }
    }
  }
  const body = cur.src.slice(start.index + (kind === 'byte' ? 2 : 1), cur.index - 1);
  if (body === '') fail(start, 'invalid-char-literal', `empty ${kind === 'char' ? 'character' : 'byte'} literal`);
  if (!body.startsWith('\\') && [...body].length !== 1) {
    fail(
      start,
      'invalid-char-literal',
      `${kind === 'char' ? 'character' : 'byte'} literal may only contain one code point`,
    );
  }
  return literal(cur, start, kind);
}

function lifetimeOrChar(cur: Cursor, start: Position): Token {
  const first = cur.peek(1);
  const second = cur.peek(2);
  const canBeLifetime = second !== "'" && (isIdStart(first) || isDigit(first));
  if (!canBeLifetime) return quoted(cur, start, 'char');
  cur.bump();
  if (first === 'r' && second === '#' && isIdStart(cur.peek(2))) {
    cur.bumpN(2);
    cur.eatWhile(isIdContinue);
    const name = cur.src.slice(start.index + 3, cur.index).normalize('NFC');
    return makeToken(cur.src, start, cur, 'lifetime', { value: name });
  }
  cur.bump();
  cur.eatWhile(isIdContinue);
  if (cur.peek() === "'") {
    fail(start, 'invalid-char-literal', 'character literal may only contain one code point');
  }
  if (isDigit(first)) fail(start, 'invalid-lifetime', 'lifetimes cannot start with a number');
  const name = cur.src.slice(start.index + 1, cur.index).normalize('NFC');
  return makeToken(cur.src, start, cur, 'lifetime', { value: name });
}

function eatDigits(cur: Cursor, pred: (c: string) => boolean): boolean {
  let any = false;
  for (;;) {
    const c = cur.peek();
    if (c === '_') {
      cur.bump();
    } else if (pred(c)) {
      any = true;
      cur.bump();
    } else {
      return any;
    }
  }
}

function eatExponent(cur: Cursor): void {
  cur.bump();
  if (cur.peek() === '+' || cur.peek() === '-') cur.bump();
  eatDigits(cur, isDigit);
}

function numberLiteral(cur: Cursor, start: Position): Token {
  const first = cur.bump();
  if (first === '0') {
    const c = cur.peek();
    if (c === 'b' || c === 'o') {
      cur.bump();
      if (!eatDigits(cur, isDigit)) return literal(cur, start, 'integer');
    } else if (c === 'x') {
      cur.bump();
      if (!eatDigits(cur, isHexDigit)) return literal(cur, start, 'integer');
    } else if (isDigit(c) || c === '_') {
      eatDigits(cur, isDigit);
    } else if (c !== '.' && c !== 'e' && c !== 'E') {
      return literal(cur, start, 'integer');
    }
  } else {
    eatDigits(cur, isDigit);
  }
  const c = cur.peek();
  // `1..2`, `1.foo()` and `x.0.1` keep the integer: a dot only starts a
  // fraction when it is not followed by another dot or an identifier.
  if (c === '.' && cur.peek(1) !== '.' && !isIdStart(cur.peek(1))) {
    cur.bump();
    if (isDigit(cur.peek())) {
      eatDigits(cur, isDigit);
      if (cur.peek() === 'e' || cur.peek() === 'E') eatExponent(cur);
    }
    return literal(cur, start, 'float');
  }
  if (c === 'e' || c === 'E') {
    eatExponent(cur);
    return literal(cur, start, 'float');
  }
  return literal(cur, start, 'integer');
}
