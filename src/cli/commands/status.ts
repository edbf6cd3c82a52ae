/** `plrust status`: a quick summary of what is installed; exits 1 when something recorded is damaged. */
import type { Context } from '../context.js';
import { PlrustError, ExitCode } from '../../util/errors.js';
import { collectStatus } from '../../doctor/status.js';

export async function status(ctx: Context): Promise<void> {
  const report = await collectStatus(ctx.home);
  if (ctx.out.opts.json) {
    // One document either way; the exit code says whether everything recorded is intact.
    ctx.out.result(report, () => undefined);
    if (!report.ok) process.exitCode = ExitCode.Failed;
    return;
  }
  const { paint } = ctx.out;
  const yesNo = (ok: boolean, yes: string, no: string) => (ok ? paint.green(yes) : paint.red(no));
  ctx.out.result(report, (print) => {
    print(`plrust ${report.plrustVersion}, home ${report.home}`);
    print('toolchains:');
    if (report.toolchains.length === 0) print('  none (run `plrust toolchain install`)');
    for (const t of report.toolchains) {
      print(
        `  ${t.id}${t.default ? ' (default)' : ''}${t.healthy ? '' : paint.red(' [damaged: no manifest]')}${
          t.rustc ? `  rustc ${t.rustc.version} ${t.rustc.path}${t.rustc.present ? '' : paint.red(' [missing]')}` : ''
        }`,
      );
      for (const x of t.targets)
        print(
          `    ${x.triple}: sysroot ${yesNo(x.sysrootPresent, 'present', 'missing')}, runtime ${
            x.runtime === 'current' ? 'current' : paint.yellow('outdated (run `plrust toolchain install`)')
          }`,
        );
    }
    print('PostgreSQL installs:');
    if (report.installs.length === 0) print('  none (run `plrust install --pg-config …`)');
    for (const i of report.installs) {
      print(`  PostgreSQL ${i.pgVersion}  ${i.pgConfig}${i.pgConfigPresent ? '' : paint.red(' [pg_config gone]')}`);
      print(`    installed ${i.installedAt} by plrust ${i.plrustVersion}`);
      if (i.toolchain)
        print(`    toolchain ${i.toolchain}${i.toolchainPresent === false ? paint.red(' [not installed]') : ''}`);
      for (const f of i.handler) print(`    ${f.path}: ${f.state === 'ok' ? paint.green('ok') : paint.red(f.state)}`);
      if (i.workDir) print(`    work dir ${i.workDir}`);
      for (const c of i.conf) print(`    settings in ${c}`);
      print(
        `    isolation: ${i.isolation.available ? paint.green('available') : `${paint.yellow('unavailable')} (${i.isolation.problems.join('; ')})`}`,
      );
    }
    const d = report.dependencies;
    print(
      `dependency store: ${d.units === 0 ? 'empty' : `${d.units} unit${d.units === 1 ? '' : 's'}: ${d.crates.join(', ')} for ${d.triples.join(', ')}`} (${d.path})`,
    );
    const iso = report.isolation;
    print(
      `host isolation: ${iso.available ? paint.green('available') : `${paint.yellow('unavailable')} (${iso.problems.join('; ')})`}`,
    );
  });
  if (!report.ok)
    throw new PlrustError({
      code: 'INSTALL_DAMAGED',
      message: `${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}:\n  ${report.problems.join('\n  ')}`,
      hint: 'repair as each line says; `plrust doctor` checks the prerequisites',
    });
}
