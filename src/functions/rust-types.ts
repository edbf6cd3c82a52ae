/**
 * SQL types <-> Rust types, both ways: a `.rs` function's own signature
 * decides its SQL signature (`Option<i32>` is a nullable int4), and a SQL
 * body's generated signature is spelled from the SQL types (int4 STRICT is
 * `i32`). The pairs are exactly those the runtime crate converts
 * (runtime/src/convert.rs); anything else is an error naming the
 * type and listing what is supported.
 */
import { PlrustError } from '../util/errors.js';
import type { ScalarType, SqlType } from './definition.js';
import { parseSqlType } from './sql-types.js';
import {
  EXTRA_RUST_TYPES,
  type ExtraScalarType,
  extraRuntimeSqlType,
  extraRustScalar,
  extraRustTypeName,
  rangeOfRust,
} from './extra-types.js';

const SUPPORTED_RUST_TYPES_TEXT =
  'bool (bool), i16 (int2), i32 (int4), i64 (int8), f32 (float4), f64 (float8), &str or String (text), ' +
  '&[u8] or Vec<u8> (bytea), char (varchar of one character), u32 (oid), ' +
  EXTRA_RUST_TYPES +
  ', composite_type!("name") (a named composite type), ' +
  'Vec<Option<T>> or Vec<T> of those (arrays; an argument may also be Array<T>; a Vec<T> argument refuses a NULL element), ' +
  'Option<T> for a nullable argument; ' +
  'results are T, Option<T>, Result<T, E> or Result<Option<T>, E> with E: Display (borrowed &str, &[u8] and &CStr included), and () for void';

export interface RustParam {
  type: SqlType;
  /** `Option<T>`: the function accepts NULL for this argument. */
  nullable: boolean;
  /** `u32` for an oid, which the call converts from the body's `Oid`. */
  asU32?: true;
  /** `char` for a varchar, which the call converts from the body's `&str` (one character, or an error). */
  asChar?: true;
}

export interface RustReturn {
  type: SqlType;
  /** `Result<…, E>` or not. */
  rsReturn: 'option' | 'result-option';
  /** The value is `T`, not `Option<T>`: never NULL. */
  notNull?: true;
  /**
   * A Rust function (a path or a closure) turning the function's `T` into the
   * SQL body's owned result type: `&str` into `String`, `u32` into `Oid`,
   * `Vec<T>` into `Vec<Option<T>>`; absent when they are the same type.
   */
  convert?: string;
}

/** A parsed Rust type, only as detailed as the mapping needs. */
type RustType =
  | { kind: 'path'; name: string; args: Token[][] }
  | { kind: 'ref'; inner: RustType }
  | { kind: 'slice'; inner: RustType }
  | { kind: 'unit' }
  /** pgrx's `composite_type!("name")`, with the name checked (compositeName). */
  | { kind: 'composite'; name: string };

type Token = string;

const PATH_PREFIXES: Record<string, string[]> = {
  Option: ['std::option::', 'core::option::'],
  Result: ['std::result::', 'core::result::'],
  String: ['std::string::', 'alloc::string::'],
  Vec: ['std::vec::', 'alloc::vec::'],
};

const PRIMITIVES: Record<string, ScalarType> = {
  bool: 'bool',
  i16: 'int2',
  i32: 'int4',
  i64: 'int8',
  f32: 'float4',
  f64: 'float8',
  i8: '"char"',
};

/** `u32` for an oid: a scalar argument or result only (the .rs call converts it, src/functions/rs-file.ts). */
function isU32(t: RustType | null): boolean {
  return t?.kind === 'path' && t.name === 'u32' && t.args.length === 0;
}

/** `char` for a one-character varchar: a scalar argument or result only, converted by the .rs call like u32. */
function isChar(t: RustType | null): boolean {
  return t?.kind === 'path' && /^((std|core)::primitive::)?char$/.test(t.name) && t.args.length === 0;
}

function unsupported(text: string, where: string, why?: string): PlrustError {
  return new PlrustError({
    code: 'UNSUPPORTED_TYPE',
    message: `${where}: Rust type \`${text.trim()}\` is not supported${why ? ` (${why})` : ''}`,
    hint: `Supported: ${SUPPORTED_RUST_TYPES_TEXT}.`,
  });
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const re =
    /\s+|(r#[A-Za-z_][A-Za-z0-9_]*|[A-Za-z_][A-Za-z0-9_]*|'[A-Za-z_][A-Za-z0-9_]*|"(?:[^"\\]|\\.)*"|::|->|[0-9]+|.)/gsy;
  for (let m = re.exec(text); m !== null && m[0] !== ''; m = re.exec(text)) {
    if (m[1] !== undefined) tokens.push(m[1]);
  }
  return tokens;
}

const OPEN: Record<string, string> = { '<': '>', '(': ')', '[': ']' };

/** Splits generic arguments at top-level commas; `tokens` starts after `<`. Returns the args and the index after `>`. */
function splitGenerics(tokens: Token[], start: number): { args: Token[][]; end: number } | null {
  const args: Token[][] = [];
  const stack: string[] = [];
  let current: Token[] = [];
  for (let i = start; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (stack.length === 0 && (t === '>' || t === ',')) {
      if (current.length > 0) args.push(current);
      current = [];
      if (t === '>') return { args, end: i + 1 };
      continue;
    }
    if (t in OPEN) stack.push(OPEN[t]!);
    else if (t === '>' || t === ')' || t === ']') {
      if (stack.pop() !== t) return null;
    }
    current.push(t);
  }
  return null;
}

function parseTokens(tokens: Token[]): RustType | null {
  const parsed = parseAt(tokens, 0);
  return parsed !== null && parsed.end === tokens.length ? parsed.type : null;
}

function parseAt(tokens: Token[], i: number): { type: RustType; end: number } | null {
  const t = tokens[i];
  if (t === undefined) return null;
  if (t === '&') {
    let j = i + 1;
    if (tokens[j]?.startsWith("'")) j++;
    if (tokens[j] === 'mut') return null;
    const inner = parseAt(tokens, j);
    return inner && { type: { kind: 'ref', inner: inner.type }, end: inner.end };
  }
  if (t === '[') {
    const inner = parseAt(tokens, i + 1);
    if (!inner || tokens[inner.end] !== ']') return null;
    return { type: { kind: 'slice', inner: inner.type }, end: inner.end + 1 };
  }
  if (t === '(') {
    return tokens[i + 1] === ')' ? { type: { kind: 'unit' }, end: i + 2 } : null;
  }
  let j = i;
  const segments: string[] = [];
  if (tokens[j] === '::') j++;
  for (;;) {
    const seg = tokens[j];
    if (seg === undefined || !/^(r#)?[A-Za-z_][A-Za-z0-9_]*$/.test(seg)) return null;
    segments.push(seg);
    j++;
    if (tokens[j] !== '::') break;
    j++;
  }
  if (tokens[j] === '!' && tokens[j + 1] === '(' && COMPOSITE_MACRO.test(segments.join('::'))) {
    // composite_type!("name") or composite_type!('a, "name")
    let k = j + 2;
    if (tokens[k]?.startsWith("'") && tokens[k + 1] === ',') k += 2;
    const literal = tokens[k];
    if (literal === undefined || !literal.startsWith('"') || tokens[k + 1] !== ')') return null;
    return { type: { kind: 'composite', name: literal }, end: k + 2 };
  }
  let args: Token[][] = [];
  if (tokens[j] === '<') {
    const g = splitGenerics(tokens, j + 1);
    if (!g) return null;
    args = g.args;
    j = g.end;
  }
  return { type: { kind: 'path', name: canonicalPath(segments.join('::')), args }, end: j };
}

const COMPOSITE_MACRO = /^((pgrx|plrust_rt)::(prelude::)?)?composite_type$/;

/** Only a plain SQL name (optionally schema-qualified) goes into the CREATE FUNCTION statement. */
const COMPOSITE_NAME = /^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$/;

/** The SQL type a `composite_type!` literal names, or an error saying why it cannot be one. */
function compositeName(literal: string, where: string): string {
  const name = literal.slice(1, -1);
  const refuse = (why: string): PlrustError =>
    new PlrustError({
      code: 'UNSUPPORTED_TYPE',
      message: `${where}: composite_type!(${literal}) ${why}`,
      hint: 'Name a composite type (CREATE TYPE name AS (…), or a table) as SQL spells it unquoted: lowercase letters, digits and _, optionally schema.name.',
    });
  if (!COMPOSITE_NAME.test(name)) throw refuse('is not a plain lowercase SQL type name');
  let builtin = false;
  try {
    parseSqlType(name, where, true);
    builtin = true;
  } catch {
    // Not a base type plrust knows: PostgreSQL decides at CREATE FUNCTION whether it is a composite type.
  }
  if (builtin) throw refuse(`names the base type ${name}, not a composite type; use its Rust type`);
  return name;
}

function canonicalPath(path: string): string {
  for (const [short, prefixes] of Object.entries(PATH_PREFIXES)) {
    if (prefixes.some((p) => path === p + short)) return short;
  }
  return path;
}

function onlyArg(t: RustType & { kind: 'path' }): RustType | null {
  if (t.args.length !== 1) return null;
  return parseTokens(t.args[0]!);
}

/** A scalar SQL type from a Rust type, or null. */
function scalarOf(t: RustType): ScalarType | null {
  if (t.kind === 'path') {
    if (t.args.length === 0) {
      if (t.name in PRIMITIVES) return PRIMITIVES[t.name]!;
      if (t.name === 'String') return 'text';
      if (/^((std|alloc)::ffi::)?CString$/.test(t.name)) return 'cstring';
      return extraRustScalar(t.name);
    }
    if (t.name === 'Range' || t.name.endsWith('::Range')) {
      const inner = onlyArg(t);
      return inner?.kind === 'path' && inner.args.length === 0 ? rangeOfRust(inner.name, PRIMITIVES) : null;
    }
    if (t.name === 'Vec') {
      const inner = onlyArg(t);
      return inner?.kind === 'path' && inner.name === 'u8' && inner.args.length === 0 ? 'bytea' : null;
    }
    return null;
  }
  if (t.kind === 'ref') {
    const inner = t.inner;
    if (inner.kind === 'path' && inner.name === 'str' && inner.args.length === 0) return 'text';
    if (inner.kind === 'slice' && inner.inner.kind === 'path' && inner.inner.name === 'u8') return 'bytea';
    if (inner.kind === 'path' && inner.args.length === 0 && /^((std|core)::ffi::)?CStr$/.test(inner.name))
      return 'cstring';
  }
  return null;
}

/** An argument-only array spelling: pgrx's `Array<'a, T>`, or `Vec<T>` (a NULL element is an error at the call). */
function arrayParamOf(t: RustType): SqlType | null {
  if (t.kind !== 'path') return null;
  const isArray = /^((pgrx|plrust_rt)::((datum|prelude)::)?)?Array$/.test(t.name);
  if (!isArray && t.name !== 'Vec') return null;
  const typeArgs = t.args.filter((a) => !(a.length === 1 && a[0]!.startsWith("'")));
  if (typeArgs.length !== 1) return null;
  const element = parseTokens(typeArgs[0]!);
  if (element === null) return null;
  if (isArray) {
    const inner = optionInner(element) === null ? scalarOf(element) : null;
    return inner === null ? null : { kind: 'array', element: inner };
  }
  if (element.kind === 'path' && element.name === 'u8' && element.args.length === 0) return null;
  const scalar = scalarOf(element);
  return scalar === null ? null : { kind: 'array', element: scalar };
}

/** `composite_type!("name")`, `Vec<Option<composite_type!(…)>>` (and `Vec<composite_type!(…)>` when `bare`), or null. */
function compositeOf(t: RustType, where: string, bare: boolean): SqlType | null {
  if (t.kind === 'composite') return { kind: 'composite', name: compositeName(t.name, where), array: false };
  if (t.kind !== 'path' || t.name !== 'Vec') return null;
  const inner = onlyArg(t);
  const element = inner && (optionInner(inner) ?? (bare ? inner : null));
  return element?.kind === 'composite'
    ? { kind: 'composite', name: compositeName(element.name, where), array: true }
    : null;
}

/** A scalar, array or composite SQL type (no Option around it), or null. */
function valueTypeOf(t: RustType, where: string): SqlType | null {
  const scalar = scalarOf(t);
  if (scalar !== null) return { kind: 'scalar', name: scalar };
  const composite = compositeOf(t, where, false);
  if (composite !== null) return composite;
  if (t.kind === 'path' && t.name === 'Vec') {
    const inner = onlyArg(t);
    if (inner?.kind === 'path' && inner.name === 'Option') {
      const element = onlyArg(inner);
      const elementScalar = element && scalarOf(element);
      if (elementScalar) return { kind: 'array', element: elementScalar };
    }
  }
  return null;
}

function parse(text: string, where: string): RustType {
  const t = parseTokens(tokenize(text));
  if (t === null) throw unsupported(text, where);
  return t;
}

function optionInner(t: RustType): RustType | null {
  return t.kind === 'path' && t.name === 'Option' ? onlyArg(t) : null;
}

/** The SQL type of a `.rs` function's parameter. `where` names it in errors ("argument `a` of add"). */
export function sqlTypeOfRustParam(text: string, where: string): RustParam {
  const t = parse(text, where);
  const inner = optionInner(t);
  if (isU32(inner ?? t)) return { type: { kind: 'scalar', name: 'oid' }, nullable: inner !== null, asU32: true };
  if (isChar(inner ?? t)) return { type: { kind: 'scalar', name: 'varchar' }, nullable: inner !== null, asChar: true };
  const type = valueTypeOf(inner ?? t, where) ?? arrayParamOf(inner ?? t);
  if (type === null) {
    const hint = t.kind === 'path' && t.name === 'Vec' ? 'arrays are Vec<Option<T>>' : undefined;
    throw unsupported(text, where, hint);
  }
  return { type, nullable: inner !== null };
}

/** Owns a borrowed `&str`, `&[u8]` or `&CStr` as the String, Vec<u8> or CString the runtime sends. */
const TO_OWNED = '|v| ::std::borrow::ToOwned::to_owned(v)';

/**
 * A result value: its SQL type and the conversion into the SQL body's result
 * type. Arrays may hold `T` or `Option<T>`, borrowed or owned.
 */
function resultValueOf(t: RustType, where: string): { type: SqlType; convert?: string } | null {
  if (isU32(t)) return { type: { kind: 'scalar', name: 'oid' }, convert: '::pgrx::pg_sys::Oid::from' };
  if (isChar(t))
    return { type: { kind: 'scalar', name: 'varchar' }, convert: '|v: char| ::std::string::ToString::to_string(&v)' };
  const scalar = scalarOf(t);
  if (scalar !== null)
    return { type: { kind: 'scalar', name: scalar }, ...(t.kind === 'ref' ? { convert: TO_OWNED } : {}) };
  const composite = compositeOf(t, where, true);
  if (t.kind === 'path' && t.name === 'Vec') {
    const inner = onlyArg(t);
    const option = inner && optionInner(inner);
    const element = option ?? inner;
    const elementScalar = element && scalarOf(element);
    if (composite === null && elementScalar === null) return null;
    const type: SqlType = composite ?? { kind: 'array', element: elementScalar! };
    const owned = element?.kind === 'ref' ? `.map(|e| e.map(${TO_OWNED}))` : '';
    if (option === null)
      return { type, convert: `|v| v.into_iter().map(Some)${owned}.collect::<::std::vec::Vec<_>>()` };
    return owned === '' ? { type } : { type, convert: `|v| v.into_iter()${owned}.collect::<::std::vec::Vec<_>>()` };
  }
  return composite && { type: composite };
}

/** The SQL result type of a `.rs` function; `text` is undefined when the function has no `->`. */
export function sqlTypeOfRustReturn(text: string | undefined, where: string): RustReturn {
  if (text === undefined || text.trim() === '') return { type: { kind: 'void' }, rsReturn: 'option', notNull: true };
  const t = parse(text, where);
  if (t.kind === 'unit') return { type: { kind: 'void' }, rsReturn: 'option', notNull: true };
  const resultOk = t.kind === 'path' && t.name === 'Result' && t.args.length === 2 ? parseTokens(t.args[0]!) : null;
  const rsReturn = resultOk ? 'result-option' : 'option';
  const outer = resultOk ?? t;
  const inner = optionInner(outer);
  const notNull = inner === null ? ({ notNull: true } as const) : {};
  const value = inner ?? outer;
  if (value.kind === 'unit') return { type: { kind: 'void' }, rsReturn, ...notNull };
  const mapped = resultValueOf(value, where);
  if (mapped === null) throw unsupported(text, where);
  return { ...mapped, rsReturn, ...notNull };
}

function rustScalar(s: ScalarType, position: 'arg' | 'result'): string {
  switch (s) {
    case 'bool':
      return 'bool';
    case 'int2':
      return 'i16';
    case 'int4':
      return 'i32';
    case 'int8':
      return 'i64';
    case 'float4':
      return 'f32';
    case 'float8':
      return 'f64';
    case 'text':
    case 'varchar':
      return position === 'arg' ? '&str' : 'String';
    case 'bytea':
      return position === 'arg' ? '&[u8]' : 'Vec<u8>';
    default:
      return extraRustTypeName(s, position);
  }
}

/**
 * The Rust type a SQL body sees for an argument (upstream PL/Rust's spelling:
 * its functions get `pgrx::Array<'a, T>` for array arguments).
 */
export function rustParamType(t: SqlType, nullable: boolean): string {
  let inner: string;
  switch (t.kind) {
    case 'scalar':
      inner = rustScalar(t.name, 'arg');
      break;
    case 'array':
      inner = `Array<'_, ${rustScalar(t.element, 'arg')}>`;
      break;
    case 'void':
      throw unsupported('()', 'argument', 'void is a result type only');
    case 'composite':
      inner = t.array ? `Vec<Option<${COMPOSITE_RUST_TYPE}>>` : COMPOSITE_RUST_TYPE;
      break;
  }
  return nullable ? `Option<${inner}>` : inner;
}

/** The `T` of a SQL body's `Result<Option<T>, …>`. */
export function rustResultType(t: SqlType): string {
  switch (t.kind) {
    case 'scalar':
      return rustScalar(t.name, 'result');
    case 'array':
      return `Vec<Option<${rustScalar(t.element, 'result')}>>`;
    case 'void':
      return '()';
    case 'composite':
      return t.array ? `Vec<Option<${COMPOSITE_RUST_TYPE}>>` : COMPOSITE_RUST_TYPE;
  }
}

/** A row owns its values, so it needs no borrow of the call's arguments. */
const COMPOSITE_RUST_TYPE = "::plrust_rt::trigger::PgHeapTuple<'static, ::plrust_rt::trigger::AllocatedByRust>";

/** The runtime crate's type for a SQL type (`::plrust_rt::sql::…`), which constrains the conversions. */
export function runtimeSqlType(t: SqlType): string {
  const scalar = (s: ScalarType): string => {
    const names: Partial<Record<ScalarType, string>> = {
      bool: 'Bool',
      int2: 'Int2',
      int4: 'Int4',
      int8: 'Int8',
      float4: 'Float4',
      float8: 'Float8',
      text: 'Text',
      varchar: 'Text',
      bytea: 'Bytea',
    };
    const name = names[s];
    return name ? `::plrust_rt::sql::${name}` : extraRuntimeSqlType(s as ExtraScalarType);
  };
  switch (t.kind) {
    case 'scalar':
      return scalar(t.name);
    case 'array':
      return `::plrust_rt::sql::Array<${scalar(t.element)}>`;
    case 'void':
      return '::plrust_rt::sql::Void';
    case 'composite':
      return t.array
        ? '::plrust_rt::sql::Array<::plrust_rt::composite::Composite>'
        : '::plrust_rt::composite::Composite';
  }
}
