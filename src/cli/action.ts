import type { Command } from 'commander';
import { createContext, outputFor, type Context, type GlobalFlags } from './context.js';
import type { ConfigFile, ConfigKey } from '../config/schema.js';

export type Action<O> = (ctx: Context, opts: O, args: string[]) => Promise<void>;

/**
 * Wraps an implementation so that it gets a context, and every failure is
 * reported the same way with the right exit code.
 */
export function action<O extends object>(
  load: () => Promise<Action<O>>,
  configFlags?: (opts: Record<string, unknown>) => ConfigFile,
) {
  return async (...params: unknown[]): Promise<void> => {
    const cmd = params[params.length - 1] as Command;
    const opts = cmd.optsWithGlobals() as O & GlobalFlags;
    const args = cmd.args;
    const out = outputFor(opts);
    try {
      const ctx = await createContext(out, opts, configFlags ? configFlags(opts as Record<string, unknown>) : {});
      const run = await load();
      await run(ctx, opts, args);
    } catch (e) {
      process.exitCode = out.error(e);
    }
  };
}

/** Command options that are also configuration keys: given on the command line, they win over every other source. */
export function configFromFlags(...keys: ConfigKey[]) {
  return (opts: Record<string, unknown>): ConfigFile => {
    const out: Record<string, unknown> = {};
    for (const k of keys) if (opts[k] !== undefined) out[k] = opts[k];
    return out as ConfigFile;
  };
}
