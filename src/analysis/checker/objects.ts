/**
 * A conservative profile against the open coherence and projection holes of
 * rustc (docs/SOUNDNESS.md), decided by class rather than by reproducer:
 *
 * - rust#57893, #152783, #80800, #114389: a trait object's built-in impl
 *   overlaps a user impl that also covers the object type, so a projection
 *   `<dyn Tr<Out = A> as Tr>::Out` normalises to two different types: a
 *   safe transmute. Every one needs a `dyn` with an associated-type binding
 *   (written, or inherited from a supertrait), a `dyn` used as a type
 *   argument, alias or associated type, or an impl whose self type may be a
 *   trait object (a bare type parameter, a `dyn`, an alias, a projection).
 *   Each of those is a rule here, so each variant needs several to fail.
 * - rust#84366, #112905: closure types are considered `'static` while their
 *   return type is not, and an impl generic over `Fn*` projects that return
 *   type into an associated type. Impls that mention `Fn*` anywhere in their
 *   header or where clause are rejected (upstream's closure_trait_impl, and
 *   stricter: inherent impls too).
 * - rust#25860 and its relatives: higher-ranked binders written by hand
 *   (`for<'a>`) outside the plain `for<'a> Fn(&'a T) -> U` bound shape.
 */
import type { Token } from '../lexer.js';
import { angleDelta } from '../token-tree.js';
import type { Report, RuleCheck, Scan } from './scan.js';

const FN_TRAITS = new Set(['Fn', 'FnMut', 'FnOnce', 'AsyncFn', 'AsyncFnMut', 'AsyncFnOnce', 'FnPtr']);

/** `for<'a, …>`: a higher-ranked binder (as opposed to `for <T as X>::Y` or a `for` loop). */
function isBinder(scan: Scan, i: number): boolean {
  if (!scan.isKw(i, 'for') || !scan.isPunct(i + 1, '<')) return false;
  const end = scan.skipAngles(i + 1);
  for (let k = i + 2; k < end - 1; k++) {
    if (scan.at(k)!.kind !== 'lifetime' && !scan.isPunct(k, ',')) return false;
  }
  return true;
}

/** The index just past the type that starts at `i` after `dyn` (its `+`-separated bound list). */
function dynEnd(scan: Scan, start: number): number {
  let i = start;
  for (;;) {
    while (scan.isPunct(i, '?') || scan.isPunct(i, '~')) i++;
    if (isBinder(scan, i)) i = scan.skipAngles(i + 1);
    if (scan.isOpen(i, '(')) i = scan.after(i);
    else if (scan.at(i)?.kind === 'lifetime') i++;
    else {
      if (scan.isPunct(i, '::')) i++;
      while (scan.isName(i) || scan.isPunct(i, '$')) {
        i += scan.isPunct(i, '$') ? 2 : 1;
        if (scan.isPunct(i, '<')) i = scan.skipAngles(i);
        if (scan.isOpen(i, '(')) i = scan.after(i);
        if (!scan.isPunct(i, '::')) break;
        i++;
      }
    }
    if (!scan.isPunct(i, '+')) return i;
    i++;
  }
}

/** `=` inside [from, to): an associated-type (or const) binding, at any nesting. */
function bindingIn(scan: Scan, from: number, to: number): Token | undefined {
  for (let k = from; k < to; k++) if (scan.isPunct(k, '=')) return scan.at(k);
  return undefined;
}

const dynBindings: RuleCheck = (scan, report) => {
  scan.tokens.forEach((t, i) => {
    if (scan.isKw(i, 'dyn')) {
      const at = bindingIn(scan, i + 1, dynEnd(scan, i + 1));
      if (at) {
        report(
          'dyn-assoc-binding',
          t,
          'a trait object with an associated-type binding (`dyn Tr<Assoc = X>`) can make one projection normalise to two types (rust#57893, #80800); take a generic `T: Tr<Assoc = X>` instead',
        );
      }
      return;
    }
    if (!scan.isKw(i, 'trait')) return;
    // Supertrait bindings (`trait A: B<X = Y>`, `where Self: B<X = Y>`) give `dyn A` the same binding.
    let k = i + 1 + (scan.isPunct(i + 1, '$') ? 2 : 1);
    if (scan.isPunct(k, '<')) k = scan.skipAngles(k);
    const from = k;
    while (k < scan.tokens.length && !scan.isOpen(k, '{') && !scan.isPunct(k, ';')) k = scan.after(k);
    const at = bindingIn(scan, from, k);
    if (at) {
      report(
        'dyn-assoc-binding',
        at,
        'a supertrait with an associated-type binding gives every `dyn` of this trait that binding (rust#114389, #80800); move the bound onto the functions that need it',
      );
    }
  });
};

/**
 * What a `dyn` at `i` is an argument of: 'box' (`Box<dyn …>` in a type),
 * 'pointer' (behind `&`/`*const`/`*mut`), 'generic' (any other `<…>`
 * list, turbofish or qualified path), 'bound' (after `=`: alias, associated
 * type, default or binding), or 'other'.
 */
function dynPosition(scan: Scan, i: number): 'box' | 'pointer' | 'generic' | 'bound' | 'other' {
  let p = i - 1;
  while (scan.isOpen(p, '(')) p--;
  if (scan.isKw(p, 'mut') && (scan.isPunct(p - 1, '&') || scan.isPunct(p - 1, '&&') || scan.isPunct(p - 1, '*')))
    return 'pointer';
  if (scan.at(p)?.kind === 'lifetime' && (scan.isPunct(p - 1, '&') || scan.isPunct(p - 1, '&&'))) return 'pointer';
  if (scan.isPunct(p, '&') || scan.isPunct(p, '&&') || (scan.isKw(p, 'const') && scan.isPunct(p - 1, '*')))
    return 'pointer';
  if (scan.isPunct(p, '=')) return 'bound';
  if (!scan.isPunct(p, '<') && !scan.isPunct(p, '<<') && !scan.isPunct(p, ',')) return 'other';
  // Walk back to the unmatched `<` of the enclosing list, skipping whole groups.
  let balance = 0;
  for (let k = p; k >= 0; k--) {
    const t = scan.at(k)!;
    if (t.kind === 'close') {
      k = scan.match[k]!;
      continue;
    }
    if (t.kind === 'open' || scan.isPunct(k, ';')) return 'other';
    if (t.kind !== 'punct') continue;
    balance += angleDelta(t.text);
    if (balance > 0) {
      const owner = k - 1;
      const isBox = scan.isName(owner, 'Box') && t.text === '<';
      return isBox ? 'box' : 'generic';
    }
  }
  return 'other';
}

const dynArguments: RuleCheck = (scan, report) => {
  scan.tokens.forEach((t, i) => {
    if (!scan.isKw(i, 'dyn')) return;
    const where = dynPosition(scan, i);
    if (where === 'generic') {
      report(
        'dyn-generic-arg',
        t,
        'a trait object as a generic argument, turbofish or qualified-path self type is how the coherence holes rust#57893/#152783 are reached; only `Box<dyn …>` and `&dyn …` are accepted',
      );
    } else if (where === 'bound') {
      report(
        'dyn-generic-arg',
        t,
        'a trait object as a type alias, associated type, default or binding hides a `dyn` behind a name (rust#152783); write `Box<dyn …>` where it is used',
      );
    }
  });
};

interface Impl {
  at: Token;
  index: number;
  /** Type and lifetime parameter names declared by `impl<…>`. */
  params: Set<string>;
  /** The self type: [selfStart, selfEnd). */
  selfStart: number;
  selfEnd: number;
  /** From `impl` to the body (header and where clause). */
  headerEnd: number;
}

/** Tokens before which `impl` is a type (`-> impl Trait`, `x: impl Trait`), not an item. */
function implIsType(scan: Scan, i: number): boolean {
  const p = scan.at(i - 1);
  if (p === undefined) return false;
  if (p.kind === 'lifetime') return true;
  if (p.kind === 'punct') return ['->', ':', '&', '&&', '<', ',', '=', '+', '*', '|'].includes(p.text);
  if (p.kind === 'open') return p.text === '[' || p.text === '(';
  return scan.isKw(i - 1, 'mut') || scan.isKw(i - 1, 'dyn') || scan.isKw(i - 1, 'as');
}

/** Where each top-level parameter of a `<…>` list spanning [from, to) starts. */
function paramStarts(scan: Scan, from: number, to: number): number[] {
  const starts = [from];
  let depth = 0;
  for (let k = from; k < to; k = scan.after(k)) {
    const t = scan.at(k)!;
    if (t.kind !== 'punct') continue;
    depth += angleDelta(t.text);
    if (depth === 0 && t.text === ',') starts.push(k + 1);
  }
  return starts;
}

function impls(scan: Scan): Impl[] {
  const out: Impl[] = [];
  scan.tokens.forEach((t, i) => {
    if (!scan.isKw(i, 'impl') || implIsType(scan, i)) return;
    const params = new Set<string>();
    let k = i + 1;
    if (scan.isPunct(k, '<')) {
      const end = scan.skipAngles(k);
      for (const a of paramStarts(scan, k + 1, end - 1)) {
        let n = a;
        if (scan.isKw(n, 'const')) n++;
        if (scan.isName(n)) params.add(scan.at(n)!.value);
      }
      k = end;
    }
    if (scan.isPunct(k, '!')) k++;
    let selfStart = k;
    let depth = 0;
    while (k < scan.tokens.length) {
      const tok = scan.at(k)!;
      if (depth === 0 && (tok.kind === 'close' || scan.isOpen(k, '{') || scan.isKw(k, 'where') || scan.isPunct(k, ';')))
        break;
      if (depth === 0 && scan.isKw(k, 'for') && !isBinder(scan, k)) selfStart = k + 1;
      if (tok.kind === 'punct') depth += angleDelta(tok.text);
      k = scan.after(k);
    }
    const selfEnd = k;
    while (k < scan.tokens.length && !scan.isOpen(k, '{') && !scan.isPunct(k, ';') && scan.at(k)!.kind !== 'close')
      k = scan.after(k);
    out.push({ at: t, index: i, params, selfStart, selfEnd, headerEnd: k });
  });
  return out;
}

/** Names declared by `type Name` anywhere (aliases and associated types). */
function typeAliases(scan: Scan): Set<string> {
  const names = new Set<string>();
  scan.tokens.forEach((_, i) => {
    if (scan.isKw(i, 'type') && scan.isName(i + 1)) names.add(scan.at(i + 1)!.value);
  });
  // `use …::Alias as Other` names the same alias.
  for (const leaf of scan.uses) {
    const last = leaf.path[leaf.path.length - 1];
    if (leaf.alias !== undefined && last !== undefined && names.has(last)) names.add(leaf.alias);
  }
  return names;
}

function checkSelfType(scan: Scan, h: Impl, aliases: Set<string>, report: Report): void {
  let s = h.selfStart;
  while (scan.isOpen(s, '(') && scan.match[s] === h.selfEnd - 1) s++;
  const first = scan.at(s);
  if (first === undefined || s >= h.selfEnd) return;
  if (scan.isKw(s, 'dyn')) {
    report(
      'dyn-impl',
      h.at,
      "an impl for a trait object overlaps the object's built-in impl (rust#57893, #152783); implement the trait for the concrete types instead",
    );
    return;
  }
  if (scan.isPunct(s, '<') || scan.isPunct(s, '<<')) {
    report(
      'blanket-impl',
      h.at,
      'an impl whose self type is a projection (`<X as Tr>::Assoc`) may name a trait object (rust#152783); implement for the concrete type',
    );
    return;
  }
  if (!scan.isName(s)) return;
  const name = first.value;
  const bare = s + 1 === h.selfEnd || scan.isPunct(s + 1, '::');
  if (h.params.has(name) && bare) {
    report(
      'blanket-impl',
      h.at,
      `an impl for every type \`${name}\` (a blanket impl) also covers trait objects and closures, the overlap behind rust#57893 and #84366; implement the trait for each concrete type`,
    );
  } else if (name === 'Self' || (bare && aliases.has(name))) {
    report(
      'blanket-impl',
      h.at,
      `an impl for the type alias \`${name}\` hides what it implements for (rust#152783); implement for the aliased type`,
    );
  }
}

const implShapes: RuleCheck = (scan, report) => {
  const aliases = typeAliases(scan);
  for (const h of impls(scan)) {
    checkSelfType(scan, h, aliases, report);
    for (let k = h.index + 1; k < h.headerEnd; k++) {
      if (scan.isName(k) && FN_TRAITS.has(scan.at(k)!.value)) {
        report(
          'fn-trait-impl',
          scan.at(k)!,
          `an impl generic over \`${scan.at(k)!.value}\` can project a closure's borrowed return type as \`'static\` (rust#84366); use a named struct with a method instead`,
        );
        break;
      }
    }
  }
};

/**
 * `for<'a>` binders. The only accepted shape is a bound `for<'a> Fn*(…)`
 * whose signature names no `'static` and nests no references (`&'a &'b`),
 * the ingredients of every implied-bounds exploit (rust#25860, #114936).
 */
const higherRanked: RuleCheck = (scan, report) => {
  scan.tokens.forEach((t, i) => {
    if (!isBinder(scan, i)) return;
    const after = scan.skipAngles(i + 1);
    if (scan.isName(after) && FN_TRAITS.has(scan.at(after)!.value) && scan.isOpen(after + 1, '(')) {
      let end = scan.after(after + 1);
      if (scan.isPunct(end, '->')) {
        end++;
        let depth = 0;
        while (end < scan.tokens.length) {
          const tok = scan.at(end)!;
          if (
            depth === 0 &&
            (scan.isPunct(end, ',') ||
              scan.isPunct(end, '+') ||
              scan.isOpen(end, '{') ||
              tok.kind === 'close' ||
              scan.isKw(end, 'where'))
          )
            break;
          if (tok.kind === 'punct') {
            depth += angleDelta(tok.text);
            if (depth < 0) break;
          }
          end = scan.after(end);
        }
      }
      if (!implicitBoundTricks(scan, after, end)) return;
    }
    report(
      'higher-ranked',
      t,
      "higher-ranked binders (`for<'a>`) other than a plain `for<'a> Fn(…)` bound are the lifetime-expansion route of rust#25860; let the compiler elide the lifetimes",
    );
  });
};

/** `'static` or a reference to a reference in [from, to), at any depth. */
function implicitBoundTricks(scan: Scan, from: number, to: number): boolean {
  for (let k = from; k < to; k++) {
    const t = scan.at(k)!;
    if (t.kind === 'lifetime' && t.value === 'static') return true;
    if (scan.isPunct(k, '&&')) return true;
    if (scan.isPunct(k, '&')) {
      let n = k + 1;
      if (scan.at(n)?.kind === 'lifetime') n++;
      if (scan.isKw(n, 'mut')) n++;
      if (scan.isPunct(n, '&') || scan.isPunct(n, '&&')) return true;
    }
  }
  return false;
}

/** Where the `+`-separated bound list that contains token `i` starts: just after its `dyn`/`impl`, `:` or `<`. */
function boundOwner(scan: Scan, i: number): 'dyn' | 'impl' | 'bound' {
  let k = i - 1;
  let depth = 0;
  for (; k >= 0; k--) {
    const t = scan.at(k)!;
    if (t.kind === 'close') {
      k = scan.match[k]!;
      continue;
    }
    if (t.kind === 'open') break;
    if (t.kind === 'punct') {
      depth -= angleDelta(t.text);
      if (depth < 0) break;
      if (depth === 0 && (t.text === ':' || t.text === ',' || t.text === ';' || t.text === '=' || t.text === '->'))
        break;
    }
    if (depth === 0 && (scan.isKw(k, 'dyn') || scan.isKw(k, 'impl'))) return scan.at(k)!.value as 'dyn' | 'impl';
  }
  return 'bound';
}

/**
 * Outlives bounds on type parameters, where clauses, supertraits and
 * associated types (`T: 'static`, `I: Iterator + 'a`, `'b: 'static`), and
 * `Any` bounds (`Any: 'static`). rust#84366 makes a closure type `'static`
 * while its return type borrows; with `I: 'static` in scope the compiler
 * concludes that every projection of I (`I::Item`, fed by the closure
 * through std's own `FromFn` or `Map`) is `'static` too, and a borrowed
 * `&str` leaves as a `Box<dyn Display>`. Without such a bound a generic
 * function cannot conclude it; concrete types are checked as they are.
 * Bounds of trait objects (`dyn Error + 'static`) and of `impl Trait`
 * types cannot be named as projections and stay allowed.
 */
const outlivesBounds: RuleCheck = (scan, report) => {
  // `$lt:lifetime` metavariables: used as a bound, they are an outlives bound known only after expansion.
  const lifetimeVars = new Set<string>();
  scan.tokens.forEach((t, i) => {
    if (scan.isMetavar(i) && scan.isPunct(i + 1, ':') && scan.isName(i + 2, 'lifetime')) lifetimeVars.add(t.value);
  });
  scan.tokens.forEach((_, i) => {
    if (
      (scan.isPunct(i, ':') || scan.isPunct(i, '+')) &&
      scan.isPunct(i + 1, '$') &&
      scan.isMetavar(i + 2) &&
      lifetimeVars.has(scan.at(i + 2)!.value) &&
      !scan.isName(i + 3, 'lifetime')
    ) {
      report(
        'macro-splice',
        scan.at(i + 1)!,
        'a lifetime metavariable used as a bound is an outlives bound known only after expansion',
      );
    }
  });
  scan.tokens.forEach((t, i) => {
    const lifetimeBound = t.kind === 'lifetime' && (scan.isPunct(i - 1, ':') || scan.isPunct(i - 1, '+'));
    const anyBound = scan.isName(i, 'Any') && !scan.isPunct(i + 1, '::') && inBoundList(scan, i);
    if ((!lifetimeBound && !anyBound) || boundOwner(scan, i) !== 'bound') return;
    report(
      'outlives-bound',
      t,
      lifetimeBound
        ? `an outlives bound (\`: ${t.text}\`) on a generic type lets the compiler assume its projections outlive it too, which closures break (rust#84366); keep the data owned, or use a concrete type`
        : "`Any` requires `'static` of a generic type, and with it of its projections, which closures break (rust#84366); use a concrete type",
    );
  });
};

/** Is the path ending at `i` a bound (after `:` or `+`, possibly qualified), rather than an expression or type? */
function inBoundList(scan: Scan, i: number): boolean {
  let k = i;
  while (scan.isPunct(k - 1, '::') && scan.isName(k - 2)) k -= 2;
  if (scan.isPunct(k - 1, '::')) k--;
  return scan.isPunct(k - 1, ':') || scan.isPunct(k - 1, '+');
}

/** Names declared as type parameters anywhere (`<T, U: X>` of fns, impls and types), plus `Self`. */
function typeParams(scan: Scan): Set<string> {
  const names = new Set<string>(['Self']);
  scan.tokens.forEach((_, i) => {
    const declares =
      scan.isKw(i, 'impl') ||
      (['fn', 'struct', 'enum', 'union', 'trait', 'type'].some((kw) => scan.isKw(i - 1, kw)) && scan.isName(i));
    const open = i + 1;
    if (!declares || !scan.isPunct(open, '<')) return;
    const end = scan.skipAngles(open);
    for (const a of paramStarts(scan, open + 1, end - 1)) if (scan.isName(a)) names.add(scan.at(a)!.value);
  });
  return names;
}

/** A type projection starting at `k`: `T::Name` (not a call or a longer path) or `<X as Tr>::Name`. */
function projectionAt(scan: Scan, k: number, params: Set<string>): boolean {
  if (scan.isName(k) && params.has(scan.at(k)!.value) && !scan.isPunct(k - 1, '::')) {
    return (
      scan.isPunct(k + 1, '::') &&
      scan.isName(k + 2) &&
      !scan.isOpen(k + 3, '(') &&
      !scan.isPunct(k + 3, '::') &&
      !scan.isPunct(k + 3, '!')
    );
  }
  if (scan.isPunct(k, '<') && !scan.isName(k - 1) && !scan.isPunct(k - 1, '::')) {
    const end = scan.skipAngles(k);
    let hasAs = false;
    for (let j = k + 1; j < end - 1; j = scan.after(j)) if (scan.isKw(j, 'as')) hasAs = true;
    return hasAs && scan.isPunct(end, '::');
  }
  return false;
}

/**
 * Projections of generic types where a value comes in: fn parameters,
 * struct and enum fields, and the bounds of other parameters
 * (`X: Into<I::Item>`). The std-only form of rust#84366 needs exactly
 * that: a generic callee in which `I: 'x` holds (from any signature that
 * mentions `&'x I`, even a `PhantomData`) receives a borrowed value typed
 * `I::Item` and concludes it outlives 'x. Projections in return types and
 * as the subject of a where clause (`where I::Item: Debug`) stay allowed.
 */
const projectionInputs: RuleCheck = (scan, report) => {
  const params = typeParams(scan);
  const flag = (from: number, to: number): void => {
    for (let k = from; k < to; k++) {
      if (!projectionAt(scan, k, params)) continue;
      report(
        'projection-input',
        scan.at(k)!,
        'a value typed as a projection of a generic type (`I::Item`) can carry a borrow past its lifetime when I is a closure-driven type (rust#84366); take a plain type parameter, or return the projection instead',
      );
      return;
    }
  };
  // Trait and impl bodies: their methods' return types count as inputs of the caller (rust#84366 through
  // `trait Make<I> { fn make(self) -> I::Item }`, implemented for a plain `&'a str`).
  const bodies: Array<[number, number]> = [];
  for (const h of impls(scan)) if (scan.isOpen(h.headerEnd, '{')) bodies.push([h.headerEnd, scan.match[h.headerEnd]!]);
  scan.tokens.forEach((_, i) => {
    if (!scan.isKw(i, 'trait')) return;
    let k = i + 1;
    while (k < scan.tokens.length && !scan.isOpen(k, '{') && !scan.isPunct(k, ';')) k = scan.after(k);
    if (scan.isOpen(k, '{')) bodies.push([k, scan.match[k]!]);
  });
  const inBody = (i: number): boolean => bodies.some(([a, b]) => a < i && i < b);
  const withoutSelf = new Set([...params].filter((p) => p !== 'Self'));
  scan.tokens.forEach((_, i) => {
    // fn NAME<…>(params) [-> return type, for methods of traits and impls]
    if (scan.isKw(i, 'fn') && scan.isName(i + 1)) {
      let k = i + 2;
      if (scan.isPunct(k, '<')) k = scan.skipAngles(k);
      if (!scan.isOpen(k, '(')) return;
      flag(k + 1, scan.match[k]!);
      k = scan.match[k]! + 1;
      if (scan.isPunct(k, '->') && inBody(i)) {
        let end = k + 1;
        while (
          end < scan.tokens.length &&
          !scan.isOpen(end, '{') &&
          !scan.isPunct(end, ';') &&
          !scan.isKw(end, 'where')
        )
          end = scan.after(end);
        for (let j = k + 1; j < end; j++) {
          if (!projectionAt(scan, j, withoutSelf)) continue;
          report(
            'projection-input',
            scan.at(j)!,
            'a trait or impl method returning a projection of a generic parameter (`I::Item`) lets a caller turn a borrowed value into that projection (rust#84366); return a plain type parameter',
          );
          break;
        }
      }
    }
    // struct/enum/union NAME<…> { fields } or ( fields )
    if (['struct', 'enum', 'union'].some((kw) => scan.isKw(i, kw)) && scan.isName(i + 1)) {
      let k = i + 2;
      if (scan.isPunct(k, '<')) k = scan.skipAngles(k);
      while (k < scan.tokens.length && !scan.isOpen(k) && !scan.isPunct(k, ';')) k = scan.after(k);
      if (scan.isOpen(k)) flag(k + 1, scan.match[k]!);
    }
    // The bounds (after `:`) of generic parameters and where-clause predicates.
    if (scan.isPunct(i, ':') && !scan.isPunct(i - 1, ':') && inBoundContext(scan, i)) {
      let k = i + 1;
      let depth = 0;
      while (k < scan.tokens.length) {
        const t = scan.at(k)!;
        if (t.kind === 'close' || scan.isOpen(k, '{') || scan.isPunct(k, ';')) break;
        if (t.kind === 'punct') {
          depth += angleDelta(t.text);
          if (depth < 0 || (depth === 0 && t.text === ',')) break;
        }
        k = scan.after(k);
      }
      flag(i + 1, k);
    }
  });
};

/** Is the `:` at `i` the start of a bound list (in `<…>` generics or a where clause), not a field or binding type? */
function inBoundContext(scan: Scan, i: number): boolean {
  let depth = 0;
  for (let k = i - 1; k >= 0; k--) {
    const t = scan.at(k)!;
    if (t.kind === 'close') {
      k = scan.match[k]!;
      continue;
    }
    if (t.kind === 'open' || scan.isPunct(k, ';')) return false;
    if (scan.isKw(k, 'where') && depth === 0) return true;
    if (t.kind === 'punct') {
      depth -= angleDelta(t.text);
      if (depth < 0) {
        const owner = k - 1;
        return scan.isKw(owner, 'impl') || (scan.isName(owner) && DECL_BEFORE.some((kw) => scan.isKw(owner - 1, kw)));
      }
    }
  }
  return false;
}

const DECL_BEFORE = ['fn', 'struct', 'enum', 'union', 'trait', 'type'];

export const objectRules: readonly RuleCheck[] = [
  dynBindings,
  dynArguments,
  implShapes,
  higherRanked,
  outlivesBounds,
  projectionInputs,
];
