/**
 * A .rs file of ordinary Rust items → one SQL-body definition per `pub fn`.
 *
 * The body of each is the whole file (its items become items of the body's
 * block, so every helper stays visible) followed by a call of that function.
 * Turning .rs functions into ordinary PL/Rust bodies means the CREATE
 * FUNCTION statements `plrust build` writes are compiled by the server
 * exactly as `plrust build` compiled them: same definition, same hash, so a
 * prebuilt artifact is found by the server without a compiler.
 */
import { PlrustError } from '../util/errors.js';
import type { FunctionArg, FunctionDef } from './definition.js';
import { extractRsItems, type RsFunction } from './rs-items.js';
import { sqlTypeOfRustParam, sqlTypeOfRustReturn, type RustReturn } from './rust-types.js';
import { rsHeaderToBody } from '../deps/body.js';

export interface RsFileResult {
  functions: FunctionDef[];
  /** Errors from reading the signatures, `file:line:col: …` each. */
  errors: string[];
}

/** The last line of the body: bind NULLs, convert the arguments, call the function, convert its result. */
function callLine(
  fn: RsFunction,
  params: { name: string; nullable: boolean; array: boolean; row: boolean; asU32?: true; asChar?: true }[],
  strict: boolean,
  ret: RustReturn,
): string {
  // In a non-STRICT function every argument arrives as Option; a plain Rust parameter turns NULL into a NULL result.
  const unwrap = strict
    ? ''
    : params
        .filter((p) => !p.nullable)
        .map((p) => `let ${p.name} = match ${p.name} { Some(v) => v, None => return Ok(None) }; `)
        .join('');
  // The body's argument types are fixed by the SQL types; the function's own parameter may differ:
  // Array<T>, Vec<Option<T>> or Vec<T> for an array, u32 for an oid, char for a varchar. A composite_type!
  // passes through a check whose rustc message says so when the type named is no composite type.
  const converted = (p: (typeof params)[number], convert: (v: string) => string): string =>
    p.nullable
      ? `let ${p.name} = match ${p.name} { Some(a) => Some(${convert('a')}), None => None }; `
      : `let ${p.name} = ${convert(p.name)}; `;
  const conversions = params
    .map((p) => {
      const name = JSON.stringify(p.name);
      if (p.array) return converted(p, (v) => `::pgrx::datum::array_arg(${v}, ${name})?`);
      if (p.asChar) return converted(p, (v) => `::pgrx::rs_fn::char_arg(${v}, ${name})?`);
      if (p.asU32) return converted(p, (v) => `u32::from(${v})`);
      if (p.row) return converted(p, (v) => `::pgrx::rs_fn::composite_arg(${v})`);
      return '';
    })
    .join('');
  const call = `${fn.name}(${params.map((p) => p.name).join(', ')})`;
  // The body returns Option<T> of its own (owned) T: a plain T is never NULL, a borrowed one is copied out.
  const value = (v: string): string => {
    const option = ret.notNull ? `Some(${v})` : v;
    const owned = ret.convert ? `${option}.map(${ret.convert})` : option;
    return ret.type.kind === 'composite' ? `${owned}.map(::pgrx::rs_fn::composite_result)` : owned;
  };
  const result =
    ret.rsReturn === 'option'
      ? `Ok(${value(call)})`
      : `match ${call} { Ok(v) => Ok(${value('v')}), Err(e) => Err(e.to_string().into()) }`;
  return `${unwrap}${conversions}${result}`;
}

export function parseRsFile(source: string, file: string): RsFileResult {
  const items = extractRsItems(source, file);
  const errors = items.diagnostics.map((d) => d.message);
  const functions: FunctionDef[] = [];
  // A `//! [dependencies]` header becomes the body's [dependencies] section; the code keeps its file lines.
  const header = rsHeaderToBody(source);
  const text = header?.body ?? source;
  const firstLine = 1 - (header?.lineShift ?? 0);
  for (const fn of items.functions) {
    try {
      const params = fn.params.map((p) => ({
        name: p.name,
        ...sqlTypeOfRustParam(p.type, `${file}:${p.line}:${p.col}: argument ${p.name} of ${fn.name}`),
      }));
      const ret = sqlTypeOfRustReturn(fn.returnType, `${file}:${fn.line}:${fn.col}: result of ${fn.name}`);
      // Plain parameters everywhere: STRICT (PostgreSQL never calls it with NULL). The annotation can ask for it too.
      const strict = fn.options.strict || params.every((p) => !p.nullable);
      if (fn.options.strict && params.some((p) => p.nullable)) {
        errors.push(
          `${file}:${fn.line}:${fn.col}: ${fn.name} is annotated strict but takes Option arguments, which would never be None; drop "strict" or the Option`,
        );
        continue;
      }
      const args: FunctionArg[] = params.map((p) => ({ name: p.name, type: p.type }));
      const called = params.map((p) => ({ ...p, array: p.type.kind === 'array', row: p.type.kind === 'composite' }));
      const body = `${text.replace(/\s+$/, '')}\n${callLine(fn, called, strict, ret)}\n`;
      functions.push({
        sqlName: fn.options.sqlName ?? fn.name,
        rustName: fn.name,
        args,
        returns: ret.type,
        strict,
        volatility: fn.options.volatility,
        parallel: fn.options.parallel,
        source: body,
        origin: { file, line: firstLine, col: 1 },
      });
    } catch (e) {
      if (e instanceof PlrustError) errors.push(e.message);
      else throw e;
    }
  }
  return { functions, errors };
}
