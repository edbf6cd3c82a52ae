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
  '&[u8] or Vec<u8> (bytea), ' +
  EXTRA_RUST_TYPES +
  ', Vec<Option<T>> of those (arrays; an argument may also be Array<T> or Vec<T>, which refuses a NULL element), ' +
  'Option<T> for a nullable argument; ' +
  'results are Option<T> or Result<Option<T>, E> with E: Display, and () for void';

export interface RustParam {
  type: SqlType;
  /** `Option<T>`: the function accepts NULL for this argument. */
  nullable: boolean;
  /** `u32` for an oid, which the call converts from the body's `Oid`. */
  asU32?: true;
}

export interface RustReturn {
  type: SqlType;
  rsReturn: 'option' | 'result-option';
  /** `u32` for an oid, which the call converts to the body's `Oid`. */
  asU32?: true;
}

/** A parsed Rust type, only as detailed as the mapping needs. */
type RustType =
  | { kind: 'path'; name: string; args: Token[][] }
  | { kind: 'ref'; inner: RustType }
  | { kind: 'slice'; inner: RustType }
  | { kind: 'unit' };

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

function unsupported(text: string, where: string, why?: string): PlrustError {
  return new PlrustError({
    code: 'UNSUPPORTED_TYPE',
    message: `${where}: Rust type \`${text.trim()}\` is not supported${why ? ` (${why})` : ''}`,
    hint: `Supported: ${SUPPORTED_RUST_TYPES_TEXT}.`,
  });
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s+|(r#[A-Za-z_][A-Za-z0-9_]*|[A-Za-z_][A-Za-z0-9_]*|'[A-Za-z_][A-Za-z0-9_]*|::|->|[0-9]+|.)/gsy;
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
  let args: Token[][] = [];
  if (tokens[j] === '<') {
    const g = splitGenerics(tokens, j + 1);
    if (!g) return null;
    args = g.args;
    j = g.end;
  }
  return { type: { kind: 'path', name: canonicalPath(segments.join('::')), args }, end: j };
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

/** pgrx's `Numeric<P, S>`: SQL `numeric` (PostgreSQL keeps no typmod on a signature; the runtime applies P, S). */
function isConstrainedNumeric(t: RustType & { kind: 'path' }): boolean {
  return (
    /^((pgrx|plrust_rt)::(datum::)?)?Numeric$/.test(t.name) &&
    t.args.length === 2 &&
    t.args.every((a) => a.length === 1 && /^[0-9]+$/.test(a[0]!))
  );
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
    if (isConstrainedNumeric(t)) return 'numeric';
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

/** A scalar or array SQL type (no Option around it), or null. */
function valueTypeOf(t: RustType): SqlType | null {
  const scalar = scalarOf(t);
  if (scalar !== null) return { kind: 'scalar', name: scalar };
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
  const type = valueTypeOf(inner ?? t) ?? arrayParamOf(inner ?? t);
  if (type === null) {
    const hint = t.kind === 'path' && t.name === 'Vec' ? 'arrays are Vec<Option<T>>' : undefined;
    throw unsupported(text, where, hint);
  }
  return { type, nullable: inner !== null };
}

/** The SQL result type of a `.rs` function; `text` is undefined when the function has no `->`. */
export function sqlTypeOfRustReturn(text: string | undefined, where: string): RustReturn {
  if (text === undefined || text.trim() === '') return { type: { kind: 'void' }, rsReturn: 'option' };
  const t = parse(text, where);
  if (t.kind === 'unit') return { type: { kind: 'void' }, rsReturn: 'option' };
  const resultOk = t.kind === 'path' && t.name === 'Result' && t.args.length === 2 ? parseTokens(t.args[0]!) : null;
  const rsReturn = resultOk ? 'result-option' : 'option';
  const outer = resultOk ?? t;
  if (resultOk?.kind === 'unit') return { type: { kind: 'void' }, rsReturn };
  const inner = optionInner(outer);
  if (inner === null) {
    throw unsupported(text, where, 'results are Option<T> or Result<Option<T>, E>, so that NULL can be returned');
  }
  if (inner.kind === 'unit') return { type: { kind: 'void' }, rsReturn };
  if (isU32(inner)) return { type: { kind: 'scalar', name: 'oid' }, rsReturn, asU32: true };
  const type = valueTypeOf(inner);
  if (type === null) throw unsupported(text, where);
  return { type, rsReturn };
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
