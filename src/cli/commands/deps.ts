/** `plrust deps list|check|build`: the administrator's view of the dependency allow-list. */
import path from 'node:path';
import type { Context } from '../context.js';
import { PlrustError, ExitCode } from '../../util/errors.js';
import { resolveToolchain } from '../../toolchain/store.js';
import { entryStatuses, loadAllowList, type EntryStatus } from '../../deps/allowlist.js';
import { openSource, sourceLocation } from '../../deps/source.js';
import { ensureUnit } from '../../deps/store.js';
import { toolchainDirs } from '../../compile/compile-function.js';
import { buildConfinement } from './build.js';
import type { Arch } from '../../config/schema.js';

interface DepsOptions {
  allowed: string;
  dependencySource?: string;
  toolchain?: string;
  sandbox?: boolean;
}

async function statuses(ctx: Context, opts: DepsOptions): Promise<{ list: EntryStatus[]; source: string }> {
  const allow = loadAllowList(path.resolve(ctx.cwd, opts.allowed));
  const source = await openSource(sourceLocation(ctx.cwd, opts.dependencySource), [...allow.keys()]);
  return { list: entryStatuses(allow, source), source: source.location };
}

const describe = (s: EntryStatus) =>
  `${s.entry.name} "${s.entry.version}" features [${s.entry.features.join(', ')}]${s.entry.defaultFeatures ? '' : ' no default features'}: ${s.resolved ? s.resolved.version : 'not in the source'}`;

const asJson = (s: EntryStatus) => ({
  name: s.entry.name,
  version: s.entry.version,
  features: s.entry.features,
  defaultFeatures: s.entry.defaultFeatures,
  resolved: s.resolved?.version ?? null,
});

export async function list(ctx: Context, opts: DepsOptions): Promise<void> {
  const { list, source } = await statuses(ctx, opts);
  ctx.out.result({ ok: true, source, dependencies: list.map(asJson) }, (print) =>
    list.forEach((s) => print(describe(s))),
  );
}

function missingError(missing: EntryStatus[], source: string): PlrustError {
  return new PlrustError({
    code: 'DEPENDENCY_NOT_IN_SOURCE',
    message: `${missing.length} allowed dependenc${missing.length > 1 ? 'ies are' : 'y is'} not in ${source}: ${missing.map((s) => `${s.entry.name} "${s.entry.version}"`).join(', ')}`,
    hint: 'install the crates into the source (Debian: apt-get install librust-<name>-dev) or change the allow-list',
    exitCode: ExitCode.Failed,
  });
}

export async function check(ctx: Context, opts: DepsOptions): Promise<void> {
  const { list, source } = await statuses(ctx, opts);
  const missing = list.filter((s) => !s.resolved);
  if (missing.length) throw missingError(missing, source);
  ctx.out.result({ ok: true, source, dependencies: list.map(asJson) }, (print) =>
    print(`${list.length} allowed dependenc${list.length === 1 ? 'y' : 'ies'}, all in ${source}`),
  );
}

export async function build(ctx: Context, opts: DepsOptions & { target?: string }): Promise<void> {
  const { list, source } = await statuses(ctx, opts);
  const missing = list.filter((s) => !s.resolved);
  if (missing.length) throw missingError(missing, source);
  const tc = resolveToolchain(ctx.home, opts.toolchain);
  const arches: Arch[] = tc.manifest.targets
    .map((t) => t.arch)
    .filter((a) => !opts.target || opts.target.split(',').includes(a));
  const started = Date.now();
  const progress = await ctx.out.progress(`building ${list.length} allowed crates for ${arches.join(', ')}`);
  const built: { arch: Arch; crate: string; lib: string }[] = [];
  try {
    for (const arch of arches) {
      // One unit per entry: what a function naming that crate alone links (other sets build on first use).
      for (const s of list) {
        const unit = await ensureUnit([s.resolved!], tc, arch, {
          storeRoot: path.join(ctx.home.root, 'deps'),
          tmpRoot: ctx.home.tmp,
          confine: buildConfinement(ctx.config.values, opts.sandbox !== false),
          source,
          toolchainDirs: toolchainDirs(tc, tc.manifest.rustc.path),
        });
        built.push(...unit.crates.map((c) => ({ arch, crate: c.crate, lib: c.lib })));
      }
    }
  } catch (e) {
    progress.fail();
    throw e;
  }
  progress.done();
  const seconds = (Date.now() - started) / 1000;
  ctx.out.result({ ok: true, source, seconds, built }, (print) => {
    for (const b of built) print(`${b.arch}: ${b.crate} ${b.lib}`);
    print(`built ${list.length} crates for ${arches.join(', ')} in ${seconds.toFixed(1)} s`);
  });
}
