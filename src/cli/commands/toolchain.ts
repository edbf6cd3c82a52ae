/** The `plrust toolchain …` actions: thin shells over install.ts and store.ts. */
import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../context.js';
import { PlrustError, ExitCode, usageError } from '../../util/errors.js';
import { parseTargets, type Arch } from '../../config/schema.js';
import { installToolchain, type InstallOutcome } from '../../toolchain/install-toolchain.js';
import { installDistCompiler, type InstalledCompiler } from '../../toolchain/dist.js';
import { hostArch } from '../../targets/definitions.js';
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
  opts: {
    target?: string;
    rustc?: string;
    cargo?: string;
    rustSrc?: string;
    toolchain?: string;
    download?: boolean;
    force?: boolean;
    wait?: boolean;
  },
  args: string[],
): Promise<void> {
  const version = args[0];
  const v = ctx.config.values;
  const download = {
    distServer: v.distServer,
    timeoutMs: v.downloadTimeoutMs,
    retries: v.downloadRetries,
  };
  if (version !== undefined && !opts.download) {
    throw usageError(
      'VERSION_NEEDS_DOWNLOAD',
      `a version (${version}) is only taken with --download`,
      `run \`plrust toolchain install ${version} --download\` to fetch rustc ${version} from ${v.distServer}, or \`--toolchain ${version}\` to use rustup's toolchain of that name`,
    );
  }
  if (opts.download && version === undefined)
    throw usageError(
      'DOWNLOAD_NEEDS_VERSION',
      '--download needs the Rust version to fetch',
      'for example: plrust toolchain install 1.96.0 --download',
    );
  if (opts.download && (v.rustc || opts.toolchain))
    throw usageError('CONFLICTING_COMPILERS', '--download fetches its own compiler: leave out --rustc and --toolchain');
  if (opts.toolchain && v.rustc)
    throw usageError('CONFLICTING_COMPILERS', '--toolchain and --rustc both name a compiler: give one of them');

  let fetched: InstalledCompiler | undefined;
  if (opts.download && version !== undefined) {
    const bars = new Map<string, Awaited<ReturnType<typeof ctx.out.progress>>>();
    try {
      fetched = await installDistCompiler(ctx.home, {
        version,
        host: `${hostArch()}-unknown-linux-gnu`,
        ...download,
        noWait: opts.wait === false,
        onInfo: (m) => ctx.out.debug(m),
        onProgress: (pkg, p) => {
          const bar = bars.get(pkg);
          if (bar) bar.update(p);
          else void ctx.out.progress(`downloading ${pkg} ${version}`).then((b) => bars.set(pkg, b));
        },
        onRetry: (n) => ctx.out.warn(`attempt ${n.attempt} failed (${n.reason}); retrying in ${n.delayMs} ms`),
      });
    } finally {
      for (const b of bars.values()) b.done();
    }
    ctx.out.info(
      fetched.status === 'installed'
        ? `rustc ${version} fetched from ${v.distServer} into ${fetched.dir}`
        : `rustc ${version} is already in ${fetched.dir}`,
    );
  }
  const rustcSrc = ctx.config.sources.rustc;
  const outcome: InstallOutcome = await installToolchain(ctx.home, ctx.out, {
    targets: targetsFrom(ctx, opts.target),
    ...(fetched
      ? { rustc: fetched.rustc, cargo: fetched.cargo, rustcOrigin: `downloaded from ${fetched.distServer}` }
      : {
          ...(v.rustc ? { rustc: v.rustc } : {}),
          ...(v.cargo ? { cargo: v.cargo } : {}),
          rustcOrigin:
            rustcSrc.source === 'flag' ? 'given with --rustc' : `set by ${rustcSrc.origin ?? rustcSrc.source}`,
        }),
    ...(v.rustSrc ? { rustSrc: v.rustSrc } : {}),
    ...(opts.toolchain ? { toolchain: opts.toolchain } : {}),
    cwd: process.cwd(),
    force: opts.force === true,
    noWait: opts.wait === false,
    download,
  });
  ctx.out.result({ ok: true, ...outcome }, (print) => {
    if (outcome.status === 'unchanged') {
      print(`toolchain ${outcome.id} is already installed with ${outcome.targets.join(', ')} (use --force to rebuild)`);
      return;
    }
    const what = [
      ...(outcome.built.length > 0 ? [outcome.built.join(', ')] : []),
      ...(outcome.runtimeRebuilt?.length ? [`runtime crate rebuilt for ${outcome.runtimeRebuilt.join(', ')}`] : []),
    ].join('; ');
    print(
      `${ctx.out.paint.green(outcome.built.length > 0 ? 'installed' : 'updated')} toolchain ${outcome.id} (${what}) in ${outcome.seconds.toFixed(1)} s`,
    );
    print(`  compiler: ${outcome.compiler.path} ${outcome.compiler.version} — ${outcome.compiler.reason}`);
    print(`  origin:   ${originText(outcome.compiler.origin)}`);
    print(`  rules:    ${outcome.ruleSet}`);
    if (outcome.source) print(`  std source: ${outcome.source.location}`);
    print(`  location: ${outcome.path}${outcome.isDefault ? ' (default)' : ''}`);
  });
}

function originText(o: { kind: string; detail?: string | undefined } | undefined): string {
  if (!o) return 'unknown';
  return o.detail ? `${o.kind} (${o.detail})` : o.kind;
}

export async function list(ctx: Context): Promise<void> {
  const def = getDefaultToolchain(ctx.home);
  const items = listToolchains(ctx.home).map((t) => ({
    id: t.id,
    default: t.id === def,
    path: t.path,
    rustc: t.manifest?.rustc.version,
    origin: t.manifest?.origin,
    ruleSet: t.manifest?.rules.stdRuleSet,
    targets: t.manifest?.targets.map((x) => x.arch) ?? [],
    healthy: t.manifest !== undefined,
  }));
  ctx.out.result({ ok: true, toolchains: items }, (print) => {
    if (items.length === 0) print('no toolchains installed (run `plrust toolchain install`)');
    for (const i of items)
      print(
        `${i.id}${i.default ? ' (default)' : ''}  ${i.targets.join(', ')}${
          i.healthy ? `  origin: ${originText(i.origin)}  rules: ${i.ruleSet}` : '  [damaged: no manifest]'
        }`,
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
    origin: m.origin,
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
    print(`  origin:    ${originText(m.origin)}`);
    print(
      `  rules:     ${m.rules.stdRuleSet}: ${m.rules.std.length} std rules, ${m.rules.sourcePrep.length} source-prep rules`,
    );
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
