/** `plrust sandbox …` actions. */
import type { Context } from '../cli/context.js';
import * as sandbox from './sandbox.js';

const pg = (ctx: Context) => ctx.config.values.pgConfig;

export const start = async (ctx: Context) => {
  const st = await sandbox.up(ctx, pg(ctx));
  ctx.out.result({ ok: true, connection: sandbox.connection(st) }, (print) => print(`psql -h ${st.spec.socketDir} -p ${st.spec.port} -U postgres ${sandbox.SANDBOX_DB}`));
};
export const status = (ctx: Context) => sandbox.status(ctx, pg(ctx));
export const run = (ctx: Context, _o: object, args: string[]) => sandbox.run(ctx, pg(ctx), args);
export const psql = (ctx: Context) => sandbox.psqlShell(ctx, pg(ctx));
export const stop = (ctx: Context) => sandbox.stopSandbox(ctx, pg(ctx));
export const destroy = (ctx: Context) => sandbox.destroy(ctx, pg(ctx));
