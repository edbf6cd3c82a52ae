/**
 * The one shape every input (a .rs file, a .sql file, a `plrust compile`
 * request) is turned into before code generation. Everything downstream —
 * generation, compilation, caching, the definition hash — reads only this.
 */
import type { SetReturn } from './set-returns.js';

import { EXTRA_SCALAR_TYPES } from './extra-types.js';

/** SQL scalar types supported in this ABI version (docs/ABI.md, docs/TYPES.md). */
export const SCALAR_TYPES = [
  'bool',
  'int2',
  'int4',
  'int8',
  'float4',
  'float8',
  'text',
  'varchar',
  'bytea',
  ...EXTRA_SCALAR_TYPES,
] as const;
export type ScalarType = (typeof SCALAR_TYPES)[number];

/**
 * A parameter or result type: a scalar, a one-dimensional array of one, void (results only), or a
 * named composite type (only the server knows one: `name` as its format_type spells it).
 */
export type SqlType =
  | { kind: 'scalar'; name: ScalarType }
  | { kind: 'array'; element: ScalarType }
  | { kind: 'void' }
  | { kind: 'composite'; name: string; array: boolean };

export type Volatility = 'immutable' | 'stable' | 'volatile';
export type Parallel = 'safe' | 'restricted' | 'unsafe';

export interface FunctionArg {
  name: string;
  type: SqlType;
}

export interface FunctionDef {
  /** SQL name, possibly schema-qualified ("public.add"). */
  sqlName: string;
  /** The Rust identifier of the function inside the user module. */
  rustName: string;
  args: FunctionArg[];
  returns: SqlType;
  /** RETURNS SETOF (returns is the element type) or RETURNS TABLE (returns is void): src/functions/set-returns.ts. */
  returnsSet?: SetReturn;
  strict: boolean;
  volatility: Volatility;
  parallel: Parallel;
  /**
   * The body, with upstream PL/Rust's meaning: the body of a function whose
   * arguments are bound by name (Option<T> unless strict) and which returns
   * Result<Option<T>, Box<dyn Error + Send + Sync>>. A .rs file's functions
   * are turned into such bodies too (src/functions/rs-file.ts).
   */
  source: string;
  /** Where `source` starts in the user's file, so diagnostics map back. */
  origin: { file: string; line: number; col: number };
}

export function sqlTypeName(t: SqlType): string {
  switch (t.kind) {
    case 'scalar':
      return t.name;
    case 'array':
      return `${t.element}[]`;
    case 'void':
      return 'void';
    case 'composite':
      return `${COMPOSITE_PREFIX}${t.name}${t.array ? '[]' : ''}`;
  }
}

/** How the handler spells a composite type in the signature JSON and the definition hash. */
export const COMPOSITE_PREFIX = 'composite:';
