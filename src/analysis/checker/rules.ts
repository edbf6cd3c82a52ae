/**
 * The trust checker's rule ids. Ids are stable: they appear in diagnostics,
 * in `--json` output, in artifact metadata ("rules applied") and in the
 * `// expect:` lines of the escape corpus. Adding a rule or changing what one
 * accepts bumps CHECKER_VERSION, which invalidates cached artifacts.
 */
export const CHECKER_VERSION = '2';

export type RuleId =
  // the source would escape the generated wrapper
  | 'lex-error'
  | 'unbalanced-delimiters'
  | 'shebang'
  // compile-time file/environment access and foreign code
  | 'forbidden-macro'
  | 'macro-splice'
  | 'extern-block'
  | 'extern-crate'
  | 'extern-fn'
  | 'path-attribute'
  | 'out-of-line-module'
  | 'forbidden-attribute'
  // names the checker and rustc must agree on
  | 'reserved-name'
  // known-unsound patterns of safe Rust
  | 'fn-pointer-type'
  | 'dyn-fn-trait'
  | 'lifetime-trait'
  | 'static-ref-impl'
  | 'auto-trait-impl'
  | 'dyn-assoc-binding'
  | 'dyn-generic-arg'
  | 'dyn-impl'
  | 'blanket-impl'
  | 'fn-trait-impl'
  | 'higher-ranked'
  | 'outlives-bound'
  | 'projection-input'
  | 'mem-forget'
  | 'leak'
  // OS reach and backend stability
  | 'stdio-macro'
  | 'stdio'
  | 'panic-hook'
  | 'async'
  | 'unsafe'
  | 'const-fn'
  | 'uninstrumentable';

export interface RuleInfo {
  id: RuleId;
  summary: string;
}

export const RULES: readonly RuleInfo[] = [
  {
    id: 'lex-error',
    summary: 'the source does not tokenize as Rust (unterminated string/comment, reserved prefix, unknown character)',
  },
  {
    id: 'unbalanced-delimiters',
    summary: 'a stray, mismatched or unclosed (), [] or {} would close or break the generated wrapper',
  },
  { id: 'shebang', summary: 'a leading `#!` line: it is not a shebang once the code is pasted into the wrapper' },
  {
    id: 'forbidden-macro',
    summary:
      'include!/include_str!/include_bytes!/env!/option_env!/asm!/global_asm!/naked_asm!, however qualified or renamed',
  },
  {
    id: 'macro-splice',
    summary:
      'a macro_rules metavariable used where the checker must see the name: macro calls, attributes, use trees, impl and trait headers, dyn bounds',
  },
  { id: 'extern-block', summary: '`extern { … }` blocks declare foreign functions' },
  { id: 'extern-crate', summary: '`extern crate` links another crate' },
  { id: 'extern-fn', summary: '`extern "ABI" fn`: foreign ABI functions abort the process on panic' },
  { id: 'path-attribute', summary: '`#[path]` makes rustc read an arbitrary file' },
  { id: 'out-of-line-module', summary: '`mod x;` makes rustc read a file' },
  {
    id: 'forbidden-attribute',
    summary:
      'attributes outside the allowlist (no_mangle, export_name, link*, used, unsafe(…), feature, global_allocator, …)',
  },
  {
    id: 'reserved-name',
    summary:
      "items, modules, bindings or imports named std/core/alloc/proc_macro/pgrx/plrust_rt/plrust_fn, and macros or imports that take a standard macro's name",
  },
  { id: 'fn-pointer-type', summary: 'fn-pointer types (`fn(…)`), the cve-rs lifetime-expansion vector' },
  {
    id: 'dyn-fn-trait',
    summary: '`dyn Fn`/`FnMut`/`FnOnce` (and async variants) trait objects and traits with Fn* supertraits',
  },
  { id: 'lifetime-trait', summary: 'traits with lifetime parameters' },
  { id: 'static-ref-impl', summary: "impl blocks whose header contains `&'static` (directly or through a type alias)" },
  {
    id: 'auto-trait-impl',
    summary: 'explicit impls of Send, Sync, Unpin, UnwindSafe, RefUnwindSafe (also negative impls)',
  },
  {
    id: 'dyn-assoc-binding',
    summary: 'trait objects with associated-type bindings (`dyn Tr<A = X>`), and supertraits that bind one',
  },
  {
    id: 'dyn-generic-arg',
    summary:
      'trait objects as generic arguments, turbofish, qualified-path self types, aliases, associated types or defaults (only `Box<dyn …>` and `&dyn …`)',
  },
  { id: 'dyn-impl', summary: 'impls whose self type is a trait object' },
  {
    id: 'blanket-impl',
    summary: 'impls whose self type is a bare type parameter, a projection, `Self` or a type alias',
  },
  { id: 'fn-trait-impl', summary: 'impls that mention `Fn`/`FnMut`/`FnOnce` in their header or where clause' },
  {
    id: 'higher-ranked',
    summary: "`for<'a>` binders, except a plain `for<'a> Fn(…)` bound without `'static` or nested references",
  },
  {
    id: 'outlives-bound',
    summary:
      "outlives bounds (`T: 'static`, `I: Iterator + 'a`, `'b: 'static`) and `Any` bounds on generic parameters, where clauses, supertraits and associated types",
  },
  {
    id: 'projection-input',
    summary:
      'projections of generic types (`I::Item`, `Self::A`, `<T as Tr>::A`) in fn parameters, struct/enum fields and the bounds of other parameters',
  },
  { id: 'mem-forget', summary: '`mem::forget` (qualified, imported or glob-imported)' },
  { id: 'leak', summary: '`Box::leak`, `Vec::leak`, `String::leak` and any `.leak()` call' },
  { id: 'stdio-macro', summary: 'print!/println!/eprint!/eprintln!/dbg!, however qualified or renamed' },
  { id: 'stdio', summary: '`io::stdin`/`stdout`/`stderr` (qualified or imported)' },
  {
    id: 'panic-hook',
    summary: 'std::panic::set_hook/take_hook/update_hook: process-global, and a panicking hook aborts the backend',
  },
  { id: 'async', summary: '`async` and `.await`' },
  { id: 'unsafe', summary: 'the `unsafe` keyword anywhere' },
  { id: 'const-fn', summary: '`const fn`: it cannot carry the runaway-loop checkpoint but can run at run time' },
  {
    id: 'uninstrumentable',
    summary:
      'code the runaway-loop checkpoint cannot be attached to: loop/fn bodies from macro metavariables, and loops, fns or closure bars handed to a user-defined macro',
  },
];
