/**
 * The installed toolchains: toolchains/<id> is a symlink into
 * toolchains/.store/, swapped atomically on reinstall; toolchains/default
 * names the default one.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { HomeLayout } from '../util/home.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { PlrustError, ExitCode } from '../util/errors.js';
import { readManifest, type ToolchainManifest } from './manifest.js';
import type { ToolchainId } from './rustc-probe.js';
import type { Arch } from '../config/schema.js';

export function storeDir(home: HomeLayout): string {
  return path.join(home.toolchains, '.store');
}

export function toolchainPath(home: HomeLayout, id: string): string {
  return path.join(home.toolchains, id);
}

const ID_PATTERN = /^rust-\d+\.\d+\.\d+[\w.-]*-[0-9a-f]{8}$/;

export function listToolchains(
  home: HomeLayout,
): { id: ToolchainId; path: string; manifest: ToolchainManifest | undefined }[] {
  if (!fs.existsSync(home.toolchains)) return [];
  return fs
    .readdirSync(home.toolchains)
    .filter((n) => ID_PATTERN.test(n))
    .sort()
    .map((n) => ({
      id: n as ToolchainId,
      path: toolchainPath(home, n),
      manifest: readManifest(toolchainPath(home, n)),
    }));
}

export function getDefaultToolchain(home: HomeLayout): ToolchainId | undefined {
  try {
    const id = fs.readFileSync(home.defaultToolchainFile, 'utf8').trim();
    return id === '' ? undefined : (id as ToolchainId);
  } catch {
    return undefined;
  }
}

export function setDefaultToolchain(home: HomeLayout, id: string): void {
  writeFileAtomic(home.defaultToolchainFile, `${id}\n`);
}

export interface ResolvedToolchain {
  id: ToolchainId;
  dir: string;
  manifest: ToolchainManifest;
}

/** The toolchain a build uses: the one named, else the default. Errors say how to get one. */
export function resolveToolchain(home: HomeLayout, id?: string): ResolvedToolchain {
  const chosen = id ?? getDefaultToolchain(home);
  if (!chosen) {
    throw new PlrustError({
      code: 'NO_TOOLCHAIN',
      message: `no PL/Rust toolchain is installed in ${home.root}`,
      hint: 'run `plrust toolchain install` first',
      exitCode: ExitCode.Failed,
    });
  }
  const dir = toolchainPath(home, chosen);
  const manifest = readManifest(dir);
  if (!manifest) {
    throw new PlrustError({
      code: 'NO_TOOLCHAIN',
      message: `toolchain ${chosen} is not installed in ${home.root}`,
      hint: 'run `plrust toolchain list` to see what is installed, or `plrust toolchain install`',
      exitCode: ExitCode.Failed,
    });
  }
  return { id: chosen as ToolchainId, dir, manifest };
}

export function targetOf(tc: ResolvedToolchain, arch: Arch) {
  const t = tc.manifest.targets.find((x) => x.arch === arch);
  if (!t) {
    throw new PlrustError({
      code: 'TARGET_NOT_INSTALLED',
      message: `toolchain ${tc.id} has no ${arch} target (it has ${tc.manifest.targets.map((x) => x.arch).join(', ')})`,
      hint: `run \`plrust toolchain install --target ${arch}\``,
    });
  }
  return {
    ...t,
    specPath: path.join(tc.dir, t.spec),
    sysrootPath: path.join(tc.dir, t.sysroot),
    runtimePath: path.join(tc.dir, t.runtime),
  };
}

export function removeToolchain(home: HomeLayout, id: string): void {
  const link = toolchainPath(home, id);
  let target: string;
  try {
    target = path.resolve(home.toolchains, fs.readlinkSync(link));
  } catch {
    throw new PlrustError({
      code: 'NO_TOOLCHAIN',
      message: `toolchain ${id} is not installed`,
      hint: 'see `plrust toolchain list`',
      exitCode: ExitCode.Usage,
    });
  }
  fs.rmSync(link);
  fs.rmSync(target, { recursive: true, force: true });
  if (getDefaultToolchain(home) === id) fs.rmSync(home.defaultToolchainFile, { force: true });
}
