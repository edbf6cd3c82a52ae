/**
 * Turns a std source into a workspace cargo can build offline: a copy (the
 * original is never touched), the version's source-prep rules, and a cargo
 * configuration that replaces crates.io with library/vendor.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PlrustError } from '../util/errors.js';
import { exec } from '../util/exec.js';
import { packageRoot } from '../util/package-root.js';
import { applySourceRules, loadRuleSets } from './restrict.js';

export function sourcePrepRulesDir(): string {
  return path.join(packageRoot(), 'templates', 'source-prep');
}

function cargoConfigText(vendorDir: string): string {
  return [
    '[source.crates-io]',
    'replace-with = "plrust-vendored"',
    '',
    '[source.plrust-vendored]',
    `directory = ${JSON.stringify(vendorDir)}`,
    '',
  ].join('\n');
}

export interface PreparedSource {
  libraryDir: string;
  prepRules: string[];
  vendored: 'shipped' | 'cargo-vendor';
}

export async function prepareSource(opts: {
  originalLibrary: string;
  workDir: string;
  rustcVersion: string;
  cargo: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
}): Promise<PreparedSource> {
  const libraryDir = path.join(opts.workDir, 'library');
  fs.cpSync(opts.originalLibrary, libraryDir, {
    recursive: true,
    dereference: false,
    filter: (src) => path.basename(src) !== 'target',
  });
  const applied = await applySourceRules(
    libraryDir,
    opts.rustcVersion,
    await loadRuleSets(sourcePrepRulesDir()),
    'source-prep',
  );
  const vendorDir = path.join(libraryDir, 'vendor');
  let vendored: PreparedSource['vendored'] = 'shipped';
  if (!fs.existsSync(vendorDir)) {
    vendored = 'cargo-vendor';
    const r = await exec(opts.cargo, ['vendor', '--versioned-dirs', vendorDir], {
      cwd: libraryDir,
      env: opts.env,
      logFile: opts.logFile,
    });
    if (r.code !== 0) {
      throw new PlrustError({
        code: 'VENDOR_FAILED',
        message: 'the std source has no vendored dependencies (library/vendor) and `cargo vendor` could not fetch them',
        hint: `vendoring needs network access to crates.io; use a source with library/vendor (Debian's rust-web-src, rustup's rust-src component) or allow network access. Log: ${opts.logFile}`,
      });
    }
  }
  fs.mkdirSync(path.join(libraryDir, '.cargo'), { recursive: true });
  fs.writeFileSync(path.join(libraryDir, '.cargo', 'config.toml'), cargoConfigText(vendorDir));
  return { libraryDir, prepRules: applied.map((a) => a.name), vendored };
}
