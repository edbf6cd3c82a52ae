/**
 * rustup's toolchains as plrust sees them: a name (`stable`, `1.95.0`,
 * `nightly-2026-05-19`, or the full `stable-x86_64-unknown-linux-gnu`)
 * resolved to a directory under RUSTUP_HOME/toolchains, or the toolchain a
 * project pins with rust-toolchain.toml. rustup itself is not run: its
 * directory layout is the interface, and a toolchain linked with
 * `rustup toolchain link` is a directory there like any other.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PlrustError, ExitCode } from '../util/errors.js';

export interface RustupToolchain {
  /** The directory name under toolchains/, the name rustup's own commands accept. */
  name: string;
  dir: string;
  rustc: string;
  cargo: string;
  /** `library/` of the rust-src component, when it is installed. */
  rustSrc: string | undefined;
}

export interface ToolchainFile {
  file: string;
  /** A channel (`stable`, `1.95.0`, `nightly-…`), when the file names one. */
  channel?: string;
  /** A toolchain directory given by path instead of a channel. */
  path?: string;
}

export function rustupHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.RUSTUP_HOME ?? path.join(os.homedir(), '.rustup');
}

export function rustSrcOf(toolchainDir: string): string | undefined {
  const lib = path.join(toolchainDir, 'lib', 'rustlib', 'src', 'rust', 'library');
  return fs.existsSync(path.join(lib, 'std', 'Cargo.toml')) ? lib : undefined;
}

export function installedRustupToolchains(home = rustupHome()): string[] {
  const dir = path.join(home, 'toolchains');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((n) => fs.existsSync(path.join(dir, n, 'bin', 'rustc')))
    .sort();
}

/** The name rustup would complete `name` to on this host: `stable` is `stable-<host>`. */
export function resolveRustupToolchain(name: string, hostTriple: string, home = rustupHome()): RustupToolchain {
  if (!/^[\w.+-]+$/.test(name)) {
    throw new PlrustError({
      code: 'RUSTUP_TOOLCHAIN_INVALID',
      message: `'${name}' is not a rustup toolchain name`,
      hint: 'give a channel such as stable, beta, 1.95.0 or nightly-2026-05-19',
      exitCode: ExitCode.Usage,
    });
  }
  const root = path.join(home, 'toolchains');
  for (const candidate of [name, `${name}-${hostTriple}`]) {
    const dir = path.join(root, candidate);
    const rustc = path.join(dir, 'bin', 'rustc');
    if (fs.existsSync(rustc)) return fromDir(candidate, dir);
  }
  const installed = installedRustupToolchains(home);
  throw new PlrustError({
    code: 'RUSTUP_TOOLCHAIN_NOT_FOUND',
    message: `rustup toolchain '${name}' is not installed in ${root}${installed.length ? ` (installed: ${installed.join(', ')})` : ''}`,
    hint: `install it with: rustup toolchain install ${name} --component rust-src`,
    exitCode: ExitCode.Usage,
    data: { toolchain: name, rustupHome: home, installed },
  });
}

/** A toolchain directory named by path (rust-toolchain.toml's `path`). */
export function toolchainAtPath(dir: string): RustupToolchain {
  const abs = path.resolve(dir);
  if (!fs.existsSync(path.join(abs, 'bin', 'rustc'))) {
    throw new PlrustError({
      code: 'RUSTUP_TOOLCHAIN_NOT_FOUND',
      message: `the toolchain directory ${abs} has no bin/rustc`,
      hint: 'point `path` in rust-toolchain.toml at a toolchain directory (one with bin/rustc and lib/rustlib)',
      exitCode: ExitCode.Usage,
    });
  }
  return fromDir(abs, abs);
}

function fromDir(name: string, dir: string): RustupToolchain {
  return {
    name,
    dir,
    rustc: path.join(dir, 'bin', 'rustc'),
    cargo: path.join(dir, 'bin', 'cargo'),
    rustSrc: rustSrcOf(dir),
  };
}

/** The error for a rustup toolchain without its std source: the one command that fixes it. */
export function missingRustSrc(tc: RustupToolchain): PlrustError {
  return new PlrustError({
    code: 'RUST_SRC_MISSING',
    message: `rustup toolchain ${tc.name} has no std source (its rust-src component is not installed)`,
    hint: `rustup component add rust-src --toolchain ${tc.name}`,
    exitCode: ExitCode.Usage,
    data: { toolchain: tc.name, dir: tc.dir },
  });
}

/**
 * Reads the `[toolchain]` table of rust-toolchain.toml, or the legacy
 * `rust-toolchain` file (a bare channel name, or the same TOML). Only the
 * string keys plrust uses are read; a file that names neither a channel nor
 * a path is an error rather than silently ignored.
 */
export function parseToolchainFile(file: string, text: string): ToolchainFile {
  const trimmed = text.trim();
  if (path.basename(file) === 'rust-toolchain' && /^[\w.+-]+$/.test(trimmed)) return { file, channel: trimmed };
  let table = '';
  const out: ToolchainFile = { file };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const header = /^\[\s*([\w.-]+)\s*\]$/.exec(line);
    if (header) {
      table = header[1]!;
      continue;
    }
    if (table !== 'toolchain') continue;
    const kv = /^(channel|path)\s*=\s*(?:"([^"]*)"|'([^']*)')$/.exec(line);
    if (kv) out[kv[1] as 'channel' | 'path'] = kv[2] ?? kv[3]!;
  }
  if (out.channel === undefined && out.path === undefined) {
    throw new PlrustError({
      code: 'TOOLCHAIN_FILE_INVALID',
      message: `${file} names no toolchain: expected channel = "…" or path = "…" in its [toolchain] table`,
      hint: 'write e.g. [toolchain] channel = "1.95.0" components = ["rust-src"], or pass --rustc / --toolchain',
      exitCode: ExitCode.Usage,
    });
  }
  if (out.path !== undefined) out.path = path.resolve(path.dirname(file), out.path);
  return out;
}

/**
 * A toolchain file picks the compiler that builds std, so it must come from
 * someone the installing user already trusts: owned by that user or root,
 * in a directory only they can write. Otherwise anyone who can write to a
 * shared parent such as /tmp could hand the install a compiler of their own.
 */
export function untrustedToolchainFile(file: string, uid = process.getuid?.() ?? 0): string | undefined {
  for (const p of [file, path.dirname(file)]) {
    const st = fs.statSync(p);
    if (st.uid !== uid && st.uid !== 0) return `${p} is owned by uid ${st.uid}`;
    if ((st.mode & 0o022) !== 0) return `${p} is writable by ${st.mode & 0o002 ? 'every user' : 'its group'}`;
  }
  return undefined;
}

/** rust-toolchain.toml (or rust-toolchain) in `start` or the nearest directory above it, as rustup searches. */
export function findToolchainFile(start: string): ToolchainFile | undefined {
  let dir = path.resolve(start);
  for (;;) {
    for (const name of ['rust-toolchain', 'rust-toolchain.toml']) {
      const file = path.join(dir, name);
      if (fs.existsSync(file) && fs.statSync(file).isFile()) {
        const why = untrustedToolchainFile(file);
        if (why !== undefined) {
          throw new PlrustError({
            code: 'TOOLCHAIN_FILE_UNTRUSTED',
            message: `refusing ${file}: ${why}, so another user could choose the compiler`,
            hint: 'name the compiler with --toolchain or --rustc, or make the file and its directory writable by you alone',
            exitCode: ExitCode.Usage,
          });
        }
        return parseToolchainFile(file, fs.readFileSync(file, 'utf8'));
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}
