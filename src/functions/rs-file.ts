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
import type { FunctionArg, FunctionDef, SqlType } from './definition.js';
import { extractRsItems, type RsFunction } from './rs-items.js';
import { sqlTypeOfRustParam, sqlTypeOfRustReturn } from './rust-types.js';
import { rsHeaderToBody } from '../deps/body.js';

export interface RsFileResult {
  functions: FunctionDef[];
  /** Errors from reading the signatures, `file:line:col: …` each. */
  errors: string[];
}

/** The last line of the body: bind NULLs, call the function, convert its result. */
function callLine(
  fn: RsFunction,
  params: { name: string; nullable: boolean; array: boolean; asU32?: true; type: SqlType }[],
  strict: boolean,
  ret: { rsReturn: 'option' | 'result-option'; asU32?: true; type: SqlType },
  returnsUnit: boolean,
): string {
  const resultKind = ret.rsReturn;
  // In a non-STRICT function every argument arrives as Option; a plain Rust parameter turns NULL into a NULL result.
  const unwrap = strict
    ? ''
    : params
        .filter((p) => !p.nullable)
        .map((p) => `let ${p.name} = match ${p.name} { Some(v) => v, None => return Ok(None) }; `)
        .join('');
  // The body's array arguments are Array<T>; the function's own parameter may be Array<T>, Vec<Option<T>> or Vec<T>.
  const arrays = params
    .filter((p) => p.array)
    .map((p) => {
      const convert = (v: string): string => `::pgrx::datum::array_arg(${v}, ${JSON.stringify(p.name)})?`;
      return p.nullable
        ? `let ${p.name} = match ${p.name} { Some(a) => Some(${convert('a')}), None => None }; `
        : `let ${p.name} = ${convert(p.name)}; `;
    })
    .join('');
  const oids = params
    .filter((p) => p.asU32)
    .map(
      (p) =>
        `let ${p.name}: ${p.nullable ? 'Option<u32>' : 'u32'} = ${p.name}${p.nullable ? '.map(u32::from)' : '.into()'}; `,
    )
    .join('');
  // The body's numeric is AnyNumeric; the function's may be Numeric<P, S>, whose typmod the call applies.
  const isNumeric = (t: SqlType): boolean => t.kind === 'scalar' && t.name === 'numeric';
  const numerics = params
    .filter((p) => isNumeric(p.type))
    .map((p) =>
      p.nullable
        ? `let ${p.name} = ${p.name}.map(::pgrx::datum::numeric_arg); `
        : `let ${p.name} = ::pgrx::datum::numeric_arg(${p.name}); `,
    )
    .join('');
  const call = `${fn.name}(${params.map((p) => p.name).join(', ')})`;
  // The body's result is Oid for a u32 and AnyNumeric for a Numeric<P, S>.
  const convert = ret.asU32
    ? '.map(::pgrx::pg_sys::Oid::from)'
    : isNumeric(ret.type)
      ? '.map(::pgrx::datum::AnyNumeric::from)'
      : '';
  // A function returning () is a void SQL function: its "value" is Some(()).
  const ok = returnsUnit ? 'Some(v)' : `v${convert}`;
  const result =
    resultKind === 'option'
      ? returnsUnit
        ? `Ok(Some(${call}))`
        : `Ok(${call}${convert})`
      : `match ${call} { Ok(v) => Ok(${ok}), Err(e) => Err(e.to_string().into()) }`;
  return `${unwrap}${arrays}${oids}${numerics}${result}`;
}

/** `()` or no `->` at all, possibly inside Result<(), E>. */
function returnsUnit(returnType: string | undefined): boolean {
  if (returnType === undefined) return true;
  const t = returnType.replace(/\s+/g, '');
  return t === '()' || /^Result<\(\),/.test(t);
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
      const called = params.map((p) => ({ ...p, array: p.type.kind === 'array' }));
      const body = `${text.replace(/\s+$/, '')}\n${callLine(fn, called, strict, ret, returnsUnit(fn.returnType))}\n`;
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
