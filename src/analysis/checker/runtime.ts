/**
 * Rules that keep the backend alive rather than the data safe.
 *
 * The panic hook is process-global: a hook set by one function runs for
 * every later panic in the backend, and a hook that panics itself turns the
 * next ordinary panic into an abort. The runaway-loop checkpoint must be
 * insertable everywhere and impossible for a macro to strip (see
 * ../instrument.ts); code where that cannot be guaranteed is rejected.
 */
import type { RuleCheck } from './scan.js';
import { planInstrumentation } from '../instrument.js';

const HOOKS = new Set(['set_hook', 'take_hook', 'update_hook']);

const panicHook: RuleCheck = (scan, report) => {
  scan.tokens.forEach((t, i) => {
    if (scan.isName(i) && HOOKS.has(t.value)) {
      report('panic-hook', t, `\`panic::${t.value}\` changes process-wide panic handling that the wrapper relies on`);
    }
  });
  for (const leaf of scan.uses) {
    const last = leaf.path[leaf.path.length - 1];
    if (!leaf.glob && last !== undefined && HOOKS.has(last)) {
      report('panic-hook', leaf.at, `importing \`${last}\` brings process-wide panic handling into scope`);
    } else if (leaf.glob && last === 'panic') {
      report(
        'panic-hook',
        leaf.at,
        'a glob import of `panic` brings `set_hook`/`take_hook` into scope under bare names; import the items you need by name',
      );
    }
  }
};

const STDIO_HANDLES = new Set(['stdin', 'stdout', 'stderr']);

/** The process's stdio handles belong to the postmaster's log, not to a function (upstream's plrust_stdio). */
const stdioHandles: RuleCheck = (scan, report) => {
  scan.tokens.forEach((t, i) => {
    if (scan.isName(i) && STDIO_HANDLES.has(t.value) && scan.isPunct(i - 1, '::')) {
      report('stdio', t, `\`io::${t.value}\` reaches the backend's own ${t.value}; return data in the result instead`);
    }
  });
  for (const leaf of scan.uses) {
    const last = leaf.path[leaf.path.length - 1];
    if (!leaf.glob && last !== undefined && STDIO_HANDLES.has(last)) {
      report('stdio', leaf.at, `importing \`${last}\` brings the backend's own stdio handle into scope`);
    } else if (leaf.glob && last === 'io') {
      report(
        'stdio',
        leaf.at,
        'a glob import of `io` brings `stdin`/`stdout`/`stderr` into scope under bare names; import the items you need by name',
      );
    }
  }
};

const uninstrumentable: RuleCheck = (scan, report) => {
  for (const u of planInstrumentation(scan.trees, scan.context).unresolved) {
    report(
      'uninstrumentable',
      u.at,
      `${u.reason} (the statement-timeout checkpoint must be attached to every loop, fn and closure)`,
    );
  }
};

export const runtimeRules: readonly RuleCheck[] = [panicHook, stdioHandles, uninstrumentable];
