/**
 * Names mean what rustc says they mean. Several rules (and the runaway-loop
 * instrumenter) recognise standard-library items and macros by name; that is
 * only sound while the user cannot give their own items those names. So:
 *
 * - the crate names `std`, `core`, `alloc`, `proc_macro`, `pgrx` and the
 *   generated crate's own (`plrust_rt`, `plrust_fn`) may only appear as a
 *   path segment (`std::…`, `…::alloc::…`) or a field/method name after `.`;
 *   never as a declared item, module, binding, import name or generic
 *   parameter, so `mod core { … }` cannot stand in for the real one;
 * - a `macro_rules!` may not take the name of a standard macro, and `use`
 *   may not bind a standard macro's name to anything but the standard macro
 *   (`use std::…::name` is fine, `use crate::m as vec` is not), so a call
 *   of `vec!` or `format_args!` is always the standard one, before and after
 *   expansion.
 */
import type { RuleCheck } from './scan.js';

export const RESERVED_CRATE_NAMES: ReadonlySet<string> = new Set([
  'std',
  'core',
  'alloc',
  'proc_macro',
  'pgrx',
  'plrust_rt',
  'plrust_fn',
]);

/**
 * Macros exported by std, core and alloc (stable and unstable), and the
 * internal helpers their expansions call through `$crate::…`. The expanded
 * pass trusts code produced by expansions of exactly these names, so none
 * of them may name a user macro.
 */
export const STANDARD_MACROS: ReadonlySet<string> = new Set([
  'assert',
  'assert_eq',
  'assert_ne',
  'assert_matches',
  'debug_assert',
  'debug_assert_eq',
  'debug_assert_ne',
  'debug_assert_matches',
  'format',
  'format_args',
  'format_args_nl',
  'const_format_args',
  'write',
  'writeln',
  'print',
  'println',
  'eprint',
  'eprintln',
  'dbg',
  'panic',
  'panic_2015',
  'panic_2021',
  'unreachable',
  'unreachable_2015',
  'unreachable_2021',
  'todo',
  'unimplemented',
  'vec',
  'matches',
  'concat',
  'concat_bytes',
  'concat_idents',
  'stringify',
  'cfg',
  'cfg_select',
  'line',
  'column',
  'file',
  'module_path',
  'compile_error',
  'include',
  'include_str',
  'include_bytes',
  'env',
  'option_env',
  'asm',
  'global_asm',
  'naked_asm',
  'thread_local',
  'thread_local_inner',
  'thread_local_process_attrs',
  'is_x86_feature_detected',
  'is_aarch64_feature_detected',
  'addr_of',
  'addr_of_mut',
  'offset_of',
  'pin',
  'ready',
  'try',
  'trace_macros',
  'log_syntax',
  'type_ascribe',
  'deref',
  'hash_map',
  'autodiff',
]);

const DECLARING = new Set(['mod', 'fn', 'struct', 'enum', 'union', 'trait', 'type', 'const', 'static', 'as', 'crate']);

const STD_ROOTS = new Set(['std', 'core', 'alloc']);

const reservedCrateNames: RuleCheck = (scan, report) => {
  // `use std::{alloc, fmt}` imports std's own module under its own name.
  const stdLeaves = new Set(
    scan.uses
      .filter((l) => !l.glob && l.alias === undefined && l.path.length > 1 && STD_ROOTS.has(l.path[0]!))
      .map((l) => l.at),
  );
  scan.tokens.forEach((t, i) => {
    if (!scan.isName(i) || !RESERVED_CRATE_NAMES.has(t.value)) return;
    // A path segment (`std::x`, `x::alloc`), or a field or method after `.`.
    if (scan.isPunct(i + 1, '::') || scan.isPunct(i - 1, '::') || scan.isPunct(i - 1, '.') || stdLeaves.has(t)) return;
    const what = DECLARING.has(scan.at(i - 1)?.value ?? '') ? `declares \`${t.value}\`` : `binds \`${t.value}\``;
    report(
      'reserved-name',
      t,
      `${what}: \`${t.value}\` is a crate name the trust checker and the compiler must agree on; choose another name`,
    );
  });
};

const standardMacroNames: RuleCheck = (scan, report) => {
  scan.tokens.forEach((_, i) => {
    if (!scan.isKw(i, 'macro_rules') || !scan.isPunct(i + 1, '!')) return;
    const name = scan.at(i + 2);
    if (name === undefined) return;
    if (scan.isPunct(i + 2, '$')) {
      report('macro-splice', name, 'a `macro_rules!` whose name is a macro metavariable is only known after expansion');
    } else if (scan.isName(i + 2) && STANDARD_MACROS.has(name.value)) {
      report(
        'reserved-name',
        name,
        `a user macro named \`${name.value}\` would shadow the standard macro the trust checker takes \`${name.value}!\` to be; choose another name`,
      );
    }
  });
  for (const leaf of scan.uses) {
    const last = leaf.path[leaf.path.length - 1];
    const bound = leaf.alias ?? last;
    if (leaf.glob || bound === undefined || !STANDARD_MACROS.has(bound)) continue;
    const fromStd = leaf.alias === undefined && leaf.path.length > 1 && STD_ROOTS.has(leaf.path[0]!);
    if (!fromStd) {
      report(
        'reserved-name',
        leaf.at,
        `\`use\` binds the standard macro name \`${bound}\` to something else; import it under another name`,
      );
    }
  }
};

export const nameRules: readonly RuleCheck[] = [reservedCrateNames, standardMacroNames];
