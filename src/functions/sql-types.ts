/**
 * SQL type names as users write them (`integer`, `double precision`,
 * `varchar(20)`, `text[]`, `int ARRAY`) → the canonical SqlType.
 */
import { PlrustError } from '../util/errors.js';
import { COMPOSITE_PREFIX, SCALAR_TYPES, type ScalarType, type SqlType } from './definition.js';
import { EXTRA_SQL_ALIASES, isPolymorphic } from './extra-types.js';

const ALIASES: Record<string, ScalarType> = {
  bool: 'bool',
  boolean: 'bool',
  int2: 'int2',
  smallint: 'int2',
  int4: 'int4',
  int: 'int4',
  integer: 'int4',
  int8: 'int8',
  bigint: 'int8',
  float4: 'float4',
  real: 'float4',
  float8: 'float8',
  'double precision': 'float8',
  text: 'text',
  varchar: 'varchar',
  'character varying': 'varchar',
  bytea: 'bytea',
  ...EXTRA_SQL_ALIASES,
};

const SUPPORTED_SQL_TYPES_TEXT = `${SCALAR_TYPES.join(', ')}, one-dimensional arrays of those (e.g. int4[]), and void as a result`;

function unsupported(name: string, where: string): PlrustError {
  return new PlrustError({
    code: 'UNSUPPORTED_TYPE',
    message: `${where}: type ${name} is not supported`,
    hint: `supported types: ${SUPPORTED_SQL_TYPES_TEXT}`,
  });
}

/** Parses one SQL type; `where` names the argument or result for messages. */
export function parseSqlType(raw: string, where: string, allowVoid: boolean): SqlType {
  // Only the handler's signature JSON names a composite type, having looked it up in the catalog.
  if (raw.startsWith(COMPOSITE_PREFIX) && raw.length > COMPOSITE_PREFIX.length) {
    const name = raw.slice(COMPOSITE_PREFIX.length);
    const array = name.endsWith('[]');
    return { kind: 'composite', name: array ? name.slice(0, -2) : name, array };
  }
  let t = raw
    .trim()
    .replace(/\s+/g, ' ')
    .toLowerCase()
    .replace(/^pg_catalog\./, '');
  let array = false;
  const arr = t.match(/^(.*?)\s*(\[\s*\d*\s*\]|\barray(\s*\[\s*\d*\s*\])?)$/);
  if (arr) {
    array = true;
    t = arr[1]!.trim();
  }
  if (/\[\s*\d*\s*\]$/.test(t)) throw unsupported(raw.trim(), where);
  // Length and precision modifiers do not change the representation: varchar(20) is varchar,
  // timestamp(3) with time zone is timestamptz.
  t = t.replace(/\s*\(\s*\d+(\s*,\s*\d+)?\s*\)(?=$| with)/, '');
  if (t === 'void') {
    if (allowVoid && !array) return { kind: 'void' };
    throw unsupported(raw.trim(), where);
  }
  const scalar = ALIASES[t];
  if (!scalar || (array && isPolymorphic(scalar))) throw unsupported(raw.trim(), where);
  return array ? { kind: 'array', element: scalar } : { kind: 'scalar', name: scalar };
}
