/** `plrust install` and `plrust uninstall`: output for people and scripts. */
import type { Context } from '../context.js';
import { usageError } from '../../util/errors.js';
import { install as runInstall } from '../../install/install-extension.js';
import { uninstall as runUninstall } from '../../install/uninstall-extension.js';
import { DEFAULT_SERVER_USER } from '../../install/server-user.js';

interface Flags {
  pgdata?: string;
  dryRun?: boolean;
  prebuilt?: string;
  serverUser?: string;
  toolchain?: string;
}

function pgConfigOf(ctx: Context): string {
  const p = ctx.config.values.pgConfig;
  if (!p)
    throw usageError(
      'PG_CONFIG_REQUIRED',
      'which PostgreSQL? --pg-config is required',
      'pass --pg-config /usr/lib/postgresql/<major>/bin/pg_config (or set pgConfig in the configuration)',
    );
  return p;
}

export async function install(ctx: Context, opts: Flags): Promise<void> {
  const report = await runInstall(ctx.home, ctx.out, {
    pgConfig: pgConfigOf(ctx),
    ...(opts.pgdata ? { pgdata: opts.pgdata } : {}),
    dryRun: opts.dryRun === true,
    ...(opts.prebuilt ? { prebuilt: opts.prebuilt } : {}),
    serverUser: opts.serverUser ?? DEFAULT_SERVER_USER,
    ...(opts.toolchain ? { toolchain: opts.toolchain } : {}),
  });
  ctx.out.result(report, (print) => {
    print(
      `${report.dryRun ? 'would install' : 'installed'} PL/Rust into PostgreSQL ${report.pg.version} (${report.pg.pgConfig})`,
    );
    const counts = new Map<string, number>();
    for (const f of report.files) {
      const verb = 'action' in f ? f.action : 'write';
      if (f.role === 'toolchain' || f.role === 'prebuilt')
        counts.set(`${f.role} files`, (counts.get(`${f.role} files`) ?? 0) + 1);
      else print(`  ${verb.padEnd(9)} ${'dest' in f ? f.dest : f.path}`);
    }
    for (const [k, n] of counts) print(`  ${n} ${k}`);
    print(
      `  toolchain: ${report.toolchain ?? 'none (prebuilt functions only)'}${report.serverHome ? ` read by the server from ${report.serverHome}` : ''}`,
    );
    if (report.conf) {
      const c = report.conf;
      print(
        `  ${c.file}: ${c.change}${c.takeEffect === 'nothing' ? '' : ` — ${c.takeEffect} the server for it to take effect (${c.takeEffect === 'reload' ? 'SELECT pg_reload_conf()' : 'pg_ctl restart'})`}`,
      );
    }
    for (const n of report.notes) print(`  note: ${n}`);
    if (!report.dryRun) print('next: CREATE EXTENSION plrust; in any database of this installation');
  });
}

export async function uninstall(ctx: Context, opts: Flags): Promise<void> {
  const report = await runUninstall(ctx.home, ctx.out, {
    pgConfig: pgConfigOf(ctx),
    ...(opts.pgdata ? { pgdata: opts.pgdata } : {}),
  });
  ctx.out.result(report, (print) => {
    const by = (r: string) => report.files.filter((f) => f.result === r).length;
    print(
      `uninstalled PL/Rust from ${report.pgConfig}: ${by('removed')} files removed, ${by('restored')} restored, ${by('missing')} already gone`,
    );
    for (const c of report.conf)
      if (c.change === 'removed') print(`  ${c.file}: plrust settings removed — ${c.takeEffect} the server`);
    for (const w of report.warnings) ctx.out.warn(w);
  });
}
