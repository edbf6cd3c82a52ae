/**
 * Attributes are checked against an allowlist rather than a denylist: rustc
 * keeps adding built-in attributes, and several existing ones reach outside
 * the function (`#[link_section]` + `#[used]` run code at load time,
 * `#[debugger_visualizer]` embeds a host file, `#[global_allocator]` replaces
 * the shared allocator). Only attributes that change nothing but lints,
 * derives, layout and documentation pass.
 *
 * `cfg_attr(pred, a, b)` is checked as if `a` and `b` were written directly;
 * `unsafe(…)` attributes are rejected whatever they wrap; an attribute built
 * from a macro metavariable (`#[$m]`) is rejected because its name is only
 * known after expansion.
 *
 * Derive helper attributes (`#[serde(rename = "x")]`) pass when a crate the
 * function links from the allow-list declares them (the caller names them
 * in `helpers`), with inert arguments only: names, `=`, commas, literals
 * and parentheses. A derive may parse a string argument as code (serde's
 * `with`, `bound`, `from`), and that code reaches the expanded program
 * with keywords and punctuation the hygiene table cannot attribute; so a
 * string may hold paths, types and bounds but no block, item, closure,
 * macro call, escape or lifetime: no `{ } [ ] ; ! # | $ \ " '` and none of the
 * keywords that start a construct the checker refuses (`fn`, `unsafe`,
 * `extern`, `loop`, …). The names in it keep the function's hygiene
 * context, so the expanded pass checks them as the function's own.
 */
import { lexRust } from '../lexer.js';
import type { Scan, Report, RuleCheck } from './scan.js';

const OUTER_ALLOWED = new Set([
  'allow',
  'warn',
  'deny',
  'forbid',
  'expect',
  'cfg',
  'cfg_attr',
  'derive',
  'doc',
  'inline',
  'cold',
  'track_caller',
  'must_use',
  'deprecated',
  'non_exhaustive',
  'repr',
  'automatically_derived',
  'test',
  'ignore',
  'should_panic',
  'macro_export',
  'macro_use',
  'collapse_debuginfo',
  // the derive(Default) helper that marks the default variant
  'default',
]);

/** Inner attributes apply to the whole user module or function: lints and docs only. */
const INNER_ALLOWED = new Set(['allow', 'warn', 'deny', 'forbid', 'expect', 'doc', 'cfg_attr']);

/** Tool attributes are inert to the compiler. */
const TOOL_NAMESPACES = new Set(['clippy', 'rustfmt', 'diagnostic']);

const EXPLAINED: Readonly<Record<string, string>> = {
  no_mangle: "exports an unmangled symbol into the backend's global symbol namespace",
  export_name: "exports a symbol under a chosen name into the backend's global symbol namespace",
  link: 'links a native library',
  link_name: 'binds a foreign symbol by name',
  link_ordinal: 'binds a foreign symbol',
  link_section: 'places an item in a chosen section (`.init_array` runs code when the library loads)',
  used: 'keeps a static in the object file even when unreferenced (the other half of load-time code)',
  feature: 'enables unstable compiler features',
  naked: 'defines a function without prologue (assembly only)',
  global_allocator: 'replaces the allocator that all functions in the backend share',
  panic_handler: 'replaces the panic machinery the wrapper relies on',
  alloc_error_handler: 'replaces the allocation-failure machinery the wrapper relies on',
  target_feature: 'compiles code for CPU features the server may not have (SIGILL)',
  debugger_visualizer: 'embeds a file from the build host into the library',
  crate_type: 'changes what the crate compiles to',
  crate_name: 'changes the crate identity',
  no_std: 'removes the restricted std',
  no_core: 'removes core',
  no_main: 'changes the crate entry point',
  no_builtins: 'changes code generation for the whole crate',
  recursion_limit: 'raises compiler limits (compile-time denial of service)',
  type_length_limit: 'raises compiler limits (compile-time denial of service)',
  windows_subsystem: 'changes linking',
  instruction_set: 'changes code generation',
  export_stable: 'exports a symbol',
};

/** Keywords a helper string may hold: path roots, and words of types, bounds and names. */
const STRING_WORDS = new Set([
  'crate',
  'self',
  'super',
  'Self',
  'type',
  'as',
  'mut',
  'ref',
  'true',
  'false',
  'in',
  'where',
]);
const STRING_KEYWORDS =
  'abstract async await become box break const continue do dyn else enum extern fn for gen if impl let loop macro ' +
  'macro_rules match mod move override priv pub return safe static struct trait try typeof union unsafe unsized use virtual while yield';
const CONSTRUCT_WORDS = new Set(STRING_KEYWORDS.split(' ').filter((w) => !STRING_WORDS.has(w)));

/** Why a helper attribute's string argument may not be passed to a derive, or undefined. */
export function helperStringProblem(text: string): string | undefined {
  const lexed = lexRust(text);
  if (!lexed.ok) return 'it does not tokenize';
  const content = text.slice(text.indexOf('"') + 1, text.lastIndexOf('"'));
  const bad = /[{}[\];!#|$\\"']/.exec(content);
  if (bad) return `it holds \`${bad[0]}\``;
  const inner = lexRust(content);
  if (!inner.ok) return undefined;
  const word = inner.tokens.find((t) => t.kind === 'ident' && CONSTRUCT_WORDS.has(t.value));
  return word ? `it holds the keyword \`${word.value}\`` : undefined;
}

/** A derive helper's arguments: names, `=`, commas, literals and parenthesised lists of them. */
function checkHelperArguments(scan: Scan, from: number, to: number, where: string, report: Report): void {
  for (let k = from; k < to; k++) {
    const t = scan.at(k)!;
    const literal = /string|char|byte|integer|float/.test(t.kind);
    if (t.kind === 'string' || t.kind === 'raw-string') {
      const why = helperStringProblem(t.text);
      if (why)
        report(
          'forbidden-attribute',
          t,
          `a string in \`${where}\` may name paths and types only (a derive can read it as code), but ${why}`,
        );
    } else if (!(
      (t.kind === 'ident' && !scan.isPunct(k - 1, '$')) ||
      literal ||
      scan.isPunct(k, '=') ||
      scan.isPunct(k, ',') ||
      scan.isPunct(k, '::') ||
      scan.isOpen(k, '(') ||
      (t.kind === 'close' && t.text === ')')
    )) {
      report('forbidden-attribute', t, `\`${where}\` may hold names, \`=\`, literals and parentheses only`);
      return;
    }
  }
}

function checkAttribute(scan: Scan, from: number, to: number, inner: boolean, report: Report): void {
  if (from >= to) return;
  const first = scan.at(from)!;
  if (scan.isPunct(from, '$')) {
    report(
      'macro-splice',
      first,
      'an attribute built from a macro metavariable (`#[$m]`) is only known after expansion; write the attribute out',
    );
    return;
  }
  if (scan.isKw(from, 'unsafe') && scan.isOpen(from + 1, '(')) {
    report('forbidden-attribute', first, '`unsafe(…)` attributes assert properties the compiler cannot check');
    checkAttribute(scan, from + 2, scan.match[from + 1]!, inner, report);
    return;
  }
  const segments: string[] = [];
  let k = from;
  if (scan.isPunct(k, '::')) k++;
  while (scan.at(k)?.kind === 'ident' || scan.at(k)?.kind === 'raw-ident') {
    segments.push(scan.at(k)!.value);
    k++;
    if (!scan.isPunct(k, '::')) break;
    k++;
  }
  const name = segments.join('::');
  const where = inner ? `#![${name}]` : `#[${name}]`;
  if (segments.length === 0) {
    report('forbidden-attribute', first, 'unrecognised attribute syntax');
    return;
  }
  if (name === 'cfg_attr' && scan.isOpen(k, '(')) {
    const parts = scan.splitCommas(k + 1, scan.match[k]!);
    for (const [a, b] of parts.slice(1)) checkAttribute(scan, a, b, inner, report);
    return;
  }
  if (name === 'path') {
    report('path-attribute', first, '`#[path]` makes the compiler read a file chosen by the function');
    return;
  }
  if (!inner && segments.length === 1 && scan.helpers.has(name)) {
    if (scan.isOpen(k, '(')) checkHelperArguments(scan, k + 1, scan.match[k]!, where, report);
    else if (k < to) report('forbidden-attribute', scan.at(k)!, `\`${where}\` takes a parenthesised list`);
    return;
  }
  const why = EXPLAINED[name];
  if (why !== undefined) {
    report('forbidden-attribute', first, `\`${where}\` ${why}`);
    return;
  }
  const allowed = inner
    ? segments.length === 1 && INNER_ALLOWED.has(name)
    : (segments.length === 1 && OUTER_ALLOWED.has(name)) || (segments.length > 1 && TOOL_NAMESPACES.has(segments[0]!));
  if (!allowed) {
    const list = inner
      ? [...INNER_ALLOWED].join(', ')
      : `${[...OUTER_ALLOWED].join(', ')}, and clippy::/rustfmt::/diagnostic:: tool attributes`;
    report(
      'forbidden-attribute',
      first,
      `\`${where}\` is not an allowed ${inner ? 'inner ' : ''}attribute (allowed: ${list})`,
    );
  }
}

const attributes: RuleCheck = (scan, report) => {
  scan.tokens.forEach((t, i) => {
    // `[path = "…"]` is only ever an attribute body; a macro can put the `#` in front of it.
    if (scan.isOpen(i, '[') && scan.isName(i + 1, 'path') && scan.isPunct(i + 2, '=') && !scan.isPunct(i - 1, '#')) {
      report(
        'path-attribute',
        scan.at(i + 1)!,
        '`[path = …]` is the body of a `#[path]` attribute, which makes the compiler read a file',
      );
    }
    if (scan.isPunct(i, '#') && (scan.isPunct(i + 1, '$') || (scan.isPunct(i + 1, '!') && scan.isPunct(i + 2, '$')))) {
      report(
        'macro-splice',
        t,
        'an attribute whose brackets come from a macro metavariable is only known after expansion',
      );
    }
    if (!scan.isPunct(i, '#')) return;
    const inner = scan.isPunct(i + 1, '!');
    const open = inner ? i + 2 : i + 1;
    if (!scan.isOpen(open, '[')) return;
    checkAttribute(scan, open + 1, scan.match[open]!, inner, report);
  });
};

export const attributeRules: readonly RuleCheck[] = [attributes];
