/**
 * Every use of the `extern` keyword: foreign crates, foreign function
 * declarations, and foreign-ABI function definitions. A foreign-ABI function
 * that panics aborts the whole process (Rust does not unwind out of
 * `extern "C"`), which in a backend is a crash, so even definitions are out.
 */
import type { RuleCheck } from './scan.js';

const externs: RuleCheck = (scan, report) => {
  scan.tokens.forEach((t, i) => {
    if (!scan.isKw(i, 'extern')) return;
    if (scan.isKw(i + 1, 'crate')) {
      report('extern-crate', t, '`extern crate` links a crate the function is not allowed to use');
      return;
    }
    const next = scan.isLiteral(i + 1) ? i + 2 : i + 1;
    if (scan.isOpen(next, '{')) {
      report(
        'extern-block',
        t,
        'an `extern` block declares foreign functions or statics, which reach outside the trusted std',
      );
      return;
    }
    const what = scan.isKw(next, 'fn') ? 'a function with a foreign ABI' : 'a foreign ABI';
    report(
      'extern-fn',
      t,
      `\`extern\` declares ${what}: a panic inside it aborts the backend instead of becoming an error`,
    );
  });
};

export const ffiRules: readonly RuleCheck[] = [externs];
