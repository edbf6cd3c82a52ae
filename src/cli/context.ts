/**
 * What every command receives: the output channel and the resolved
 * configuration. Built once per run, after commander has parsed the flags.
 */
import { Output, detectOutputOptions } from '../util/output.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import type { ConfigFile } from '../config/schema.js';
import { homeLayout, type HomeLayout } from '../util/home.js';

export interface GlobalFlags {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  color?: boolean;
  home?: string;
  config?: string;
}

export interface Context {
  out: Output;
  config: LoadedConfig;
  home: HomeLayout;
  cwd: string;
}

export function outputFor(flags: GlobalFlags): Output {
  return new Output(detectOutputOptions(flags));
}

export async function createContext(out: Output, flags: GlobalFlags, commandFlags: ConfigFile = {}): Promise<Context> {
  await out.init();
  const cwd = process.cwd();
  const config = await loadConfig({
    cwd,
    flags: { ...commandFlags, ...(flags.home ? { home: flags.home } : {}) },
    ...(flags.config ? { configFile: flags.config } : {}),
  });
  return { out, config, home: homeLayout(config.values.home), cwd };
}
