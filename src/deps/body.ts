/**
 * Upstream PL/Rust's sectioned bodies: a body whose first non-blank line is
 * `[dependencies]` holds TOML (Cargo.toml's `[dependencies]` syntax) up to a
 * line `[code]`; the Rust code follows. A body without sections is all code.
 * A .rs file says the same with a leading block of `//!` lines (see
 * rsHeaderToBody), so both inputs reach the compiler as the same body.
 */
import { parse as parseToml, TomlError } from 'smol-toml';
import { PlrustError } from '../util/errors.js';

export interface DependencyRequest {
  /** The name the code uses (`regex`, `serde`); also the crate's package name. */
  name: string;
  /** Cargo requirement as the function wrote it. */
  version: string;
  /** Given only when the function named them; the allow-list decides otherwise. */
  features?: string[];
  defaultFeatures?: boolean;
}

export interface SplitBody {
  /** The Rust code. */
  code: string;
  /** Lines before the code: code line n is body line n + codeLineOffset. */
  codeLineOffset: number;
  dependencies: DependencyRequest[];
}

const CRATE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const FEATURE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_+./-]{0,63}$/;

function depError(message: string, hint?: string): PlrustError {
  return new PlrustError({
    code: 'BAD_DEPENDENCIES',
    message,
    hint:
      hint ??
      'write `[dependencies]`, then lines like `regex = "=1.7.1"` or `serde = { version = "1", features = ["derive"] }`, then `[code]`',
  });
}

function stringList(v: unknown, what: string, valid: RegExp): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !valid.test(x)))
    throw depError(`${what} must be a list of feature names`);
  return [...new Set(v as string[])].sort();
}

/**
 * One dependency's value, as in Cargo.toml or an allow-list entry: a
 * requirement string or a table of version, features and default-features.
 * Sources other than the administrator's (git, path, registry, renames) are
 * refused: the administrator decides where crates come from.
 */
export function readDependencyValue(name: string, v: unknown, where: string): DependencyRequest {
  if (!CRATE_NAME.test(name)) throw depError(`${where}: "${name}" is not a crate name`);
  if (typeof v === 'string') return { name, version: v };
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw depError(`${where}: ${name} must be a version string or a table`);
  const t = v as Record<string, unknown>;
  const out: DependencyRequest = { name, version: '*' };
  for (const [k, x] of Object.entries(t)) {
    if (k === 'version') {
      if (typeof x !== 'string') throw depError(`${where}: ${name}.version must be a string`);
      out.version = x;
    } else if (k === 'features') out.features = stringList(x, `${where}: ${name}.features`, FEATURE_NAME);
    else if (k === 'default-features' || k === 'default_features') {
      if (typeof x !== 'boolean') throw depError(`${where}: ${name}.${k} must be true or false`);
      out.defaultFeatures = x;
    } else
      throw depError(
        `${where}: ${name}.${k} is not supported`,
        'a dependency may give version, features and default-features; crates come from the source the administrator configured',
      );
  }
  return out;
}

function parseTable(text: string, where: string): Record<string, unknown> {
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (e) {
    const why = e instanceof TomlError ? e.message.split('\n')[0] : String(e);
    throw depError(`${where} is not valid TOML: ${why}`);
  }
}

export function splitBody(body: string): SplitBody {
  const lines = body.split('\n');
  const first = lines.findIndex((l) => l.trim() !== '');
  const head = first < 0 ? '' : lines[first]!.trim();
  if (head !== '[dependencies]' && head !== '[code]') return { code: body, codeLineOffset: 0, dependencies: [] };
  const codeAt = lines.findIndex((l, i) => i >= first && l.trim() === '[code]');
  if (codeAt < 0) throw depError('the body has a [dependencies] section but no [code] line after it');
  // Parsed with its header, so that `[dependencies.serde]` tables work as in Cargo.toml.
  const toml = head === '[dependencies]' ? lines.slice(first, codeAt).join('\n') : '';
  const doc = parseTable(toml, '[dependencies]');
  const other = Object.keys(doc).filter((k) => k !== 'dependencies');
  if (other.length) throw depError(`the body may only have a [dependencies] section before [code], not [${other[0]}]`);
  const table = (doc.dependencies ?? {}) as Record<string, unknown>;
  const dependencies = Object.entries(table)
    .map(([name, v]) => readDependencyValue(name, v, '[dependencies]'))
    .sort((a, b) => a.name.localeCompare(b.name));
  const underscored = new Set<string>();
  for (const d of dependencies) {
    const u = d.name.replace(/-/g, '_');
    if (underscored.has(u)) throw depError(`[dependencies] names the crate ${u} twice`);
    underscored.add(u);
  }
  return { code: lines.slice(codeAt + 1).join('\n'), codeLineOffset: codeAt + 1, dependencies };
}

/**
 * A .rs file's dependency header: leading lines `//! [dependencies]` and
 * `//! name = requirement …`, up to the first line that is not `//!`. The
 * result is the upstream body form, with the file line numbers kept: the
 * code's first line is the header's last line plus one.
 */
export function rsHeaderToBody(source: string): { body: string; lineShift: number } | undefined {
  const lines = source.split('\n');
  if (lines[0]?.trim() !== '//! [dependencies]') return undefined;
  let n = 1;
  while (n < lines.length && lines[n]!.startsWith('//!')) n++;
  const toml = lines.slice(1, n).map((l) => l.slice(3));
  const body = ['[dependencies]', ...toml, '[code]', ...lines.slice(n)].join('\n');
  // Header lines n, plus the [code] line: the code starts one line later in the body than in the file.
  return { body, lineShift: 1 };
}
