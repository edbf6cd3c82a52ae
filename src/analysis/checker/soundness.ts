/**
 * Patterns of safe Rust with known soundness holes, rejected the way upstream
 * PL/Rust's lints do, but on tokens:
 *
 * - fn-pointer types and `dyn Fn*` objects: subtyping of higher-ranked
 *   function types is the lifetime-expansion route of rust#25860 (`cve-rs`).
 *   `impl Fn…` and generic `F: Fn…` bounds are accepted: they are
 *   monomorphised, never coerced through the higher-ranked subtyping that
 *   the exploit needs, and iterator code depends on them. A trait with an Fn*
 *   supertrait is rejected, since `dyn ThatTrait` is a `dyn Fn*` in disguise.
 * - traits with lifetime parameters and impls whose header names `&'static`
 *   (implied-bounds holes).
 * - explicit impls of auto traits: they assert thread- or unwind-safety the
 *   compiler cannot check.
 *
 * Renaming one of these traits through `use … as` is reported where it is
 * renamed, so later uses under the new name need no tracking.
 */
import type { Scan, Report, RuleCheck } from './scan.js';
import { angleDelta } from '../token-tree.js';
import type { Token } from '../lexer.js';

const FN_TRAITS = new Set(['Fn', 'FnMut', 'FnOnce', 'AsyncFn', 'AsyncFnMut', 'AsyncFnOnce']);
const AUTO_TRAITS = new Set(['Send', 'Sync', 'Unpin', 'UnwindSafe', 'RefUnwindSafe', 'Freeze']);

/** `for<'a, 'b>`: a higher-ranked binder (as opposed to `for <T as X>::Y`). */
function isBinder(scan: Scan, i: number): boolean {
  if (!scan.isKw(i, 'for') || !scan.isPunct(i + 1, '<')) return false;
  const end = scan.skipAngles(i + 1);
  for (let k = i + 2; k < end - 1; k++) {
    const t = scan.at(k)!;
    if (t.kind !== 'lifetime' && !scan.isPunct(k, ',')) return false;
  }
  return true;
}

interface Bounds {
  /** The last path segment of every trait in the list. */
  traits: Token[];
  /** A metavariable standing for a bound, if any. */
  splice: Token | undefined;
}

/** Parse a `+`-separated bound list starting at `i` (after `dyn`, or after a trait's `:`). */
function boundList(scan: Scan, start: number, out: Bounds = { traits: [], splice: undefined }): Bounds {
  let i = start;
  for (;;) {
    while (scan.isPunct(i, '?') || scan.isPunct(i, '~') || scan.isKw(i, 'const')) i++;
    if (isBinder(scan, i)) i = scan.skipAngles(i + 1);
    if (scan.isOpen(i, '(')) {
      boundList(scan, i + 1, out);
      i = scan.match[i]! + 1;
    } else if (scan.at(i)?.kind === 'lifetime') {
      i++;
    } else {
      let last: Token | undefined;
      if (scan.isPunct(i, '::')) i++;
      for (;;) {
        if (scan.isPunct(i, '$') && scan.at(i + 1)?.value !== 'crate') {
          out.splice ??= scan.at(i)!;
          i += 2;
        } else if (scan.isPunct(i, '$') || scan.isName(i)) {
          i += scan.isPunct(i, '$') ? 2 : 1;
          last = scan.at(i - 1);
        } else {
          break;
        }
        if (scan.isPunct(i, '<')) i = scan.skipAngles(i);
        if (!scan.isPunct(i, '::')) break;
        i++;
      }
      if (last === undefined) return out;
      out.traits.push(last);
      if (scan.isOpen(i, '(')) {
        i = scan.match[i]! + 1;
        if (scan.isPunct(i, '->')) return out;
      }
    }
    if (!scan.isPunct(i, '+')) return out;
    i++;
  }
}

function renamedTraits(
  scan: Scan,
  report: Report,
  names: ReadonlySet<string>,
  rule: 'dyn-fn-trait' | 'auto-trait-impl',
): void {
  for (const leaf of scan.uses) {
    const original = leaf.path[leaf.path.length - 1];
    if (leaf.glob || leaf.alias === undefined || leaf.alias === '_' || original === undefined || !names.has(original))
      continue;
    report(
      rule,
      leaf.at,
      `\`use … ${original} as ${leaf.alias}\` renames \`${original}\`, hiding it from the trust checker`,
    );
  }
}

const fnPointers: RuleCheck = (scan, report) => {
  scan.tokens.forEach((t, i) => {
    if (scan.isKw(i, 'fn') && scan.isOpen(i + 1, '(')) {
      report(
        'fn-pointer-type',
        t,
        'fn-pointer types allow lifetime expansion through higher-ranked subtyping (rust#25860); call the function directly or take a generic `impl Fn…`',
      );
    }
  });
};

const dynFn: RuleCheck = (scan, report) => {
  scan.tokens.forEach((t, i) => {
    if (scan.isKw(i, 'dyn')) {
      const bounds = boundList(scan, i + 1);
      if (bounds.splice)
        report('macro-splice', bounds.splice, 'a `dyn` bound from a macro metavariable is only known after expansion');
      const fn = bounds.traits.find((b) => FN_TRAITS.has(b.value));
      if (fn)
        report(
          'dyn-fn-trait',
          t,
          `\`dyn ${fn.value}\` trait objects allow lifetime expansion (rust#25860); use a generic \`impl ${fn.value}(…)\` parameter instead`,
        );
      return;
    }
    if (scan.isKw(i, 'trait')) {
      let k = i + 1 + (scan.isPunct(i + 1, '$') ? 2 : 1);
      if (scan.isPunct(k, '<')) k = scan.skipAngles(k);
      if (!scan.isPunct(k, ':')) return;
      const fn = boundList(scan, k + 1).traits.find((b) => FN_TRAITS.has(b.value));
      if (fn)
        report(
          'dyn-fn-trait',
          fn,
          `a trait with the supertrait \`${fn.value}\` makes its trait objects \`dyn ${fn.value}\` objects in disguise`,
        );
    }
  });
  renamedTraits(scan, report, FN_TRAITS, 'dyn-fn-trait');
};

const lifetimeTraits: RuleCheck = (scan, report) => {
  scan.tokens.forEach((_, i) => {
    if (!scan.isKw(i, 'trait')) return;
    const open = i + 1 + (scan.isPunct(i + 1, '$') ? 2 : 1);
    if (!scan.isPunct(open, '<')) return;
    const end = scan.skipAngles(open);
    let depth = 1;
    for (let k = open + 1; k < end - 1; k = scan.after(k)) {
      const t = scan.at(k)!;
      if (scan.isPunct(k, '$'))
        report('macro-splice', t, 'trait generics from a macro metavariable are only known after expansion');
      if (depth === 1 && t.kind === 'lifetime' && (k === open + 1 || scan.isPunct(k - 1, ','))) {
        report(
          'lifetime-trait',
          t,
          `traits with lifetime parameters (\`${t.text}\`) are an implied-bounds soundness hole; use an owned type or a generic type parameter`,
        );
      }
      if (t.kind === 'punct') depth += angleDelta(t.text);
    }
  });
};

/** Tokens before which `impl` is a type (`-> impl Trait`, `x: impl Trait`), not an item. */
function implIsType(scan: Scan, i: number): boolean {
  const p = scan.at(i - 1);
  if (p === undefined) return false;
  if (p.kind === 'lifetime') return true;
  if (p.kind === 'punct') return ['->', ':', '&', '&&', '<', ',', '=', '+', '*', '|'].includes(p.text);
  if (p.kind === 'open') return p.text === '[';
  return scan.isKw(i - 1, 'mut') || scan.isKw(i - 1, 'dyn') || scan.isKw(i - 1, 'as');
}

interface ImplHeader {
  at: Token;
  start: number;
  end: number;
  /** Index of the `for` of a trait impl. */
  forAt: number | undefined;
}

/** The header of every `impl` item: from `impl` to its body, `where` or `;`. */
function implHeaders(scan: Scan): ImplHeader[] {
  const headers: ImplHeader[] = [];
  scan.tokens.forEach((t, i) => {
    if (!scan.isKw(i, 'impl') || implIsType(scan, i)) return;
    let depth = 0;
    let k = i + 1;
    let forAt: number | undefined;
    while (k < scan.tokens.length) {
      const tok = scan.at(k)!;
      if (
        depth === 0 &&
        (tok.kind === 'close' ||
          scan.isOpen(k, '{') ||
          scan.isKw(k, 'where') ||
          scan.isPunct(k, ';') ||
          scan.isPunct(k, ','))
      )
        break;
      if (scan.isKw(k, 'for') && depth === 0 && !isBinder(scan, k)) forAt ??= k;
      if (tok.kind === 'punct') {
        depth += angleDelta(tok.text);
        if (depth < 0) break;
      }
      k = scan.after(k);
    }
    if (forAt !== undefined || scan.isOpen(k, '{') || scan.isKw(k, 'where'))
      headers.push({ at: t, start: i + 1, end: k, forAt });
  });
  return headers;
}

/** Type aliases whose definition mentions `'static`, directly or through another such alias. */
function staticAliases(scan: Scan): Set<string> {
  const decls: Array<{ name: string; from: number; to: number }> = [];
  scan.tokens.forEach((_, i) => {
    if (!scan.isKw(i, 'type') || !scan.isName(i + 1)) return;
    let k = i + 2;
    while (k < scan.tokens.length && !scan.isPunct(k, ';')) k = scan.after(k);
    decls.push({ name: scan.at(i + 1)!.value, from: i + 2, to: k });
  });
  const found = new Set<string>();
  for (let changed = true; changed;) {
    changed = false;
    for (const d of decls) {
      if (found.has(d.name)) continue;
      for (let k = d.from; k < d.to; k++) {
        const t = scan.at(k)!;
        if ((t.kind === 'lifetime' && t.value === 'static') || (scan.isName(k) && found.has(t.value))) {
          found.add(d.name);
          changed = true;
          break;
        }
      }
    }
  }
  return found;
}

const implRules: RuleCheck = (scan, report) => {
  const aliases = staticAliases(scan);
  for (const h of implHeaders(scan)) {
    for (let k = h.start; k < h.end; k++) {
      const t = scan.at(k)!;
      if (scan.isPunct(k, '$')) {
        report('macro-splice', t, 'an impl header built from a macro metavariable is only known after expansion');
        break;
      }
      if (
        (scan.isPunct(k, '&') || scan.isPunct(k, '&&')) &&
        scan.at(k + 1)?.kind === 'lifetime' &&
        scan.at(k + 1)!.value === 'static'
      ) {
        report(
          'static-ref-impl',
          t,
          "an impl for a type containing `&'static` is an implied-bounds soundness hole; implement for an owned type or a generic lifetime",
        );
      } else if (scan.isName(k) && aliases.has(t.value)) {
        report(
          'static-ref-impl',
          t,
          `\`${t.value}\` is a type alias containing \`'static\`; impls for it are an implied-bounds soundness hole`,
        );
      }
    }
    if (h.forAt === undefined) continue;
    let traitStart = h.start;
    if (scan.isPunct(traitStart, '<')) traitStart = scan.skipAngles(traitStart);
    let last: Token | undefined;
    let depth = 0;
    for (let k = traitStart; k < h.forAt; k = scan.after(k)) {
      const t = scan.at(k)!;
      if (t.kind === 'punct') depth += angleDelta(t.text);
      else if (depth === 0 && scan.isName(k)) last = t;
    }
    if (last && AUTO_TRAITS.has(last.value)) {
      report(
        'auto-trait-impl',
        h.at,
        `implementing the auto trait \`${last.value}\` by hand asserts a safety property the compiler cannot check`,
      );
    }
  }
  renamedTraits(scan, report, AUTO_TRAITS, 'auto-trait-impl');
};

export const soundnessRules: readonly RuleCheck[] = [fnPointers, dynFn, lifetimeTraits, implRules];
