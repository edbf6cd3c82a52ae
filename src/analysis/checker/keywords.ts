/**
 * Keywords rejected wherever they appear as keywords (raw identifiers such
 * as `r#async` are names, not keywords, and pass). `unsafe` is also
 * forbidden by rustc through `forbid(unsafe_code)` on the user module; this
 * is the first of the two layers.
 */
import type { RuleCheck } from './scan.js';

const unsafeKw: RuleCheck = (scan, report) => {
  scan.tokens.forEach((t, i) => {
    if (scan.isKw(i, 'unsafe')) report('unsafe', t, '`unsafe` code is not allowed in a trusted function');
  });
};

const asyncKw: RuleCheck = (scan, report) => {
  scan.tokens.forEach((t, i) => {
    if (scan.isKw(i, 'async'))
      report('async', t, '`async` is not supported: functions run synchronously inside the backend');
    else if (scan.isKw(i, 'await'))
      report('async', t, '`.await` is not supported: functions run synchronously inside the backend');
  });
};

const FN_QUALIFIERS = new Set(['unsafe', 'async', 'extern', 'safe']);

/**
 * A `const fn` may run at run time, but a const fn body cannot call the
 * runaway-loop checkpoint, so a loop or recursion inside one would escape
 * statement_timeout.
 */
const constFn: RuleCheck = (scan, report) => {
  scan.tokens.forEach((t, i) => {
    if (!scan.isKw(i, 'const')) return;
    let k = i + 1;
    while (
      k < scan.tokens.length &&
      ((scan.at(k)!.kind === 'ident' && FN_QUALIFIERS.has(scan.at(k)!.value)) || scan.isLiteral(k))
    )
      k++;
    if (scan.isKw(k, 'fn')) {
      report(
        'const-fn',
        t,
        '`const fn` bodies cannot carry the statement-timeout checkpoint but can run at run time; drop `const`',
      );
    }
  });
};

export const keywordRules: readonly RuleCheck[] = [unsafeKw, asyncKw, constFn];
