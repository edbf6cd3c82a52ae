/**
 * The configuration keys, their types, defaults and environment variables,
 * in one table. Files are validated against it with zod so a wrong type is
 * reported as file + key + expected + got.
 */
import { z } from 'zod';
import os from 'node:os';
import path from 'node:path';

export const ARCHES = ['x86_64', 'aarch64'] as const;
export type Arch = (typeof ARCHES)[number];

const archList = z.array(z.enum(ARCHES)).min(1, 'at least one target').describe('a list of targets (x86_64, aarch64)');

export const configSchema = z
  .object({
    home: z.string().min(1).describe('a directory path'),
    rustc: z.string().min(1).describe('a path to rustc'),
    cargo: z.string().min(1).describe('a path to cargo'),
    rustSrc: z.string().min(1).describe('a directory, archive or URL'),
    distServer: z.string().url().describe('a URL'),
    targets: archList,
    outDir: z.string().min(1).describe('a directory path'),
    pgConfig: z.string().min(1).describe('a path to pg_config'),
    downloadTimeoutMs: z.number().int().positive().describe('a positive integer (milliseconds)'),
    downloadRetries: z.number().int().min(0).max(20).describe('an integer from 0 to 20'),
    compileMemoryMb: z.number().int().positive().describe('a positive integer (MB)'),
    compileCpuSeconds: z.number().int().positive().describe('a positive integer (seconds)'),
    maxLibrarySizeMb: z.number().int().positive().describe('a positive integer (MB)'),
    compileProcesses: z.number().int().positive().describe('a positive integer'),
    cacheMaxSizeMb: z.number().int().positive().describe('a positive integer (MB)'),
  })
  .strict()
  .partial();

export type ConfigFile = z.infer<typeof configSchema>;
export type ConfigKey = keyof ConfigFile;

export interface ResolvedConfig {
  home: string;
  rustc: string | undefined;
  cargo: string | undefined;
  rustSrc: string | undefined;
  distServer: string;
  targets: Arch[];
  outDir: string;
  pgConfig: string | undefined;
  downloadTimeoutMs: number;
  downloadRetries: number;
  compileMemoryMb: number;
  compileCpuSeconds: number;
  maxLibrarySizeMb: number;
  compileProcesses: number;
  cacheMaxSizeMb: number;
}

/** Keys whose environment values are numbers. */
export const NUMBER_KEYS: ReadonlySet<ConfigKey> = new Set<ConfigKey>([
  'downloadTimeoutMs',
  'downloadRetries',
  'compileMemoryMb',
  'compileCpuSeconds',
  'maxLibrarySizeMb',
  'compileProcesses',
  'cacheMaxSizeMb',
]);

export const DEFAULTS: { [K in keyof ResolvedConfig]: ResolvedConfig[K] } = {
  home: path.join(os.homedir(), '.plrust'),
  rustc: undefined,
  cargo: undefined,
  rustSrc: undefined,
  distServer: 'https://static.rust-lang.org',
  targets: [...ARCHES],
  outDir: 'target/plrust',
  pgConfig: undefined,
  downloadTimeoutMs: 30_000,
  downloadRetries: 4,
  // the compiler's limits (src/confine/plan.ts DEFAULT_LIMITS) and the CLI's cache bound
  compileMemoryMb: 1024,
  compileCpuSeconds: 60,
  maxLibrarySizeMb: 16,
  compileProcesses: 64,
  cacheMaxSizeMb: 1024,
};

/** Environment variable for each key; values are parsed with the same schema. */
export const ENV_VARS: { [K in ConfigKey]-?: string } = {
  home: 'PLRUST_HOME',
  rustc: 'PLRUST_RUSTC',
  cargo: 'PLRUST_CARGO',
  rustSrc: 'PLRUST_RUST_SRC',
  distServer: 'PLRUST_DIST_SERVER',
  targets: 'PLRUST_TARGETS',
  outDir: 'PLRUST_OUT_DIR',
  pgConfig: 'PLRUST_PG_CONFIG',
  downloadTimeoutMs: 'PLRUST_DOWNLOAD_TIMEOUT_MS',
  downloadRetries: 'PLRUST_DOWNLOAD_RETRIES',
  compileMemoryMb: 'PLRUST_COMPILE_MEMORY_MB',
  compileCpuSeconds: 'PLRUST_COMPILE_CPU_SECONDS',
  maxLibrarySizeMb: 'PLRUST_MAX_LIBRARY_SIZE_MB',
  compileProcesses: 'PLRUST_COMPILE_PROCESSES',
  cacheMaxSizeMb: 'PLRUST_CACHE_MAX_SIZE_MB',
};

/** Keys whose relative paths are resolved against the file that set them. */
export const PATH_KEYS: ReadonlySet<ConfigKey> = new Set<ConfigKey>(['home', 'rustc', 'cargo', 'pgConfig']);

/** `all` or a comma list → validated architectures. */
export function parseTargets(text: string): Arch[] | string {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 1 && items[0] === 'all') return [...ARCHES];
  const bad = items.filter((i) => !(ARCHES as readonly string[]).includes(i));
  if (bad.length > 0 || items.length === 0)
    return `unknown target ${bad.join(', ') || '(empty)'}; expected x86_64, aarch64 or all`;
  return [...new Set(items)] as Arch[];
}
