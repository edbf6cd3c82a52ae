/**
 * The record of one `plrust install` into one PostgreSQL installation:
 * every file written (with the checksum it was written with, and a backup of
 * whatever it replaced) and every postgresql.conf touched. Uninstall undoes
 * exactly this list.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { sha256Buffer } from '../util/sha256.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import type { HomeLayout } from '../util/home.js';

const installedFileSchema = z.object({
  path: z.string(),
  role: z.enum(['handler', 'control', 'script', 'defaults', 'prebuilt', 'toolchain', 'cli']),
  sha256: z.string(),
  size: z.number(),
  /** Where the file this one replaced was saved; absent when nothing was there. */
  backup: z.string().optional(),
});

const installManifestSchema = z.object({
  manifestVersion: z.literal(1),
  pgConfig: z.string(),
  pgVersion: z.string(),
  plrustVersion: z.string(),
  toolchain: z.string().optional(),
  /** The server's compiler cache and scratch directory (plrust.work_dir): plrust's own, removed whole. */
  workDir: z.string().optional(),
  files: z.array(installedFileSchema),
  /** Directories plrust created (removed on uninstall when empty), deepest last. */
  createdDirs: z.array(z.string()),
  conf: z.array(z.object({ pgdata: z.string(), file: z.string(), backup: z.string() })),
  installedAt: z.string(),
});

export type InstalledFile = z.infer<typeof installedFileSchema>;
export type InstallManifest = z.infer<typeof installManifestSchema>;

/** One manifest per installation, keyed by its pg_config's real path. */
function installKey(pgConfig: string): string {
  let real = pgConfig;
  try {
    real = fs.realpathSync(pgConfig);
  } catch {
    // a vanished pg_config still names its manifest
  }
  return sha256Buffer(real).slice(0, 16);
}

export function installDir(home: HomeLayout, pgConfig: string): string {
  return path.join(home.installs, installKey(pgConfig));
}

export function readInstallManifest(home: HomeLayout, pgConfig: string): InstallManifest | undefined {
  return readInstallManifestFile(path.join(installDir(home, pgConfig), 'manifest.json'));
}

export function readInstallManifestFile(file: string): InstallManifest | undefined {
  if (!fs.existsSync(file)) return undefined;
  const parsed = installManifestSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  return parsed.success ? parsed.data : undefined;
}

export function writeInstallManifest(home: HomeLayout, m: InstallManifest): void {
  writeFileAtomic(path.join(installDir(home, m.pgConfig), 'manifest.json'), `${JSON.stringify(m, null, 2)}\n`);
}
