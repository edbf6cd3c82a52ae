/**
 * Cargo's version requirements, as far as dependency allow-lists need them:
 * comparators `=`, `>`, `>=`, `<`, `<=`, `~`, `^` (and a bare version,
 * which means `^`), partial versions, wildcards (`*`, `1.*`) and
 * comma-separated conjunctions. Pre-release versions are never selected:
 * an allow-list names releases.
 */
import { PlrustError } from '../util/errors.js';

export type Version = [number, number, number];

export interface Comparator {
  op: '=' | '>' | '>=' | '<' | '<=' | '~' | '^' | '*';
  /** Given parts of the version; missing ones are wildcards. */
  parts: number[];
}

export type Requirement = Comparator[];

function badReq(text: string, why: string): PlrustError {
  return new PlrustError({
    code: 'BAD_VERSION_REQ',
    message: `"${text}" is not a version requirement: ${why}`,
    hint: 'use Cargo syntax, for example "=1.2.3", ">=1, <2" or "*"',
  });
}

export function parseVersion(text: string): Version | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(text.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

export function formatVersion(v: Version): string {
  return v.join('.');
}

export function compareVersions(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

export function parseRequirement(text: string): Requirement {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.some((p) => p === '')) throw badReq(text, 'an empty comparator');
  return parts.map((p) => {
    if (p === '*') return { op: '*', parts: [] };
    const m = /^(=|>=|<=|>|<|~|\^)?\s*(\d+)(?:\.(\d+|\*))?(?:\.(\d+|\*))?$/.exec(p);
    if (!m) throw badReq(text, `cannot read "${p}"`);
    const nums: number[] = [];
    for (const x of [m[2], m[3], m[4]]) {
      if (x === undefined || x === '*') break;
      nums.push(Number(x));
    }
    const op = (m[1] ?? '^') as Comparator['op'];
    return { op, parts: nums };
  });
}

/** The half-open range [lo, hi) a comparator allows (hi undefined: unbounded). */
function range(c: Comparator): { lo: Version; loIncl: boolean; hi?: Version } {
  const [a = 0, b = 0, d = 0] = c.parts;
  const n = c.parts.length;
  const next = (): Version => (n === 1 ? [a + 1, 0, 0] : n === 2 ? [a, b + 1, 0] : [a, b, d + 1]);
  switch (c.op) {
    case '*':
      return { lo: [0, 0, 0], loIncl: true };
    case '=':
      return { lo: [a, b, d], loIncl: true, hi: next() };
    case '>':
      return { lo: n === 3 ? [a, b, d] : next(), loIncl: n !== 3 };
    case '>=':
      return { lo: [a, b, d], loIncl: true };
    case '<':
      return { lo: [0, 0, 0], loIncl: true, hi: [a, b, d] };
    case '<=':
      return { lo: [0, 0, 0], loIncl: true, hi: next() };
    case '~':
      return { lo: [a, b, d], loIncl: true, hi: n === 1 ? [a + 1, 0, 0] : [a, b + 1, 0] };
    case '^': {
      let hi: Version;
      if (a > 0 || n === 1) hi = [a + 1, 0, 0];
      else if (b > 0 || n === 2) hi = [0, b + 1, 0];
      else hi = [0, 0, d + 1];
      return { lo: [a, b, d], loIncl: true, hi };
    }
  }
}

export function satisfies(v: Version, req: Requirement): boolean {
  return req.every((c) => {
    const r = range(c);
    const lo = compareVersions(v, r.lo);
    if (lo < 0 || (lo === 0 && !r.loIncl)) return false;
    return r.hi === undefined || compareVersions(v, r.hi) < 0;
  });
}

/**
 * Upstream's rule for an allow-list entry: an exact version (`=1.2.3`), a
 * range bounded on both sides (`>=1, <2`), or the bare wildcard. Anything
 * else would let a new release in without the administrator's say.
 */
export function isBoundedRequirement(req: Requirement): boolean {
  if (req.length === 1 && req[0]!.op === '*') return true;
  if (req.length === 1 && req[0]!.op === '=' && req[0]!.parts.length === 3) return true;
  const lower = req.some((c) => c.op === '>=' || c.op === '>');
  const upper = req.some((c) => c.op === '<' || c.op === '<=');
  return lower && upper;
}
