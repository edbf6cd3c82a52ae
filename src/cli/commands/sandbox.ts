/** `plrust sandbox …` actions. */
import type { Context } from '../context.js';
import * as sandbox from '../../dev-cluster/dev-cluster.js';

const pg = (ctx: Context) => ctx.config.values.pgConfig;

export const start = async (ctx: Context) => {
  const st = await sandbox.up(ctx.home, ctx.out, pg(ctx));
  ctx.out.result({ ok: true, connection: sandbox.connection(st) }, (print) =>
    print(`psql -h ${st.spec.socketDir} -p ${st.spec.port} -U postgres ${sandbox.SANDBOX_DB}`),
  );
};

export const status = async (ctx: Context) => {
  const data = await sandbox.status(ctx.home, pg(ctx));
  const c = data.connection;
  ctx.out.result(data, (print) => {
    print(
      `sandbox (PostgreSQL ${c.pgVersion}): ${data.running ? 'running' : data.initialised ? 'stopped' : 'not created'}`,
    );
    print(`  psql -h ${c.host} -p ${c.port} -U postgres ${c.database}`);
    print(`  data: ${c.dataDir}; log: ${c.logFile}`);
  });
};

export const run = async (ctx: Context, _o: object, args: string[]) => {
  const echo = !ctx.out.opts.json && !ctx.out.opts.quiet;
  const data = await sandbox.run(ctx.home, ctx.out, pg(ctx), args, (r) => {
    if (!echo) return;
    process.stdout.write(r.output);
    process.stderr.write(r.messages);
  });
  ctx.out.result(data, () => undefined);
};

export const psql = async (ctx: Context) => {
  process.exitCode = await sandbox.psqlShell(ctx.home, ctx.out, pg(ctx));
};

export const stop = async (ctx: Context) => {
  await sandbox.stopSandbox(ctx.home, pg(ctx));
  ctx.out.result({ ok: true, stopped: true }, (print) => print('sandbox stopped'));
};

export const destroy = async (ctx: Context) => {
  const root = await sandbox.destroy(ctx.home, pg(ctx));
  ctx.out.result({ ok: true, destroyed: root }, (print) => print(`sandbox removed (${root})`));
};
