/**
 * Leaking turns a heap allocation into a `&'static` that outlives the
 * library's memory: function memory lives in a per-function PostgreSQL
 * memory context that is freed when the library is unloaded or replaced,
 * while the handler counts what each function holds against
 * plrust.memory_limit — leaked memory would count forever and never be
 * given back. `mem::forget` skips destructors the wrapper's bookkeeping
 * may rely on.
 *
 * `forget` is caught when path-qualified (`mem::forget`, `m::forget` after
 * `use std::mem as m`), when imported by name (with or without `as`), and
 * when `mem` is glob-imported; `leak` is refused as any name, which covers
 * every `Box::leak`/`Vec::leak`/`String::leak` form and `.leak()` call,
 * including those a macro joins from separately handed tokens.
 */
import type { RuleCheck } from './scan.js';

const forget: RuleCheck = (scan, report) => {
  scan.tokens.forEach((t, i) => {
    // Any mention: a macro can join `mem`, `::` and `forget` handed over separately.
    if (scan.isName(i, 'forget')) {
      report('mem-forget', t, '`mem::forget` skips destructors; let values drop, or restructure ownership');
    }
  });
  for (const leaf of scan.uses) {
    const last = leaf.path[leaf.path.length - 1];
    if (!leaf.glob && last === 'forget') {
      report('mem-forget', leaf.at, 'importing `forget` brings `mem::forget` into scope under a bare name');
    } else if (leaf.glob && last === 'mem') {
      report(
        'mem-forget',
        leaf.at,
        'a glob import of `mem` brings `forget` into scope under a bare name; import the items you need by name',
      );
    }
  }
};

const leak: RuleCheck = (scan, report) => {
  scan.tokens.forEach((t, i) => {
    if (scan.isName(i, 'leak')) {
      report(
        'leak',
        t,
        'leaked memory is never given back: it counts against plrust.memory_limit until the library is unloaded; ' +
          'let values drop, or keep what must outlive the call in a static',
      );
    }
  });
};

export const leakRules: readonly RuleCheck[] = [forget, leak];
