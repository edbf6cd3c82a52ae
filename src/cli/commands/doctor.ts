/** `plrust doctor`: runs every check and exits non-zero when a required one fails. */
import os from 'node:os';
import type { Context } from '../context.js';
import { PlrustError, ExitCode } from '../../util/errors.js';
import {
  checkBuildTools,
  checkHome,
  checkLinker,
  checkNode,
  checkPostgres,
  checkQemu,
  checkRust,
  checkSandbox,
  type Finding,
} from '../../doctor/checks.js';
import { isolationFacts, isolationFinding } from '../../doctor/isolation.js';
import { probePgConfig } from '../../install/pg-config.js';
import { which } from '../../util/exec.js';

export async function doctor(ctx: Context): Promise<void> {
  const v = ctx.config.values;
  const findings: Finding[] = [
    checkNode(),
    ...(await checkRust({
      ...(v.rustc ? { rustc: v.rustc } : {}),
      ...(v.cargo ? { cargo: v.cargo } : {}),
      ...(v.rustSrc ? { rustSrc: v.rustSrc } : {}),
    })),
    ...v.targets.map((a) => checkLinker(a)),
    checkQemu(),
    await checkSandbox(os.tmpdir()),
    ...checkBuildTools(),
    ...(await checkPostgres(v.pgConfig, ctx.config.sources.pgConfig.source !== 'default')),
    checkHome(v.home),
  ];
  const pgConfig = v.pgConfig ?? which('pg_config');
  const pkglibdir = pgConfig
    ? await probePgConfig(pgConfig).then(
        (pg) => pg.pkglibdir,
        () => undefined,
      )
    : undefined;
  const isolation = await isolationFacts(pkglibdir);
  findings.push(isolationFinding(isolation));
  const failed = findings.filter((f) => f.status === 'fail' && f.required);
  const report = { ok: failed.length === 0, findings, isolation };
  if (ctx.out.opts.json) {
    // Machine readers get the whole report either way; the exit code says whether it passed.
    ctx.out.result(report, () => undefined);
    if (failed.length > 0) process.exitCode = ExitCode.Failed;
    return;
  }
  ctx.out.result(report, (print) => {
    const mark = {
      ok: ctx.out.paint.green('ok  '),
      warn: ctx.out.paint.yellow('warn'),
      fail: ctx.out.paint.red('FAIL'),
    };
    for (const f of findings) {
      print(`${mark[f.status]}  ${f.title}: ${f.detail}`);
      if (f.status !== 'ok' && f.fix) print(`      fix: ${f.fix}`);
    }
  });
  if (failed.length > 0) {
    throw new PlrustError({
      code: 'DOCTOR_FAILED',
      message: `${failed.length} required check${failed.length > 1 ? 's' : ''} failed: ${failed.map((f) => f.title).join(', ')}`,
      hint: 'apply the fixes above, or run scripts/setup-system.sh',
    });
  }
}
