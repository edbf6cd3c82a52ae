/**
 * Real std sources of every rustc version the shipped rules cover: Debian's
 * rust-web-src for /usr/bin/rustc (1.96), and Debian's rust-src package of
 * other versions, fetched and unpacked privately by scripts/rust-src-deb.sh
 * (once per machine; scripts/setup-system.sh runs it too).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './cli.js';

/** The versions whose std source the rule tests run on; the rules' ranges must cover exactly these minors. */
export const TESTED_VERSIONS = ['1.95.0', '1.96.0'];

export function stdSourceOf(version: string): string {
  const system = `/usr/src/rustc-${version}/library`;
  if (fs.existsSync(path.join(system, 'std', 'Cargo.toml'))) return system;
  const out = execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'rust-src-deb.sh'), version], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 10 * 60_000,
  });
  const library = out.trim().split('\n').pop()!;
  if (!fs.existsSync(path.join(library, 'std', 'Cargo.toml')))
    throw new Error(`scripts/rust-src-deb.sh ${version} printed ${library}, which is not a std source`);
  return library;
}
