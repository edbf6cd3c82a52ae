/**
 * Choosing the compiler: an explicit --rustc (or config) is used as given;
 * otherwise the rustc on PATH when it has a std source and restriction rules,
 * else another installed compiler that has both — with the reason kept so the
 * user learns why a different rustc was picked.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PlrustError, ExitCode } from '../util/errors.js';
import { candidateRustcPaths, cargoBeside, checkSupported, probeRustc, type RustcInfo } from './rustc-probe.js';
import { hasLocalSource } from './source.js';
import { loadRuleSets, planRestriction } from './restrict.js';
import { hostArch } from '../targets/definitions.js';
import {
  findToolchainFile,
  missingRustSrc,
  resolveRustupToolchain,
  rustupHome,
  toolchainAtPath,
  type RustupToolchain,
} from './rustup.js';

/** Where a compiler came from, as `toolchain list` shows it. */
export interface CompilerOrigin {
  kind: 'distribution' | 'rustup' | 'downloaded' | 'custom';
  /** The rustup toolchain name, the dist server, or nothing. */
  detail?: string;
}

export interface CompilerChoice {
  rustc: RustcInfo;
  cargo: string;
  reason: string;
  origin: CompilerOrigin;
}

function under(p: string, dir: string): boolean {
  const rel = path.relative(dir, p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** Judged by the sysroot, so rustup's shim on PATH counts as the rustup toolchain it runs. */
export function classifyOrigin(
  info: Pick<RustcInfo, 'sysroot' | 'path'>,
  places: { rustupHome: string; compilersDir?: string },
): CompilerOrigin {
  const toolchains = path.join(places.rustupHome, 'toolchains');
  if (places.compilersDir && (under(info.sysroot, places.compilersDir) || under(info.path, places.compilersDir)))
    return { kind: 'downloaded' };
  if (under(info.sysroot, toolchains))
    return { kind: 'rustup', detail: path.relative(toolchains, info.sysroot).split(path.sep)[0]! };
  if (info.sysroot === '/usr' || /^\/usr\/lib\/rust-\d/.test(info.sysroot)) return { kind: 'distribution' };
  return { kind: 'custom' };
}

function requireCargo(rustc: RustcInfo, explicit: string | undefined): string {
  const cargo = explicit ?? cargoBeside(rustc.path);
  if (!cargo || !fs.existsSync(cargo)) {
    throw new PlrustError({
      code: 'CARGO_NOT_FOUND',
      message: explicit ? `cargo not found at ${explicit}` : `no cargo beside ${rustc.path}`,
      hint: 'pass --cargo with the cargo that belongs to this rustc (Debian: cargo-web)',
      exitCode: ExitCode.Usage,
    });
  }
  return cargo;
}

async function coveredByRules(version: string): Promise<boolean> {
  try {
    planRestriction(await loadRuleSets(), version);
    return true;
  } catch {
    return false;
  }
}

/**
 * A rustup toolchain is usable only with its std source: its own rust-src
 * component, a system package of exactly its version, or --rust-src.
 */
async function fromRustup(
  tc: RustupToolchain,
  opts: { cargo?: string; rustSrc?: string; reason: string },
  origin: CompilerOrigin,
): Promise<CompilerChoice> {
  const rustc = await probeRustc(tc.rustc);
  checkSupported(rustc);
  if (opts.rustSrc === undefined && hasLocalSource(rustc) === undefined) throw missingRustSrc(tc);
  return { rustc, cargo: requireCargo(rustc, opts.cargo), reason: opts.reason, origin };
}

export interface CompilerRequest {
  rustc?: string;
  cargo?: string;
  rustSrc?: string;
  rustcOrigin: string;
  /** A rustup toolchain name (`stable`, `1.95.0`, `nightly-…`). */
  toolchain?: string;
  /** Where rust-toolchain.toml is searched from (upwards), when neither rustc nor toolchain is given. */
  cwd?: string;
  rustupHome?: string;
  /** PLRUST_HOME/compilers, so compilers fetched by `--download` are recognised. */
  compilersDir?: string;
}

export async function selectCompiler(opts: CompilerRequest): Promise<CompilerChoice> {
  const places = {
    rustupHome: opts.rustupHome ?? rustupHome(),
    ...(opts.compilersDir ? { compilersDir: opts.compilersDir } : {}),
  };
  const host = `${hostArch()}-unknown-linux-gnu`;
  if (opts.rustc) {
    const rustc = await probeRustc(opts.rustc);
    checkSupported(rustc);
    return {
      rustc,
      cargo: requireCargo(rustc, opts.cargo),
      reason: `${opts.rustcOrigin}`,
      origin: classifyOrigin(rustc, places),
    };
  }
  if (opts.toolchain) {
    const tc = resolveRustupToolchain(opts.toolchain, host, places.rustupHome);
    return fromRustup(
      tc,
      { ...opts, reason: `rustup toolchain ${tc.name} (--toolchain ${opts.toolchain})` },
      {
        kind: 'rustup',
        detail: tc.name,
      },
    );
  }
  const pinned = opts.cwd ? findToolchainFile(opts.cwd) : undefined;
  if (pinned) {
    const tc = pinned.path
      ? toolchainAtPath(pinned.path)
      : resolveRustupToolchain(pinned.channel!, host, places.rustupHome);
    return fromRustup(
      tc,
      { ...opts, reason: `rustup toolchain ${tc.name}, pinned by ${pinned.file}` },
      pinned.path ? { kind: 'custom', detail: tc.dir } : { kind: 'rustup', detail: tc.name },
    );
  }
  const seen = new Set<string>();
  const probed: RustcInfo[] = [];
  for (const p of candidateRustcPaths()) {
    try {
      const info = await probeRustc(p);
      const key = `${info.version}-${info.commitHash}-${info.sysroot}`;
      if (seen.has(key)) continue;
      seen.add(key);
      probed.push(info);
    } catch {
      // an unusable candidate is simply not a candidate
    }
  }
  const usable = probed.filter((r) => {
    try {
      checkSupported(r);
      return true;
    } catch {
      return false;
    }
  });
  if (usable.length === 0) {
    throw new PlrustError({
      code: 'RUSTC_NOT_FOUND',
      message: probed.length
        ? `no installed rustc is recent enough (found ${probed.map((p) => `${p.version} at ${p.path}`).join(', ')})`
        : 'no rustc found',
      hint: "install the Rust toolchain with its std source (scripts/setup-system.sh installs Debian's rustc-web, cargo-web and rust-web-src), or pass --rustc",
      exitCode: ExitCode.Usage,
    });
  }
  const first = usable[0]!;
  const good = async (r: RustcInfo) =>
    (opts.rustSrc !== undefined || hasLocalSource(r) !== undefined) && (await coveredByRules(r.version));
  if (await good(first))
    return {
      rustc: first,
      cargo: requireCargo(first, opts.cargo),
      reason: `first rustc found (${first.path})`,
      origin: classifyOrigin(first, places),
    };
  for (const other of usable.slice(1)) {
    if (await good(other)) {
      const src = hasLocalSource(other);
      const why = (await coveredByRules(first.version))
        ? 'has no std source installed'
        : 'is not covered by the std restriction rules';
      return {
        rustc: other,
        cargo: requireCargo(other, opts.cargo),
        reason: `rustc ${first.version} at ${first.path} ${why}; using rustc ${other.version} at ${other.path}${src ? `, whose std source is at ${src.location}` : ''}`,
        origin: classifyOrigin(other, places),
      };
    }
  }
  return {
    rustc: first,
    cargo: requireCargo(first, opts.cargo),
    reason: `rustc ${first.version} at ${first.path}; no installed compiler has a local std source, so it will be downloaded`,
    origin: classifyOrigin(first, places),
  };
}

/** One compiler found on the machine, and whether plrust can build a toolchain with it. */
export interface CompilerSurvey {
  path: string;
  version: string | undefined;
  origin: CompilerOrigin;
  usable: boolean;
  /** Why not, when not usable. */
  why?: string;
  fix?: string;
}

/**
 * Every compiler plrust would consider (PATH, the distribution's, rustup's
 * toolchains, those fetched with --download), each judged on its own: old
 * enough, covered by the rules, with a std source of its exact version.
 * rustup's shim stands for the toolchain it runs, named by its real path.
 */
export async function surveyCompilers(places: {
  rustupHome: string;
  compilersDir?: string;
}): Promise<CompilerSurvey[]> {
  const paths = candidateRustcPaths();
  const toolchains = path.join(places.rustupHome, 'toolchains');
  for (const dir of [toolchains, places.compilersDir]) {
    if (!dir || !fs.existsSync(dir)) continue;
    for (const n of fs.readdirSync(dir).sort()) {
      const p = path.join(dir, n, 'bin', 'rustc');
      if (fs.existsSync(p) && !paths.includes(p)) paths.push(p);
    }
  }
  const ruleSets = await loadRuleSets();
  const supported = ruleSets.map((s) => s.range).join(', ');
  const seen = new Set<string>();
  const out: CompilerSurvey[] = [];
  for (const p of paths) {
    let info: RustcInfo;
    try {
      info = await probeRustc(p);
    } catch (e) {
      out.push({
        path: p,
        version: undefined,
        origin: { kind: 'custom' },
        usable: false,
        why: (e as Error).message,
        fix: 'remove it from PATH, or repair it',
      });
      continue;
    }
    const real = path.join(info.sysroot, 'bin', 'rustc');
    const shown = fs.existsSync(real) ? real : p;
    if (seen.has(shown)) continue;
    seen.add(shown);
    const origin = classifyOrigin({ ...info, path: shown }, places);
    const base = { path: shown, version: info.version, origin };
    try {
      checkSupported(info);
    } catch (e) {
      out.push({ ...base, usable: false, why: (e as Error).message, fix: (e as PlrustError).hint ?? '' });
      continue;
    }
    if (!(await coveredByRules(info.version))) {
      out.push({
        ...base,
        usable: false,
        why: `rustc ${info.version} is not covered by the std restriction rules (they cover ${supported}${semverPrerelease(info.version) ? '; a nightly or beta std has moved on from the released source the rules are written against' : ''})`,
        fix: `use a stable rustc in ${supported}, e.g. \`plrust toolchain install <version> --download\``,
      });
      continue;
    }
    if (hasLocalSource(info) === undefined) {
      out.push({
        ...base,
        usable: false,
        why: `no std source of exactly rustc ${info.version} on this machine (rust-src component, /usr/src/rustc-${info.version}, /usr/lib/rustlib/src)`,
        fix:
          origin.kind === 'rustup'
            ? `rustup component add rust-src --toolchain ${origin.detail}`
            : `install the std source of rustc ${info.version} and pass it with --rust-src <its library/ directory>`,
      });
      continue;
    }
    out.push({ ...base, usable: true });
  }
  return out;
}

function semverPrerelease(version: string): boolean {
  return /-/.test(version);
}
