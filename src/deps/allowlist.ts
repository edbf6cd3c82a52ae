/**
 * The administrator's dependency allow-list (upstream PL/Rust's format): a
 * TOML file of `crate = entry` or `crate = [entry, …]`, each entry a bounded
 * version requirement or a table of version, features and default-features.
 * Resolution picks, for each dependency a function asks for, one allowed
 * entry and one version present in the offline source.
 */
import fs from 'node:fs';
import { parse as parseToml, TomlError } from 'smol-toml';
import { PlrustError, type ErrorCode } from '../util/errors.js';
import { readDependencyValue, type DependencyRequest } from './body.js';
import {
  compareVersions,
  formatVersion,
  isBoundedRequirement,
  parseRequirement,
  parseVersion,
  satisfies,
  type Requirement,
  type Version,
} from './semver.js';
import type { CrateSource } from './source.js';

export interface AllowedEntry {
  name: string;
  version: string;
  req: Requirement;
  features: string[];
  defaultFeatures: boolean;
}

export type AllowList = Map<string, AllowedEntry[]>;

/** One crate as a function links it: exact version and the allow-list's features. */
export interface ResolvedDependency {
  name: string;
  version: string;
  features: string[];
  defaultFeatures: boolean;
}

function listError(file: string, message: string): PlrustError {
  return new PlrustError({
    code: 'BAD_ALLOW_LIST',
    message: `${file}: ${message}`,
    hint: 'each line is crate = "=1.2.3", ">=1, <2", "*", a table { version, features, default-features } or a list of those',
  });
}

export function parseAllowList(text: string, file: string): AllowList {
  let table: Record<string, unknown>;
  try {
    table = parseToml(text) as Record<string, unknown>;
  } catch (e) {
    throw listError(file, `not valid TOML: ${e instanceof TomlError ? e.message.split('\n')[0] : String(e)}`);
  }
  const out: AllowList = new Map();
  for (const [name, value] of Object.entries(table)) {
    const items = Array.isArray(value) ? value : [value];
    if (items.length === 0) throw listError(file, `${name} has an empty list`);
    const entries = items.map((item: unknown) => {
      let d: DependencyRequest;
      let req: Requirement;
      try {
        d = readDependencyValue(name, item, file);
        req = parseRequirement(d.version);
      } catch (e) {
        if (e instanceof PlrustError) throw listError(file, e.message);
        throw e;
      }
      if (!isBoundedRequirement(req))
        throw listError(
          file,
          `${name} = "${d.version}" is not bounded: use an exact version ("=1.2.3"), a range with both ends (">=1, <2") or "*"`,
        );
      return {
        name,
        version: d.version,
        req,
        features: d.features ?? [],
        defaultFeatures: d.defaultFeatures ?? true,
      };
    });
    out.set(name, entries);
  }
  return out;
}

export function loadAllowList(file: string): AllowList {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new PlrustError({
      code: 'BAD_ALLOW_LIST',
      message: `cannot read the dependency allow-list ${file}: ${(e as Error).message}`,
      hint: 'plrust.allowed_dependencies must name a TOML file the server can read',
    });
  }
  return parseAllowList(text, file);
}

function refuse(code: ErrorCode, message: string, hint: string): PlrustError {
  return new PlrustError({ code, message, hint });
}

export function noAllowList(requests: DependencyRequest[]): PlrustError {
  return refuse(
    'NO_ALLOW_LIST',
    `the function has [dependencies] (${requests.map((r) => r.name).join(', ')}) but no dependency allow-list is configured`,
    'a superuser can set plrust.allowed_dependencies to a TOML file of allowed crates (plrust build: --allowed FILE)',
  );
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The highest version in the source that both the function's requirement
 * and one allow-list entry accept; that entry's features and
 * default-features, which a function may repeat but not change.
 */
export function resolveDependencies(
  requests: DependencyRequest[],
  allow: AllowList | undefined,
  source: CrateSource,
): ResolvedDependency[] {
  if (requests.length === 0) return [];
  if (!allow) throw noAllowList(requests);
  return requests.map((r) => {
    const entries = allow.get(r.name);
    if (!entries)
      throw refuse(
        'DEPENDENCY_NOT_ALLOWED',
        `crate ${r.name} is not in the dependency allow-list`,
        `allowed crates: ${[...allow.keys()].join(', ') || 'none'}`,
      );
    let want: Requirement;
    try {
      want = parseRequirement(r.version);
    } catch (e) {
      if (e instanceof PlrustError) throw refuse('BAD_DEPENDENCIES', `${r.name}: ${e.message}`, e.hint ?? '');
      throw e;
    }
    // A bare x.y.z from the function means that exact version (upstream's rule).
    const exact = parseVersion(r.version);
    if (exact) want = parseRequirement(`=${r.version}`);
    const available = source.versions(r.name);
    let best: { entry: AllowedEntry; version: Version } | undefined;
    let versionAllowed = false;
    for (const entry of entries) {
      for (const v of available) {
        if (!satisfies(v, entry.req) || !satisfies(v, want)) continue;
        versionAllowed = true;
        if (r.features !== undefined && !sameSet(r.features, entry.features)) continue;
        if (r.defaultFeatures !== undefined && r.defaultFeatures !== entry.defaultFeatures) continue;
        if (!best || compareVersions(v, best.version) > 0) best = { entry, version: v };
      }
    }
    if (best)
      return {
        name: r.name,
        version: formatVersion(best.version),
        features: best.entry.features,
        defaultFeatures: best.entry.defaultFeatures,
      };
    const allowed = entries.map((e) => `"${e.version}"`).join(', ');
    const inRange = entries.some((e) => available.some((v) => satisfies(v, e.req)));
    if (!inRange)
      throw refuse(
        'DEPENDENCY_NOT_IN_SOURCE',
        `crate ${r.name} is allowed (${allowed}) but the dependency source ${source.location} has no such version (it has ${available.map(formatVersion).join(', ') || 'none'})`,
        'the administrator installs the crate into the source (e.g. apt-get install librust-<name>-dev) or changes the allow-list',
      );
    if (!versionAllowed)
      throw refuse(
        'DEPENDENCY_VERSION_NOT_ALLOWED',
        `crate ${r.name} version "${r.version}" is outside the allow-list's ${allowed}`,
        `ask for a version the allow-list accepts, or "*" for the highest allowed`,
      );
    const offered = entries.map(
      (e) => `features [${e.features.join(', ')}]${e.defaultFeatures ? '' : ' without default features'}`,
    );
    throw refuse(
      'DEPENDENCY_FEATURE_NOT_ALLOWED',
      `crate ${r.name}: features [${(r.features ?? []).join(', ')}]${r.defaultFeatures === false ? ' without default features' : ''} are not what the allow-list allows (${offered.join('; ')})`,
      "leave features out to get the allow-list's, or ask the administrator to allow them",
    );
  });
}

/** An allow-list entry and the version of the source it resolves to (undefined: none there). */
export interface EntryStatus {
  entry: AllowedEntry;
  resolved?: ResolvedDependency;
}

/** Every entry of the list against the source: what `plrust deps list|check|build` show and build. */
export function entryStatuses(allow: AllowList, source: CrateSource): EntryStatus[] {
  const out: EntryStatus[] = [];
  for (const entries of allow.values()) {
    for (const entry of entries) {
      const versions = source.versions(entry.name).filter((v) => satisfies(v, entry.req));
      const best = versions.sort(compareVersions).pop();
      out.push({
        entry,
        ...(best
          ? {
              resolved: {
                name: entry.name,
                version: formatVersion(best),
                features: entry.features,
                defaultFeatures: entry.defaultFeatures,
              },
            }
          : {}),
      });
    }
  }
  return out;
}
