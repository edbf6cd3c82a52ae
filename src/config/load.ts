/**
 * Resolves the configuration with its provenance. Precedence, highest first:
 * command-line flags, PLRUST_* environment, project config (searched upward
 * from the working directory), the global config file, defaults.
 */
import path from 'node:path';
import os from 'node:os';
import fs from 'node:fs';
import type { ZodIssue } from 'zod';
import { PlrustError, ExitCode } from '../util/errors.js';
import {
  configSchema,
  DEFAULTS,
  ENV_VARS,
  NUMBER_KEYS,
  PATH_KEYS,
  parseTargets,
  type ConfigFile,
  type ConfigKey,
  type ResolvedConfig,
} from './schema.js';

export type Source = 'flag' | 'env' | 'project' | 'global' | 'default';

export interface Provenance {
  source: Source;
  /** The file or variable that set it. */
  origin?: string;
}

export interface LoadedConfig {
  values: ResolvedConfig;
  sources: { [K in keyof ResolvedConfig]: Provenance };
  files: { project?: string; global?: string };
}

const MODULE = 'plrust';

function globalConfigDir(): string {
  const xdg = process.env.XDG_CONFIG_HOME;
  return path.join(xdg && xdg !== '' ? xdg : path.join(os.homedir(), '.config'), 'plrust');
}

const GLOBAL_NAMES = ['config.json', 'config.yaml', 'config.yml', 'config.js', 'config.mjs', 'config.cjs'];

function configError(file: string, issues: ZodIssue[], raw: Record<string, unknown>): PlrustError {
  const first = issues[0]!;
  const key = first.path.join('.') || '(top level)';
  let detail: string;
  if (first.code === 'unrecognized_keys') {
    detail = `unknown key${first.keys.length > 1 ? 's' : ''} ${first.keys.map((k) => `"${k}"`).join(', ')}`;
  } else {
    const shape = configSchema.shape as Record<string, { description?: string }>;
    const expected = shape[String(first.path[0])]?.description ?? first.message;
    const got = first.path.length > 0 ? JSON.stringify(raw[String(first.path[0])]) : typeof raw;
    detail = `key "${key}": expected ${expected}, got ${got}`;
  }
  return new PlrustError({
    code: 'CONFIG_INVALID',
    message: `invalid configuration in ${file}: ${detail}`,
    hint: 'fix the file, or run `plrust config` to see where each value comes from',
    exitCode: ExitCode.Usage,
    data: { file, key, issues: issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
  });
}

function validate(file: string, raw: unknown): ConfigFile {
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new PlrustError({
      code: 'CONFIG_INVALID',
      message: `invalid configuration in ${file}: expected an object of settings, got ${Array.isArray(raw) ? 'an array' : typeof raw}`,
      exitCode: ExitCode.Usage,
    });
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw configError(file, parsed.error.issues, raw as Record<string, unknown>);
  const out: ConfigFile = { ...parsed.data };
  for (const k of PATH_KEYS) {
    const v = out[k];
    if (typeof v === 'string' && !path.isAbsolute(v) && !v.startsWith('~'))
      (out as Record<string, unknown>)[k] = path.resolve(path.dirname(file), v);
  }
  return out;
}

async function explorer() {
  const { cosmiconfig } = await import('cosmiconfig');
  return cosmiconfig(MODULE, {
    searchStrategy: 'global',
    stopDir: os.homedir(),
    searchPlaces: [
      'package.json',
      `.${MODULE}rc`,
      `.${MODULE}rc.json`,
      `.${MODULE}rc.yaml`,
      `.${MODULE}rc.yml`,
      `${MODULE}.config.js`,
      `${MODULE}.config.mjs`,
      `${MODULE}.config.cjs`,
    ],
  });
}

async function loadProject(cwd: string, explicit?: string): Promise<{ file?: string; config: ConfigFile }> {
  const ex = await explorer();
  try {
    const found = explicit ? await ex.load(path.resolve(explicit)) : await ex.search(cwd);
    if (!found || found.isEmpty) return { config: {} };
    // cosmiconfig's global strategy also looks in the global dir; that file is loaded separately with lower precedence.
    if (!explicit && path.dirname(found.filepath) === globalConfigDir()) return { config: {} };
    return { file: found.filepath, config: validate(found.filepath, found.config) };
  } catch (e) {
    throw asReadError(e, explicit ?? cwd);
  }
}

async function loadGlobal(): Promise<{ file?: string; config: ConfigFile }> {
  const dir = globalConfigDir();
  const file = GLOBAL_NAMES.map((n) => path.join(dir, n)).find((f) => fs.existsSync(f));
  if (!file) return { config: {} };
  const ex = await explorer();
  try {
    const found = await ex.load(file);
    return { file, config: validate(file, found?.config) };
  } catch (e) {
    throw asReadError(e, file);
  }
}

function asReadError(e: unknown, where: string): PlrustError {
  if (e instanceof PlrustError) return e;
  const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
  return new PlrustError({
    code: 'CONFIG_INVALID',
    message: `cannot read configuration (${where}): ${msg}`,
    hint: 'fix the syntax of the file',
    exitCode: ExitCode.Usage,
  });
}

function fromEnv(env: NodeJS.ProcessEnv): { config: ConfigFile; vars: Partial<Record<ConfigKey, string>> } {
  const raw: Record<string, unknown> = {};
  const vars: Partial<Record<ConfigKey, string>> = {};
  for (const [key, name] of Object.entries(ENV_VARS) as [ConfigKey, string][]) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    vars[key] = name;
    if (key === 'targets') {
      const t = parseTargets(v);
      if (typeof t === 'string')
        throw new PlrustError({ code: 'CONFIG_INVALID', message: `invalid ${name}: ${t}`, exitCode: ExitCode.Usage });
      raw[key] = t;
    } else if (NUMBER_KEYS.has(key)) {
      raw[key] = Number(v);
    } else {
      raw[key] = v;
    }
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    const key = String(i.path[0]) as ConfigKey;
    throw new PlrustError({
      code: 'CONFIG_INVALID',
      message: `invalid ${ENV_VARS[key]}: ${i.message} (got ${JSON.stringify(raw[key])})`,
      exitCode: ExitCode.Usage,
    });
  }
  return { config: parsed.data, vars };
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

export async function loadConfig(opts: {
  cwd: string;
  flags: ConfigFile;
  configFile?: string;
  env?: NodeJS.ProcessEnv;
}): Promise<LoadedConfig> {
  const env = opts.env ?? process.env;
  const [project, global] = await Promise.all([loadProject(opts.cwd, opts.configFile), loadGlobal()]);
  const envCfg = fromEnv(env);
  const layers: { source: Source; config: ConfigFile; origin: (k: ConfigKey) => string | undefined }[] = [
    { source: 'flag', config: opts.flags, origin: () => undefined },
    { source: 'env', config: envCfg.config, origin: (k) => envCfg.vars[k] },
    { source: 'project', config: project.config, origin: () => project.file },
    { source: 'global', config: global.config, origin: () => global.file },
  ];
  const values = { ...DEFAULTS } as Record<string, unknown>;
  const sources = {} as Record<string, Provenance>;
  for (const key of Object.keys(DEFAULTS) as (keyof ResolvedConfig)[]) {
    const layer = layers.find((l) => l.config[key] !== undefined);
    if (layer) {
      const v = layer.config[key];
      values[key] = typeof v === 'string' && PATH_KEYS.has(key) ? path.resolve(opts.cwd, expandHome(v)) : v;
      const origin = layer.origin(key);
      sources[key] = origin ? { source: layer.source, origin } : { source: layer.source };
    } else {
      sources[key] = { source: 'default' };
    }
  }
  return {
    values: values as unknown as ResolvedConfig,
    sources: sources as LoadedConfig['sources'],
    files: { ...(project.file ? { project: project.file } : {}), ...(global.file ? { global: global.file } : {}) },
  };
}
