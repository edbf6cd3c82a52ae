/**
 * The linked-symbol allowlist (targets/symbol-allowlist.json): which symbols
 * and libraries a function library may import. Data lives in the JSON file so
 * that each decision carries its reason next to it; this module validates it
 * and answers "is this import allowed, and if not, why not".
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { PlrustError } from '../util/errors.js';

/** Compiled to dist/src/verify/, so the package root is three levels up. */
export const DEFAULT_ALLOWLIST_PATH = fileURLToPath(new URL('../../../targets/symbol-allowlist.json', import.meta.url));

const reasoned = z.object({ name: z.string().min(1), reason: z.string().trim().min(1) }).strict();
const group = z
  .object({ group: z.string().min(1), reason: z.string().min(1), symbols: z.array(reasoned).min(1) })
  .strict();
const fileSchema = z
  .object({
    description: z.string().optional(),
    schema: z.literal(1),
    libraries: z.array(reasoned),
    allow: z.array(group),
    deny: z.array(group),
  })
  .strict();

export interface AllowlistEntry {
  readonly name: string;
  readonly group: string;
  readonly reason: string;
}

export interface Allowlist {
  /** Where it was loaded from, for messages. */
  readonly source: string;
  readonly symbols: ReadonlyMap<string, AllowlistEntry>;
  /** Known-dangerous symbols with a specific reason; anything not allowed is denied anyway. */
  readonly denials: ReadonlyMap<string, AllowlistEntry>;
  readonly libraries: ReadonlyMap<string, string>;
}

export type Verdict = { allowed: true; reason: string } | { allowed: false; reason: string };

export function parseAllowlist(text: string, source: string): Allowlist {
  const invalid = (detail: string) =>
    new PlrustError({
      code: 'ALLOWLIST_INVALID',
      message: `the symbol allowlist ${source} is invalid: ${detail}`,
      hint: 'every entry needs a name and a non-empty reason, and a symbol may appear only once',
    });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw invalid((e as Error).message);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalid(`${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const collect = (groups: z.infer<typeof group>[], seen: Map<string, AllowlistEntry>, kind: string) => {
    for (const g of groups) {
      for (const s of g.symbols) {
        const previous = seen.get(s.name);
        if (previous) throw invalid(`${s.name} is listed twice (${previous.group} and ${kind} ${g.group})`);
        seen.set(s.name, { name: s.name, group: g.group, reason: s.reason });
      }
    }
  };
  const symbols = new Map<string, AllowlistEntry>();
  collect(parsed.data.allow, symbols, 'allow');
  const everything = new Map(symbols);
  collect(parsed.data.deny, everything, 'deny');
  const denials = new Map([...everything].filter(([name]) => !symbols.has(name)));

  const libraries = new Map<string, string>();
  for (const lib of parsed.data.libraries) {
    if (libraries.has(lib.name)) throw invalid(`library ${lib.name} is listed twice`);
    libraries.set(lib.name, lib.reason);
  }
  return { source, symbols, denials, libraries };
}

const cache = new Map<string, Promise<Allowlist>>();

/** Loads (once per path and process) and validates an allowlist file. */
export function loadAllowlist(path: string = DEFAULT_ALLOWLIST_PATH): Promise<Allowlist> {
  let loaded = cache.get(path);
  if (!loaded) {
    loaded = readFile(path, 'utf8').then(
      (text) => parseAllowlist(text, path),
      (e: unknown) => {
        throw new PlrustError({
          code: 'ALLOWLIST_MISSING',
          message: `cannot read the symbol allowlist ${path}: ${(e as Error).message}`,
          hint: 'reinstall plrust; the allowlist ships in its targets/ directory',
          cause: e,
        });
      },
    );
    loaded.catch(() => cache.delete(path));
    cache.set(path, loaded);
  }
  return loaded;
}

export function judgeSymbol(list: Allowlist, name: string): Verdict {
  const allowed = list.symbols.get(name);
  if (allowed) return { allowed: true, reason: allowed.reason };
  const denied = list.denials.get(name);
  if (denied) return { allowed: false, reason: `${denied.reason} (${denied.group})` };
  return { allowed: false, reason: 'not on the symbol allowlist' };
}

export function judgeLibrary(list: Allowlist, name: string): Verdict {
  const reason = list.libraries.get(name);
  if (reason !== undefined) return { allowed: true, reason };
  return {
    allowed: false,
    reason:
      'loading this library is not allowed: its constructors would run inside the backend and its symbols could satisfy imports',
  };
}
