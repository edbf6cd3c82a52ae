/**
 * The SQL types beyond the first ABI's (docs/TYPES.md): their SQL spellings,
 * the Rust types upstream PL/Rust gives them (pgrx's names, in scope in
 * every function through `pgrx::prelude`), and the runtime crate's marker
 * types that constrain the conversions (runtime/src/sql.rs).
 */

export const EXTRA_SCALAR_TYPES = [
  '"char"',
  'oid',
  'date',
  'time',
  'timetz',
  'timestamp',
  'timestamptz',
  'interval',
  'uuid',
  'point',
  'box',
  'tid',
  'cstring',
  'numeric',
  'json',
  'jsonb',
  'int4range',
  'int8range',
  'numrange',
  'daterange',
  'tsrange',
  'tstzrange',
  'inet',
  'anyelement',
  'anyarray',
] as const;
export type ExtraScalarType = (typeof EXTRA_SCALAR_TYPES)[number];

/** SQL spellings (lower-case, modifiers removed) → the canonical name. */
export const EXTRA_SQL_ALIASES: Record<string, ExtraScalarType> = {
  '"char"': '"char"',
  oid: 'oid',
  date: 'date',
  time: 'time',
  'time without time zone': 'time',
  timetz: 'timetz',
  'time with time zone': 'timetz',
  timestamp: 'timestamp',
  'timestamp without time zone': 'timestamp',
  timestamptz: 'timestamptz',
  'timestamp with time zone': 'timestamptz',
  interval: 'interval',
  uuid: 'uuid',
  point: 'point',
  box: 'box',
  tid: 'tid',
  cstring: 'cstring',
  numeric: 'numeric',
  decimal: 'numeric',
  json: 'json',
  jsonb: 'jsonb',
  int4range: 'int4range',
  int8range: 'int8range',
  numrange: 'numrange',
  daterange: 'daterange',
  tsrange: 'tsrange',
  tstzrange: 'tstzrange',
  inet: 'inet',
  anyelement: 'anyelement',
  anyarray: 'anyarray',
};

interface Spec {
  /** The Rust type of an argument and of a result. */
  arg: string;
  result: string;
  /** The marker in `plrust_rt::sql`. */
  marker: string;
}

const SPECS: Record<ExtraScalarType, Spec> = {
  '"char"': { arg: 'i8', result: 'i8', marker: 'Char' },
  oid: { arg: 'Oid', result: 'Oid', marker: 'Oid' },
  date: { arg: 'Date', result: 'Date', marker: 'Date' },
  time: { arg: 'Time', result: 'Time', marker: 'Time' },
  timetz: { arg: 'TimeWithTimeZone', result: 'TimeWithTimeZone', marker: 'TimeTz' },
  timestamp: { arg: 'Timestamp', result: 'Timestamp', marker: 'Timestamp' },
  timestamptz: { arg: 'TimestampWithTimeZone', result: 'TimestampWithTimeZone', marker: 'TimestampTz' },
  interval: { arg: 'Interval', result: 'Interval', marker: 'Interval' },
  uuid: { arg: 'Uuid', result: 'Uuid', marker: 'Uuid' },
  point: { arg: 'Point', result: 'Point', marker: 'Point' },
  box: { arg: 'BOX', result: 'BOX', marker: 'Box' },
  tid: { arg: 'pg_sys::ItemPointerData', result: 'pg_sys::ItemPointerData', marker: 'Tid' },
  cstring: { arg: '&::core::ffi::CStr', result: '::std::ffi::CString', marker: 'Cstring' },
  numeric: { arg: 'AnyNumeric', result: 'AnyNumeric', marker: 'Numeric' },
  json: { arg: 'Json', result: 'Json', marker: 'Json' },
  jsonb: { arg: 'JsonB', result: 'JsonB', marker: 'Jsonb' },
  int4range: { arg: 'Range<i32>', result: 'Range<i32>', marker: 'Range<::plrust_rt::sql::Int4>' },
  int8range: { arg: 'Range<i64>', result: 'Range<i64>', marker: 'Range<::plrust_rt::sql::Int8>' },
  numrange: { arg: 'Range<AnyNumeric>', result: 'Range<AnyNumeric>', marker: 'Range<::plrust_rt::sql::Numeric>' },
  daterange: { arg: 'Range<Date>', result: 'Range<Date>', marker: 'Range<::plrust_rt::sql::Date>' },
  tsrange: { arg: 'Range<Timestamp>', result: 'Range<Timestamp>', marker: 'Range<::plrust_rt::sql::Timestamp>' },
  tstzrange: {
    arg: 'Range<TimestampWithTimeZone>',
    result: 'Range<TimestampWithTimeZone>',
    marker: 'Range<::plrust_rt::sql::TimestampTz>',
  },
  inet: { arg: 'Inet', result: 'Inet', marker: 'Inet' },
  anyelement: { arg: 'AnyElement', result: 'AnyElement', marker: 'AnyElement' },
  anyarray: { arg: 'AnyArray', result: 'AnyArray', marker: 'AnyArray' },
};

/** Polymorphic types: each call resolves them; they have no array type. */
export function isPolymorphic(s: string): boolean {
  return s === 'anyelement' || s === 'anyarray';
}

/** For error messages: the Rust types and their SQL types. */
export const EXTRA_RUST_TYPES =
  'i8 ("char"), Oid (oid), Date, Time, TimeWithTimeZone (timetz), Timestamp, TimestampWithTimeZone ' +
  '(timestamptz), Interval, Uuid, Point, BOX, pg_sys::ItemPointerData (tid), &CStr (cstring), AnyNumeric (numeric), ' +
  'Json, JsonB, Inet, AnyElement (anyelement), AnyArray (anyarray), ' +
  'Range<T> of i32, i64, AnyNumeric, Date, Timestamp or TimestampWithTimeZone (int4range … tstzrange)';

/** How a path may be spelled: bare (from the prelude) or through the crate's modules. */
const PGRX_PATH = /^(pgrx::(datum::|prelude::|pg_sys::)?|pg_sys::|plrust_rt::(datum::|pg_sys::)?)?([A-Za-z]+)$/;

const BY_RUST_NAME: Record<string, ExtraScalarType> = {
  Oid: 'oid',
  Date: 'date',
  Time: 'time',
  TimeWithTimeZone: 'timetz',
  Timestamp: 'timestamp',
  TimestampWithTimeZone: 'timestamptz',
  Interval: 'interval',
  Uuid: 'uuid',
  Point: 'point',
  BOX: 'box',
  ItemPointerData: 'tid',
  AnyNumeric: 'numeric',
  Json: 'json',
  JsonB: 'jsonb',
  Inet: 'inet',
  AnyElement: 'anyelement',
  AnyArray: 'anyarray',
};

/** The SQL type of a Rust path without generic arguments (`Date`, `pgrx::AnyNumeric`), or null. */
export function extraRustScalar(path: string): ExtraScalarType | null {
  const m = PGRX_PATH.exec(path);
  return m ? (BY_RUST_NAME[m[4]!] ?? null) : null;
}

const RANGES: Record<string, ExtraScalarType> = {
  int4: 'int4range',
  int8: 'int8range',
  numeric: 'numrange',
  date: 'daterange',
  timestamp: 'tsrange',
  timestamptz: 'tstzrange',
};

/** `Range<T>`'s SQL type from T's path, or null. */
export function rangeOfRust(inner: string, primitives: Record<string, string>): ExtraScalarType | null {
  const sub = primitives[inner] ?? extraRustScalar(inner);
  return sub ? (RANGES[sub] ?? null) : null;
}

export function extraRustTypeName(s: ExtraScalarType, position: 'arg' | 'result'): string {
  return position === 'arg' ? SPECS[s].arg : SPECS[s].result;
}

export function extraRuntimeSqlType(s: ExtraScalarType): string {
  return `::plrust_rt::sql::${SPECS[s].marker}`;
}
