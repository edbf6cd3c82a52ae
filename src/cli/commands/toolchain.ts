/** The `plrust toolchain …` actions: thin shells over install.ts and store.ts. */
import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../context.js';
import { PlrustError, ExitCode, usageError } from '../../util/errors.js';
import { parseTargets, type Arch } from '../../config/schema.js';
import { installToolchain } from '../../toolchain/install-toolchain.js';
import {
  getDefaultToolchain,
  listToolchains,
  removeToolchain,
  resolveToolchain,
  setDefaultToolchain,
} from '../../toolchain/store.js';
import { acquireLock } from '../../util/lock.js';

function targetsFrom(ctx: Context, flag: string | undefined): Arch[] {
  if (flag === undefined) return ctx.config.values.targets;
  const t = parseTargets(flag);
  if (typeof t === 'string') throw usageError('BAD_TARGET', `--target: ${t}`);
  return t;
}

export async function install(
  ctx: Context,
  opts: { target?: string; rustc?: string; cargo?: string; rustSrc?: string; force?: boolean; wait?: boolean },
): Promise<void> {
  const rustcSrc = ctx.config.sources.rustc;
  const outcome = await installToolchain(ctx.home, ctx.out, {
    targets: targetsFrom(ctx, opts.target),
    ...(ctx.config.values.rustc ? { rustc: ctx.config.values.rustc } : {}),
    rustcOrigin: rustcSrc.source === 'flag' ? 'given with --rustc' : `set by ${rustcSrc.origin ?? rustcSrc.source}`,
    ...(ctx.config.values.cargo ? { cargo: ctx.config.values.cargo } : {}),
    ...(ctx.config.values.rustSrc ? { rustSrc: ctx.config.values.rustSrc } : {}),
    force: opts.force === true,
    noWait: opts.wait === false,
    download: {
      distServer: ctx.config.values.distServer,
      timeoutMs: ctx.config.values.downloadTimeoutMs,
      retries: ctx.config.values.downloadRetries,
    },
  });
  ctx.out.result({ ok: true, ...outcome }, (print) => {
    if (outcome.status === 'unchanged') {
      print(`toolchain ${outcome.id} is already installed with ${outcome.targets.join(', ')} (use --force to rebuild)`);
      return;
    }
    print(
      `${ctx.out.paint.green('installed')} toolchain ${outcome.id} (${outcome.built.join(', ')}) in ${outcome.seconds.toFixed(1)} s`,
    );
    print(`  compiler: ${outcome.compiler.path} ${outcome.compiler.version} — ${outcome.compiler.reason}`);
    if (outcome.source) print(`  std source: ${outcome.source.location}`);
    print(`  location: ${outcome.path}${outcome.isDefault ? ' (default)' : ''}`);
  });
}

export async function list(ctx: Context): Promise<void> {
  const def = getDefaultToolchain(ctx.home);
  const items = listToolchains(ctx.home).map((t) => ({
    id: t.id,
    default: t.id === def,
    path: t.path,
    rustc: t.manifest?.rustc.version,
    targets: t.manifest?.targets.map((x) => x.arch) ?? [],
    healthy: t.manifest !== undefined,
  }));
  ctx.out.result({ ok: true, toolchains: items }, (print) => {
    if (items.length === 0) print('no toolchains installed (run `plrust toolchain install`)');
    for (const i of items)
      print(
        `${i.id}${i.default ? ' (default)' : ''}  ${i.targets.join(', ')}${i.healthy ? '' : '  [damaged: no manifest]'}`,
      );
  });
}

export async function show(ctx: Context, _opts: object, args: string[]): Promise<void> {
  const tc = resolveToolchain(ctx.home, args[0]);
  const m = tc.manifest;
  const targets = m.targets.map((t) => ({
    arch: t.arch,
    triple: t.triple,
    spec: path.join(tc.dir, t.spec),
    sysroot: path.join(tc.dir, t.sysroot),
    runtime: path.join(tc.dir, t.runtime),
    linker: t.linker,
    sysrootBytes: m.files
      .filter((f) => f.path.startsWith(`sysroot/lib/rustlib/${t.triple}/`))
      .reduce((n, f) => n + f.size, 0),
  }));
  const data = {
    ok: true,
    id: tc.id,
    default: getDefaultToolchain(ctx.home) === tc.id,
    path: tc.dir,
    rustc: m.rustc,
    cargo: m.cargo,
    source: m.source,
    rules: m.rules,
    targets,
    plrustVersion: m.plrustVersion,
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
    fileCount: m.files.length,
    buildLog: path.join(tc.dir, 'build.log'),
  };
  ctx.out.result(data, (print) => {
    print(`${tc.id}${data.default ? ' (default)' : ''}`);
    print(`  path:      ${tc.dir}`);
    print(`  rustc:     ${m.rustc.version} (${m.rustc.commitHash.slice(0, 9)} ${m.rustc.commitDate}) ${m.rustc.path}`);
    print(`  source:    ${m.source.location}${m.source.sha256 ? ` (sha256 ${m.source.sha256.slice(0, 12)}…)` : ''}`);
    print(`  rules:     ${m.rules.std.length} std rules, ${m.rules.sourcePrep.length} source-prep rules`);
    for (const t of targets) {
      print(`  ${t.triple}`);
      print(`    target spec: ${t.spec}`);
      print(`    sysroot:     ${t.sysroot} (${(t.sysrootBytes / 1048576).toFixed(1)} MiB)`);
      print(`    linker:      ${t.linker}`);
    }
    print(`  build log: ${data.buildLog}`);
  });
}

export async function remove(ctx: Context, opts: { wait?: boolean }, args: string[]): Promise<void> {
  const id = args[0]!;
  const release = await acquireLock(ctx.home.locks, 'toolchains', {
    noWait: opts.wait === false,
    what: 'toolchain installs',
    onWait: (m) => ctx.out.info(m),
  });
  try {
    removeToolchain(ctx.home, id);
  } finally {
    await release();
  }
  ctx.out.result({ ok: true, removed: id }, (print) => print(`removed toolchain ${id}`));
}

export async function setDefault(ctx: Context, _opts: object, args: string[]): Promise<void> {
  const id = args[0]!;
  const tc = resolveToolchain(ctx.home, id);
  if (!fs.existsSync(tc.dir))
    throw new PlrustError({
      code: 'NO_TOOLCHAIN',
      message: `toolchain ${id} is not installed`,
      exitCode: ExitCode.Usage,
    });
  setDefaultToolchain(ctx.home, tc.id);
  ctx.out.result({ ok: true, default: tc.id }, (print) => print(`default toolchain: ${tc.id}`));
}
