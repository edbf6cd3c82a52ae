/**
 * `mod name;` makes rustc read `name.rs` (or a `#[path]`) from disk: the
 * function would compile files of the build host.
 */
import type { RuleCheck } from './scan.js';

const outOfLine: RuleCheck = (scan, report) => {
  scan.tokens.forEach((t, i) => {
    if (!scan.isKw(i, 'mod')) return;
    const nameEnd = scan.isPunct(i + 1, '$') ? i + 3 : i + 2;
    // Anything but an inline body: `mod x;`, or `mod x $semi` completed by a macro.
    if (!scan.isOpen(nameEnd, '{')) {
      report(
        'out-of-line-module',
        t,
        '`mod …;` loads a module from a file; write the module inline as `mod name { … }`',
      );
    }
  });
};

export const moduleRules: readonly RuleCheck[] = [outOfLine];
