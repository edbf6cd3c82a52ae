/**
 * The real `plrust install` into the test PostgreSQL installation, from a
 * private PLRUST_HOME per test file: its install manifest, backups and
 * server work directory are its own, so one file's uninstall puts back
 * exactly what was there before it (another file's install, the handler
 * tests' `make install`, or nothing). The suite's shared toolchain is used
 * through hard links, read-only. Whatever a test file leaves installed is
 * uninstalled when its process exits, so a failed run does not leave the
 * installation pointing at a removed home.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PLRUST_BIN, cleanEnv, parseJson, runPlrust, type RunResult } from './cli.js';
import { sharedToolchain } from './toolchain.js';
import { PG_CONFIG } from './pg-cluster.js';

const homesToUninstall = new Set<string>();
let exitHookInstalled = false;

function uninstallAtExit(home: string): void {
  homesToUninstall.add(home);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Registered before the home's own removal hook (tempHome), so it still finds the manifest.
  process.once('exit', () => {
    for (const h of homesToUninstall) {
      if (!hasInstallRecord(h)) continue;
      spawnSync(process.execPath, [PLRUST_BIN, 'uninstall', '--pg-config', PG_CONFIG, '--quiet'], {
        env: cleanEnv({ PLRUST_HOME: h }),
        stdio: 'ignore',
      });
    }
  });
}

function hasInstallRecord(home: string): boolean {
  const dir = path.join(home, 'installs');
  return fs.existsSync(dir) && fs.readdirSync(dir).length > 0;
}

/**
 * A fresh PLRUST_HOME under /tmp, removed when the process exits. The
 * server's OS user can read it (and so the toolchain, through plrust.home)
 * unless `serverReadable` is false, as with root's own ~/.plrust. With
 * `toolchain`, it uses the suite's shared toolchain and build cache.
 */
export async function tempHome(name: string, opts: { toolchain: boolean; serverReadable?: boolean }): Promise<string> {
  const shared = opts.toolchain ? await sharedToolchain() : undefined;
  const home = fs.mkdtempSync(path.join('/tmp', `plrust-e2e-${name}-`));
  fs.chmodSync(home, opts.serverReadable === false ? 0o700 : 0o755);
  uninstallAtExit(home);
  process.on('exit', () => fs.rmSync(home, { recursive: true, force: true }));
  if (shared) {
    // Hard links, not a symlink: the shared home may sit in a directory the server cannot enter
    // (scripts/test.sh makes it with mktemp -d), and a copy would cost seconds per home.
    const dest = path.join(home, 'toolchains');
    const copy = (flags: string) =>
      spawnSync('cp', [flags, path.join(shared.home, 'toolchains'), dest], { encoding: 'utf8' });
    let cp = copy('-al');
    if (cp.status !== 0) {
      // Hard links need one filesystem: a PLRUST_TEST_CACHE on another mount is copied instead.
      fs.rmSync(dest, { recursive: true, force: true });
      cp = copy('-a');
    }
    if (cp.status !== 0) throw new Error(`cannot put the shared toolchain into ${home}: ${cp.stderr}`);
    // A freshly built shared home has no cache yet: the link must not dangle.
    fs.mkdirSync(path.join(shared.home, 'cache'), { recursive: true, mode: 0o755 });
    fs.symlinkSync(path.join(shared.home, 'cache'), path.join(home, 'cache'));
  }
  return home;
}

/** The `--json` report of `plrust install` (src/install/install-extension.ts InstallReport). */
export interface InstallJson {
  ok: true;
  dryRun: boolean;
  pg: { pgConfig: string; version: string; pkglibdir: string; sharedir: string };
  toolchain?: string;
  serverHome?: string;
  workDir: string;
  compiler: string[];
  manifest: string;
  notes: string[];
  files: { path?: string; dest?: string; role: string; action?: 'create' | 'replace' | 'unchanged'; sha256?: string }[];
  conf?: { file: string; backup: string; change: string; takeEffect: 'nothing' | 'reload' | 'restart' };
}

function failed(what: string, r: RunResult): Error {
  return new Error(`${what} failed (exit ${String(r.code)}):\n${r.stdout}\n${r.stderr}`);
}

/** `plrust install --pg-config <test PostgreSQL> --json ...args`; throws unless it succeeds. */
export async function installPlrust(
  home: string,
  args: string[] = [],
  opts: { cwd?: string } = {},
): Promise<InstallJson> {
  const r = await runPlrust(['install', '--pg-config', PG_CONFIG, '--json', ...args], {
    home,
    timeoutMs: 5 * 60_000,
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  });
  if (r.code !== 0) throw failed(`plrust install ${args.join(' ')}`, r);
  return parseJson<InstallJson>(r);
}

/** `plrust uninstall --pg-config <test PostgreSQL> --json ...args`; throws unless it succeeds. */
export async function uninstallPlrust(
  home: string,
  args: string[] = [],
): Promise<{
  files: { path: string; result: string }[];
  conf: { file: string; change: string; takeEffect: string }[];
  warnings: string[];
}> {
  const r = await runPlrust(['uninstall', '--pg-config', PG_CONFIG, '--json', ...args], { home, timeoutMs: 60_000 });
  if (r.code !== 0) throw failed(`plrust uninstall ${args.join(' ')}`, r);
  return parseJson(r);
}

/** sha256 (or 'dir', or the link target) of every entry under the given roots, keyed by path. */
export function treeChecksums(roots: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (p: string): void => {
    const st = fs.lstatSync(p);
    if (st.isSymbolicLink()) out.set(p, `link:${fs.readlinkSync(p)}`);
    else if (st.isDirectory()) {
      out.set(p, `dir:${(st.mode & 0o7777).toString(8)}`);
      for (const name of fs.readdirSync(p)) walk(path.join(p, name));
    } else
      out.set(p, `${(st.mode & 0o7777).toString(8)}:${createHash('sha256').update(fs.readFileSync(p)).digest('hex')}`);
  };
  for (const r of roots) if (fs.existsSync(r)) walk(r);
  return out;
}

/** The differences between two treeChecksums results, for assertion messages. */
export function treeDiff(before: Map<string, string>, after: Map<string, string>): string[] {
  const diff: string[] = [];
  for (const [p, v] of before) if (after.get(p) !== v) diff.push(after.has(p) ? `changed: ${p}` : `removed: ${p}`);
  for (const p of after.keys()) if (!before.has(p)) diff.push(`added: ${p}`);
  return diff;
}
