/**
 * The std restriction engine: turns a copy of rustc's `library/` source into
 * the source of postgrestd by applying the rule set for that rustc version
 * (templates/std-rules/). Rules are data; this module only selects, checks
 * and applies them. Every anchor must match exactly as often as the rule says,
 * or nothing is written: a std whose source moved under a rule must fail the
 * install, never build unrestricted. The same engine applies the offline
 * source-preparation rules (templates/source-prep/).
 */
import { readFile, readdir, writeFile, access } from 'node:fs/promises';
import path from 'node:path';
import semver from 'semver';
import { z } from 'zod';
import { PlrustError, isErrnoException } from '../util/errors.js';
import { packageRoot } from '../util/package-root.js';

/** Replace every occurrence of `anchor` (exactly `count` of them) in `file`. */
export interface ReplaceRule {
  kind: 'replace';
  name: string;
  /** rustc versions this rule applies to (within the set's range); every version when absent. */
  versions?: string;
  /** Path relative to `library/`. */
  file: string;
  why: string;
  anchor: string;
  count: number;
  replacement: string;
}

/** Add a file that must not exist yet (a module the other rules route to). */
export interface CreateRule {
  kind: 'create';
  name: string;
  versions?: string;
  file: string;
  why: string;
  content: string;
}

export type StdRule = ReplaceRule | CreateRule;

export interface RuleSet {
  /** semver range of rustc versions whose std source these rules fit. */
  range: string;
  /** Where the set was read from, for messages. */
  source: string;
  /**
   * Every rule of the set; one name may appear several times, with disjoint
   * `versions`, when std moved the code a rule edits.
   */
  rules: StdRule[];
}

/** A rule set narrowed to one rustc version: exactly the rules that version gets. */
export interface RestrictionPlan {
  range: string;
  source: string;
  version: string;
  rules: StdRule[];
}

export interface AppliedRule {
  name: string;
  file: string;
  kind: StdRule['kind'];
  /** How many places the rule edited (1 for a created file). */
  occurrences: number;
}

/**
 * Written into the edited library, one per kind of rules, so a second pass is
 * refused instead of being misreported as a rule mismatch.
 */
export function markerName(label: string): string {
  return `.plrust-${label}-rules.json`;
}

/** JSON allows no multi-line strings, so long texts may be given as arrays of lines. */
const text = z.union([z.string(), z.array(z.string()).transform((lines) => lines.join('\n'))]);

const versionRange = z.string().refine((r) => semver.validRange(r) !== null, 'not a semver range');

const ruleSchema = z.union([
  z
    .object({
      name: z.string().min(1),
      versions: versionRange.optional(),
      file: z.string().min(1),
      why: z.string().min(1),
      anchor: text.refine((s) => s.length > 0, 'anchor must not be empty'),
      count: z.number().int().positive().default(1),
      replacement: text,
    })
    .strict(),
  z
    .object({
      name: z.string().min(1),
      versions: versionRange.optional(),
      file: z.string().min(1),
      why: z.string().min(1),
      /** Path of the new file's content, relative to the rule set's JSON file. */
      create: z.string().min(1),
    })
    .strict(),
]);

const ruleSetSchema = z
  .object({
    rustc: versionRange,
    description: z.string().optional(),
    rules: z.array(ruleSchema).min(1),
  })
  .strict();

function defaultRulesDir(): string {
  return path.join(packageRoot(), 'templates', 'std-rules');
}

/** Reads every `*.json` rule set in `dir`, with the contents of their `create` files. */
export async function loadRuleSets(dir: string = defaultRulesDir()): Promise<RuleSet[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  const sets: RuleSet[] = [];
  for (const name of names) {
    const source = path.join(dir, name);
    const invalid = (why: string) =>
      new PlrustError({
        code: 'STD_RULES_INVALID',
        message: `rule set ${source} is malformed: ${why}`,
        hint: 'Fix the rule file; docs/TRUST.md describes the format.',
      });
    let json: unknown;
    try {
      json = JSON.parse(await readFile(source, 'utf8'));
    } catch (e) {
      if (e instanceof SyntaxError) throw invalid(e.message);
      throw e;
    }
    const parsed = ruleSetSchema.safeParse(json);
    if (!parsed.success) throw invalid(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    const rules: StdRule[] = [];
    for (const r of parsed.data.rules) {
      if ('create' in r) {
        const content = await readFile(path.resolve(path.dirname(source), r.create), 'utf8');
        rules.push({
          kind: 'create',
          name: r.name,
          ...(r.versions ? { versions: r.versions } : {}),
          file: r.file,
          why: r.why,
          content,
        });
      } else {
        const { versions, ...rest } = r;
        rules.push({ kind: 'replace', ...rest, ...(versions ? { versions } : {}) });
      }
    }
    assertUniqueNames(rules, source);
    sets.push({ range: parsed.data.rustc, source, rules });
  }
  return sets;
}

/**
 * A name identifies one rule in messages and manifests. It may be given
 * several times only as alternatives: each with a `versions` range, no two
 * of which share a version, so a version never gets two of them.
 */
function assertUniqueNames(rules: StdRule[], source: string): void {
  const byName = new Map<string, StdRule[]>();
  for (const r of rules) byName.set(r.name, [...(byName.get(r.name) ?? []), r]);
  for (const [name, alternatives] of byName) {
    if (alternatives.length === 1) continue;
    const unranged = alternatives.some((r) => r.versions === undefined);
    const overlap = alternatives.some((a, i) =>
      alternatives.slice(i + 1).some((b) => semver.intersects(a.versions ?? '*', b.versions ?? '*')),
    );
    if (unranged || overlap) {
      throw new PlrustError({
        code: 'STD_RULES_INVALID',
        message: `rule set ${source} names ${alternatives.length} rules '${name}' whose versions overlap`,
        hint: 'Rule names identify a rule in error messages; a name may repeat only for alternatives with disjoint `versions` ranges.',
      });
    }
  }
}

/**
 * Picks the one rule set whose range covers `rustcVersion` (e.g. "1.96.0",
 * or the `release:` line of `rustc -vV`). Pre-releases never match a stable
 * range: a nightly std has moved on from the stable source the rules were
 * written against.
 */
export function planRestriction(ruleSets: RuleSet[], rustcVersion: string): RestrictionPlan {
  const version = semver.valid(rustcVersion.trim());
  const supported = ruleSets.map((s) => s.range);
  if (version === null) {
    throw new PlrustError({
      code: 'RUSTC_UNSUPPORTED',
      message: `cannot read rustc version '${rustcVersion}' as semver`,
      hint: `Supported rustc versions: ${supported.join(', ') || 'none'}.`,
    });
  }
  const matching = ruleSets.filter((s) => semver.satisfies(version, s.range));
  if (matching.length === 0) {
    throw new PlrustError({
      code: 'RUSTC_UNSUPPORTED',
      message: `no std restriction rules cover rustc ${version}`,
      hint: `Supported rustc versions: ${supported.join(', ') || 'none'}. Use one of them, or add a rule set to templates/std-rules/.`,
      data: { version, supported },
    });
  }
  if (matching.length > 1) {
    throw new PlrustError({
      code: 'STD_RULES_INVALID',
      message: `rustc ${version} is covered by more than one std rule set: ${matching.map((s) => s.source).join(', ')}`,
      hint: 'Make the rustc ranges of the rule sets disjoint.',
    });
  }
  const set = matching[0]!;
  return {
    range: set.range,
    source: set.source,
    version,
    rules: set.rules.filter((r) => r.versions === undefined || semver.satisfies(version, r.versions)),
  };
}

function countOccurrences(haystack: string, needle: string): number {
  let n = 0;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + needle.length)) n++;
  return n;
}

/** Applies one replace rule to a file's text; pure, so tests need no std source. */
export function applyRuleToText(rule: ReplaceRule, textBefore: string, label = 'std'): string {
  const found = countOccurrences(textBefore, rule.anchor);
  if (found !== rule.count) {
    throw new PlrustError({
      code: 'STD_RULE_MISMATCH',
      message:
        `${label} rule '${rule.name}' does not fit ${rule.file}: expected the anchor ${rule.count} time(s), found it ${found} time(s).\n` +
        `Expected text:\n${rule.anchor}`,
      hint: 'The std source differs from the one the rules were written for. Use a rustc listed as supported, or update the rule set.',
      data: { rule: rule.name, file: rule.file, expected: rule.anchor, expectedCount: rule.count, found },
    });
  }
  return textBefore.split(rule.anchor).join(rule.replacement);
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch (e) {
    if (isErrnoException(e) && e.code === 'ENOENT') return false;
    throw e;
  }
}

function insideLibrary(libraryDir: string, file: string): string {
  const abs = path.resolve(libraryDir, file);
  if (!abs.startsWith(path.resolve(libraryDir) + path.sep)) {
    throw new PlrustError({
      code: 'STD_RULES_INVALID',
      message: `rule file '${file}' points outside library/`,
    });
  }
  return abs;
}

/**
 * Restricts the std source in `libraryDir` (a copy: it is edited in place)
 * with the std rule set for `rustcVersion`.
 */
export async function applyRestriction(
  libraryDir: string,
  rustcVersion: string,
  ruleSets?: RuleSet[],
): Promise<AppliedRule[]> {
  return applySourceRules(libraryDir, rustcVersion, ruleSets ?? (await loadRuleSets()), 'std');
}

/**
 * Applies the rule set of `ruleSets` that covers `rustcVersion` to the source
 * in `libraryDir`; `label` names the kind of rules in messages and in the
 * marker file. All rules are checked in memory first; files are written only
 * when every anchor matched, so a failed pass leaves the copy as it was.
 */
export async function applySourceRules(
  libraryDir: string,
  rustcVersion: string,
  ruleSets: RuleSet[],
  label: string,
): Promise<AppliedRule[]> {
  const set = planRestriction(ruleSets, rustcVersion);
  const marker = path.join(libraryDir, markerName(label));
  if (await exists(marker)) {
    throw new PlrustError({
      code: 'STD_ALREADY_RESTRICTED',
      message: `${libraryDir} has already been through the ${label} rules (${markerName(label)} exists)`,
      hint: 'Start from a fresh copy of the rust-src library directory.',
    });
  }

  const edited = new Map<string, string>();
  const applied: AppliedRule[] = [];
  for (const rule of set.rules) {
    const abs = insideLibrary(libraryDir, rule.file);
    if (rule.kind === 'create') {
      if (edited.has(abs) || (await exists(abs))) {
        throw new PlrustError({
          code: 'STD_RULE_MISMATCH',
          message: `${label} rule '${rule.name}' creates ${rule.file}, but that file already exists.\nExpected: no such file`,
          hint: 'The std source differs from the one the rules were written for; update the rule set.',
          data: { rule: rule.name, file: rule.file },
        });
      }
      edited.set(abs, rule.content);
      applied.push({ name: rule.name, file: rule.file, kind: 'create', occurrences: 1 });
      continue;
    }
    let before = edited.get(abs);
    if (before === undefined) {
      try {
        before = await readFile(abs, 'utf8');
      } catch (e) {
        if (!(isErrnoException(e) && e.code === 'ENOENT')) throw e;
        throw new PlrustError({
          code: 'STD_RULE_MISMATCH',
          message: `${label} rule '${rule.name}' edits ${rule.file}, which does not exist.\nExpected text:\n${rule.anchor}`,
          hint: 'The std source differs from the one the rules were written for; update the rule set.',
          data: { rule: rule.name, file: rule.file, expected: rule.anchor },
        });
      }
    }
    edited.set(abs, applyRuleToText(rule, before, label));
    applied.push({ name: rule.name, file: rule.file, kind: 'replace', occurrences: rule.count });
  }

  for (const [abs, content] of edited) await writeFile(abs, content);
  await writeFile(
    marker,
    JSON.stringify({ rustc: rustcVersion, ruleSet: path.basename(set.source), range: set.range, applied }, null, 2) +
      '\n',
  );
  return applied;
}
