/**
 * FunctionDef + instrumented user source -> the function crate's files, and
 * the rustc command line that turns them into a library. Pure apart from
 * reading the wrapper template once. Layout and reasons: docs/ABI.md,
 * "Generated crate".
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PlrustError } from '../util/errors.js';
import { packageRoot } from '../util/package-root.js';
import { sqlTypeName, type FunctionDef } from '../functions/definition.js';
import { CHECKPOINT_CALL } from '../analysis/instrument.js';
import { rustParamType, runtimeSqlType } from '../functions/rust-types.js';
import {
  isSetReturning,
  isTrigger,
  returnsName,
  runtimeReturnType,
  rustReturnType,
  TRIGGER_PARAM,
} from '../functions/set-returns.js';

/** The user module's file, next to lib.rs; also its name in panic locations after path remapping. */
export const USER_MODULE_FILE = 'user.rs';
export const WRAPPER_FILE = 'lib.rs';
const CRATE_NAME = 'plrust_fn';

/** Text the instrumenter inserted, in user.rs coordinates (1-based; columns in characters). */
export interface InsertedSpan {
  line: number;
  col: number;
  length: number;
}

export interface GeneratedCrate {
  crateName: string;
  /** lib.rs: the wrapper, the file rustc compiles. */
  source: string;
  /** user.rs, written next to lib.rs. */
  userModule: string;
  /** Source line n is user.rs line n + userLineOffset. */
  userLineOffset: number;
  /** Lines of the user's source (user.rs lines userLineOffset+1 … userLineOffset+userLines). */
  userLines: number;
  insertions: InsertedSpan[];
  origin: FunctionDef['origin'];
  /** What plrust_signature() returns. */
  signature: string;
}

export interface UserPosition {
  file: string;
  line: number;
  col: number;
}

const RUST_KEYWORDS = new Set(
  (
    'as break const continue crate else enum extern false fn for if impl in let loop match mod move mut pub ref ' +
    'return self Self static struct super trait true type unsafe use where while async await dyn abstract become ' +
    'box do final macro override priv typeof unsized virtual yield try gen'
  ).split(' '),
);
const NOT_RAW = new Set(['self', 'Self', 'super', 'crate', '_']);

/** An identifier usable in generated Rust: keywords become raw identifiers (`r#type`). */
function rustIdent(name: string, what: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || NOT_RAW.has(name)) {
    throw new PlrustError({
      code: 'INVALID_RUST_NAME',
      message: `${what} "${name}" is not a Rust identifier`,
      hint: 'Use a name of ASCII letters, digits and underscores that does not start with a digit.',
    });
  }
  return RUST_KEYWORDS.has(name) ? `r#${name}` : name;
}

/** A Rust string literal for any text (escapes, not raw strings: the text may contain `"#`). */
function rustString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (c < 0x20 || c === 0x7f) out += `\\u{${c.toString(16)}}`;
    else out += ch;
  }
  return `${out}"`;
}

/** plrust_signature()'s JSON (docs/ABI.md): compact, keys in a fixed order. */
export function signatureJson(def: FunctionDef): string {
  return JSON.stringify({
    name: def.sqlName,
    args: def.args.map((a) => ({ name: a.name, type: sqlTypeName(a.type) })),
    returns: returnsName(def),
    strict: def.strict,
  });
}

/**
 * Where `instrumented` differs from `original` on each line: instrument()
 * only inserts text within lines. A line that does not align yields no
 * insertions (its columns are then reported unshifted).
 */
export function findInsertions(original: string, instrumented: string, lineOffset: number): InsertedSpan[] {
  const before = original.split('\n');
  const after = instrumented.split('\n');
  if (before.length !== after.length) {
    throw new PlrustError({
      code: 'INSTRUMENT_MISMATCH',
      message: `the instrumented source has ${after.length} lines, the original ${before.length}`,
      hint: 'This is a bug in plrust: instrumentation must not add or remove lines.',
    });
  }
  const out: InsertedSpan[] = [];
  const call = Array.from(CHECKPOINT_CALL);
  const startsWith = (s: string[], at: number): boolean => call.every((c, k) => s[at + k] === c);
  before.forEach((line, n) => {
    if (line === after[n]) return;
    const o = Array.from(line);
    const a = Array.from(after[n]!);
    const found: InsertedSpan[] = [];
    const add = (at: number, length: number): void => {
      const last = found[found.length - 1];
      if (last && last.col + last.length === at + 1) last.length += length;
      else found.push({ line: n + 1 + lineOffset, col: at + 1, length });
    };
    let i = 0;
    let j = 0;
    while (j < a.length) {
      if (startsWith(a, j) && !startsWith(o, i)) {
        add(j, call.length);
        j += call.length;
      } else if (i < o.length && a[j] === o[i]) {
        i++;
        j++;
      } else {
        add(j, 1);
        j++;
      }
    }
    if (i === o.length) out.push(...found);
  });
  return out;
}

/**
 * A position rustc or a panic reported in the generated crate -> the user's
 * file, line and column; null for positions outside the user's source
 * (the wrapper, or a SQL body's generated signature line).
 */
export function mapGeneratedPosition(
  crate: GeneratedCrate,
  file: string,
  line: number,
  col: number,
): UserPosition | null {
  if (path.basename(file) !== USER_MODULE_FILE) return null;
  const srcLine = line - crate.userLineOffset;
  if (srcLine < 1 || srcLine > crate.userLines) return null;
  let delta = 0;
  let srcCol: number | null = null;
  for (const ins of crate.insertions.filter((x) => x.line === line)) {
    if (col >= ins.col + ins.length) delta += ins.length;
    else {
      if (col >= ins.col) srcCol = ins.col - delta;
      break;
    }
  }
  srcCol ??= Math.max(1, col - delta);
  return {
    file: crate.origin.file,
    line: srcLine + crate.origin.line - 1,
    col: srcLine === 1 ? srcCol + crate.origin.col - 1 : srcCol,
  };
}

let template: string | undefined;

function wrapperTemplate(): string {
  template ??= readFileSync(path.join(packageRoot(), 'templates', 'wrapper', WRAPPER_FILE), 'utf8');
  return template;
}

function fill(text: string, values: Record<string, string>): string {
  return text.replace(/\{\{([A-Z_]+)\}\}/g, (_, key: string) => {
    const v = values[key];
    if (v === undefined) throw new Error(`wrapper template: no value for {{${key}}}`);
    return v;
  });
}

/** The SQL body as the body of a function with upstream PL/Rust's signature. */
function sqlBodyModule(def: FunctionDef, params: string[], body: string): string {
  const ret = `Result<Option<${rustReturnType(def)}>, Box<dyn std::error::Error + Send + Sync + 'static>>`;
  // A set's iterator may borrow from the arguments, as upstream's signature allows.
  const lifetime = isSetReturning(def) ? "<'a>" : '';
  const bound = isSetReturning(def) && !isTrigger(def) ? params.map((p) => p.replace(/&/g, "&'a ")) : params;
  // Header and footer on their own lines: user line n is user.rs line n + 1.
  // The body is a tail block so that it may start with inner attributes.
  // pgrx's prelude is in scope as in upstream PL/Rust (types, Spi, logging macros), for the signature and the body.
  const header = `#[allow(unused_imports)] use ::pgrx::prelude::*; pub fn ${rustIdent(def.rustName, 'function name')}${lifetime}(${bound.join(', ')}) -> ${ret} { ::plrust_rt::checkpoint(); {`;
  return `${header}\n${body}\n}}\n`;
}

export function generateCrate(def: FunctionDef, instrumentedUserSource: string): GeneratedCrate {
  const rustName = rustIdent(def.rustName, 'function name');
  const argNames = def.args.map((a) => rustIdent(a.name, `argument name of ${def.sqlName}`));
  if (isTrigger(def) && def.args.length > 0) {
    throw new PlrustError({
      code: 'UNSUPPORTED_TYPE',
      message: `${def.sqlName}: a trigger function takes no arguments`,
      hint: "Pass values with CREATE TRIGGER … EXECUTE FUNCTION f('a', 'b') and read them with trigger.extra_args().",
    });
  }
  const userModule = sqlBodyModule(
    def,
    isTrigger(def) ? [TRIGGER_PARAM] : def.args.map((a, i) => `${argNames[i]}: ${rustParamType(a.type, !def.strict)}`),
    instrumentedUserSource,
  );
  // The generated signature line comes first: body line n is user.rs line n + 1.
  const userLineOffset = 1;
  const userLines = def.source.split('\n').length;
  const insertions = findInsertions(def.source, instrumentedUserSource, userLineOffset);
  const signature = signatureJson(def);
  const conversions = isTrigger(def)
    ? '            let a0 = ::plrust_rt::trigger::trigger()?;\n'
    : def.args
        .map(
          (a, i) =>
            `            let a${i} = ::plrust_rt::wrapper::arg::<${runtimeSqlType(a.type)}, _>(args, ${i}, ${rustString(a.name)})?;\n`,
        )
        .join('');
  const source = fill(wrapperTemplate(), {
    SQL_NAME_COMMENT: def.sqlName.replace(/[\r\n]/g, ' ').replace(/\*\//g, '* /'),
    USER_FILE: rustString(def.origin.file),
    LINE_OFFSET: String(userLineOffset),
    SOURCE_LINES: String(userLines),
    ORIGIN_LINE: String(def.origin.line),
    ORIGIN_COL: String(def.origin.col),
    INSERTIONS: insertions.map((x) => `(${x.line}, ${x.col}, ${x.length})`).join(', '),
    SIGNATURE: `c${rustString(signature)}`,
    NARGS: String(def.args.length),
    ARGS_PARAM: def.args.length > 0 ? 'args' : '_',
    ARGS: conversions,
    RETURN_TYPE: runtimeReturnType(def),
    RUST_NAME: rustName,
    ARG_LIST: isTrigger(def) ? '&a0' : def.args.map((_, i) => `a${i}`).join(', '),
  });
  return {
    crateName: CRATE_NAME,
    source,
    userModule,
    userLineOffset,
    userLines,
    insertions,
    origin: def.origin,
    signature,
  };
}

export interface RustcArgsOptions {
  sysroot: string;
  /** The target spec, a file named `<triple>.json` (rustc takes the target name from the stem). */
  targetSpec: string;
  runtimeRlib: string;
  /** lib.rs; user.rs is next to it. */
  src: string;
  /** The library to write. */
  out: string;
  crateName?: string;
  /** The C compiler that links for the target, when the spec does not name it. */
  linker?: string;
  errorFormat?: 'human' | 'json';
  /** Whether `serde_json` names the runtime's (false when the function lists its own in [dependencies]). */
  runtimeSerdeJson?: boolean;
}

/** Environment rustc needs on top of the caller's: the custom target and -Z flags are unstable. */
export const RUSTC_ENV: Readonly<Record<string, string>> = { RUSTC_BOOTSTRAP: '1' };

/** The rustc command line for one function library (docs/ABI.md, "Building a function library"). */
/**
 * What every crate built against a toolchain's sysroot shares: the edition,
 * the custom target and its sysroot, the allowed unstable features (none for
 * user code), unwinding panics and the optimisation level.
 */
export function targetCrateArgs(o: {
  src: string;
  crateName: string;
  crateType: 'cdylib' | 'rlib';
  sysroot: string;
  targetSpec: string;
  allowFeatures: string[];
}): string[] {
  return [
    o.src,
    '--crate-name',
    o.crateName,
    '--crate-type',
    o.crateType,
    '--edition',
    '2021',
    '-Zunstable-options',
    '--sysroot',
    o.sysroot,
    '--target',
    o.targetSpec,
    `-Zallow-features=${o.allowFeatures.join(',')}`,
    '-C',
    'panic=unwind',
    '-C',
    'opt-level=2',
  ];
}

/**
 * Compiler lints forced on the whole function crate, as upstream plrustc
 * does: `-F` cannot be lowered by an `#[allow]` in the source. Future
 * incompatibilities include coherence and projection checks that rustc is
 * still phasing in (coherence_leak_check, uncovered_param_in_projection,
 * invalid_type_param_default, …); unknown and renamed lint names are
 * refused so that an `#[allow(…)]` always means what it says.
 */
export const LINT_FLAGS: readonly string[] = [
  '-F',
  'future_incompatible',
  '-F',
  'unknown_lints',
  '-F',
  'renamed_and_removed_lints',
  '-D',
  'deprecated',
];

export function rustcArgs(o: RustcArgsOptions): string[] {
  const crateDir = path.dirname(path.resolve(o.src));
  return [
    ...targetCrateArgs({
      src: o.src,
      crateName: o.crateName ?? CRATE_NAME,
      crateType: 'cdylib',
      sysroot: o.sysroot,
      targetSpec: o.targetSpec,
      allowFeatures: [],
    }),
    ...LINT_FLAGS,
    '-C',
    'overflow-checks=on',
    '-C',
    'debuginfo=0',
    '-C',
    'strip=symbols',
    '-C',
    'codegen-units=1',
    '--extern',
    `plrust_rt=${o.runtimeRlib}`,
    // The runtime's serde_json (docs/TYPES.md): `Json(serde_json::Value)` is built with its `json!`.
    ...(o.runtimeSerdeJson === false
      ? []
      : ['--extern', `serde_json=${path.join(path.dirname(o.runtimeRlib), 'libserde_json.rlib')}`]),
    '-L',
    `dependency=${path.dirname(o.runtimeRlib)}`,
    `--remap-path-prefix=${crateDir}${path.sep}=`,
    ...(o.linker ? ['-C', `linker=${o.linker}`] : []),
    ...(o.errorFormat === 'json' ? ['--error-format=json'] : []),
    '-o',
    o.out,
  ];
}
