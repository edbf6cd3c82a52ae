/** `plrust uninstall`: undoes exactly what the install manifest lists. */
import fs from 'node:fs';
import path from 'node:path';
import type { HomeLayout } from '../util/home.js';
import type { Reporter } from '../util/output.js';
import { PlrustError, ExitCode } from '../util/errors.js';
import { acquireLock } from '../util/lock.js';
import { revertFile } from './apply.js';
import { installDir, readInstallManifest } from './manifest.js';
import { removeConf, type ConfOutcome } from './conf-file.js';

export interface UninstallReport {
  ok: true;
  pgConfig: string;
  files: { path: string; result: Awaited<ReturnType<typeof revertFile>> }[];
  conf: ConfOutcome[];
  warnings: string[];
}

export async function uninstall(
  home: HomeLayout,
  report: Reporter,
  opts: { pgConfig: string; pgdata?: string },
): Promise<UninstallReport> {
  const m = readInstallManifest(home, opts.pgConfig);
  if (!m) {
    throw new PlrustError({
      code: 'NOT_INSTALLED',
      message: `plrust has no record of an install into ${opts.pgConfig} (in ${home.root})`,
      hint: 'pass the same --pg-config and --home that `plrust install` used',
      exitCode: ExitCode.Failed,
    });
  }
  const dir = installDir(home, opts.pgConfig);
  const release = await acquireLock(home.locks, `install-${path.basename(dir)}`, {
    noWait: false,
    what: 'an install into this PostgreSQL',
    onWait: (msg) => report.info(msg),
  });
  try {
    const warnings: string[] = [];
    const files: UninstallReport['files'] = [];
    // Reverse order: prebuilt and toolchain files before the handler that uses them.
    for (const f of [...m.files].reverse()) {
      const result = await revertFile(f);
      if (result === 'modified') warnings.push(`${f.path} changed since plrust installed it; left as it is`);
      files.push({ path: f.path, result });
    }
    for (const d of [...m.createdDirs].sort((a, b) => b.length - a.length)) {
      try {
        fs.rmdirSync(d);
      } catch {
        // not empty (someone else's files) or already gone: leave it
      }
    }
    if (m.workDir) fs.rmSync(m.workDir, { recursive: true, force: true });
    const pgdatas = new Set(m.conf.map((c) => c.pgdata));
    if (opts.pgdata) pgdatas.add(path.resolve(opts.pgdata));
    const conf = [...pgdatas].filter((p) => fs.existsSync(path.join(p, 'postgresql.conf'))).map((p) => removeConf(p));
    fs.rmSync(dir, { recursive: true, force: true });
    return { ok: true, pgConfig: m.pgConfig, files, conf, warnings };
  } finally {
    await release();
  }
}
