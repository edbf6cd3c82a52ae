/**
 * Results that are not one value: `RETURNS SETOF t` and `RETURNS TABLE
 * (name t, …)` (docs/SRF.md), and `RETURNS trigger` (docs/TRIGGERS.md). The
 * definition keeps `returns` as the element type (SETOF) or void (TABLE,
 * trigger) and says which form it is in `returnsSet`; the canonical text —
 * `setof int4`, `table(count int4, word text)`, `trigger` — is what the
 * signature JSON, the definition hash and the compile protocol carry,
 * spelled the same way by the C handler from pg_proc.
 */
import { PlrustError } from '../util/errors.js';
import { sqlTypeName, type FunctionArg, type FunctionDef } from './definition.js';
import { rustResultType, runtimeSqlType } from './rust-types.js';
import { isPolymorphic } from './extra-types.js';
import { parseSqlType } from './sql-types.js';

export type SetReturn = { kind: 'setof' } | { kind: 'table'; columns: FunctionArg[] } | { kind: 'trigger' };

type Returns = Pick<FunctionDef, 'returns' | 'returnsSet'>;

/** `int4`, `setof int4` or `table(count int4, word text)`. */
export function returnsName(def: Returns): string {
  const set = def.returnsSet;
  if (!set) return sqlTypeName(def.returns);
  if (set.kind === 'setof') return `setof ${sqlTypeName(def.returns)}`;
  if (set.kind === 'trigger') return 'trigger';
  return `table(${set.columns.map((c) => `${c.name} ${sqlTypeName(c.type)}`).join(', ')})`;
}

/** Splits at commas outside parentheses. */
function splitTop(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts.map((p) => p.trim());
}

function polymorphicSet(where: string): PlrustError {
  return new PlrustError({
    code: 'UNSUPPORTED_TYPE',
    message: `${where}: a set-returning function cannot return anyelement or anyarray`,
    hint: 'A polymorphic result is supported for functions that return one value.',
  });
}

/** A RETURNS clause as text (`int4`, `SETOF text`, `TABLE (a int, b text)`); `where` names it in messages. */
export function parseReturns(raw: string, where: string): Returns {
  const text = raw.trim().replace(/\s+/g, ' ');
  if (/^(pg_catalog\.)?trigger$/i.test(text)) return { returns: { kind: 'void' }, returnsSet: { kind: 'trigger' } };
  const setof = text.match(/^setof\s+(.+)$/i);
  if (setof) {
    const returns = parseSqlType(setof[1]!, where, false);
    if (returns.kind === 'scalar' && isPolymorphic(returns.name)) throw polymorphicSet(where);
    return { returns, returnsSet: { kind: 'setof' } };
  }
  const table = text.match(/^table\s*\((.*)\)$/i);
  if (table) {
    const columns = splitTop(table[1]!).map((col) => {
      const m = col.match(/^("?)([A-Za-z_][A-Za-z0-9_]*)\1\s+(.+)$/);
      if (!m) {
        throw new PlrustError({
          code: 'UNSUPPORTED_TYPE',
          message: `${where}: TABLE column "${col}" is not "name type"`,
          hint: 'Write each column of RETURNS TABLE as a name and a type, e.g. TABLE (id int, name text).',
        });
      }
      const name = m[1] ? m[2]! : m[2]!.toLowerCase();
      const type = parseSqlType(m[3]!, `${where} column ${name}`, false);
      if (type.kind === 'scalar' && isPolymorphic(type.name)) throw polymorphicSet(where);
      return { name, type };
    });
    return { returns: { kind: 'void' }, returnsSet: { kind: 'table', columns } };
  }
  return { returns: parseSqlType(text, where, true) };
}

/** The `T` of a SQL body's `Result<Option<T>, …>` (upstream's spelling, borrowing for `'a`). */
export function rustReturnType(def: Returns): string {
  const set = def.returnsSet;
  if (!set) return rustResultType(def.returns);
  if (set.kind === 'setof') return `::plrust_rt::srf::SetOfIterator<'a, Option<${rustResultType(def.returns)}>>`;
  if (set.kind === 'trigger') return "::plrust_rt::trigger::PgHeapTuple<'a, ::plrust_rt::trigger::AllocatedByRust>";
  const cols = set.columns.map((c) => `Option<${rustResultType(c.type)}>`);
  return `::plrust_rt::srf::TableIterator<'a, (${cols.join(', ')},)>`;
}

/** The runtime's SQL type for the result, which constrains the conversions. */
export function runtimeReturnType(def: Returns): string {
  const set = def.returnsSet;
  if (!set) return runtimeSqlType(def.returns);
  if (set.kind === 'setof') return `::plrust_rt::srf::SetOf<${runtimeSqlType(def.returns)}>`;
  if (set.kind === 'trigger') return '::plrust_rt::trigger::Trigger';
  return `::plrust_rt::srf::Table<(${set.columns.map((c) => runtimeSqlType(c.type)).join(', ')},)>`;
}

/** Whether the result may borrow from the arguments (upstream's `'a`). */
export function isSetReturning(def: Returns): boolean {
  return def.returnsSet !== undefined;
}

export function isTrigger(def: Returns): boolean {
  return def.returnsSet?.kind === 'trigger';
}

/** What a trigger function's body sees: `trigger`, upstream's binding. */
export const TRIGGER_PARAM = "trigger: &'a ::plrust_rt::trigger::PgTrigger<'a>";
