/**
 * Choosing the compiler: an explicit --rustc (or config) is used as given;
 * otherwise the rustc on PATH when it has a std source and restriction rules,
 * else another installed compiler that has both — with the reason kept so the
 * user learns why a different rustc was picked.
 */
import fs from 'node:fs';
import { PlrustError, ExitCode } from '../util/errors.js';
import { candidateRustcPaths, cargoBeside, checkSupported, probeRustc, type RustcInfo } from './rustc-probe.js';
import { hasLocalSource } from './source.js';
import { loadRuleSets, planRestriction } from './restrict.js';

export interface CompilerChoice {
  rustc: RustcInfo;
  cargo: string;
  reason: string;
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

export async function selectCompiler(opts: {
  rustc?: string;
  cargo?: string;
  rustSrc?: string;
  rustcOrigin: string;
}): Promise<CompilerChoice> {
  if (opts.rustc) {
    const rustc = await probeRustc(opts.rustc);
    checkSupported(rustc);
    return { rustc, cargo: requireCargo(rustc, opts.cargo), reason: `${opts.rustcOrigin}` };
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
    return { rustc: first, cargo: requireCargo(first, opts.cargo), reason: `first rustc found (${first.path})` };
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
      };
    }
  }
  return {
    rustc: first,
    cargo: requireCargo(first, opts.cargo),
    reason: `rustc ${first.version} at ${first.path}; no installed compiler has a local std source, so it will be downloaded`,
  };
}
