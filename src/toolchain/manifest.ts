/**
 * manifest.json of an installed toolchain: what it was built from and every
 * file it contains, so `toolchain show` can explain it and a damaged install
 * can be detected.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { sha256File } from '../util/sha256.js';
import { ARCHES } from '../config/schema.js';

export const MANIFEST_NAME = 'manifest.json';
export const MANIFEST_VERSION = 1;

const fileEntry = z.object({ path: z.string(), size: z.number(), sha256: z.string() });

const manifestSchema = z.object({
  manifestVersion: z.literal(MANIFEST_VERSION),
  id: z.string(),
  plrustVersion: z.string(),
  rustc: z.object({
    path: z.string(),
    version: z.string(),
    commitHash: z.string(),
    commitDate: z.string(),
    host: z.string(),
    llvmVersion: z.string().optional(),
  }),
  cargo: z.object({ path: z.string() }),
  /** Absent in toolchains installed before origins were recorded. */
  origin: z
    .object({ kind: z.enum(['distribution', 'rustup', 'downloaded', 'custom']), detail: z.string().optional() })
    .optional(),
  source: z.object({
    kind: z.string(),
    location: z.string(),
    sha256: z.string().optional(),
    version: z.string().optional(),
  }),
  targets: z.array(
    z.object({
      arch: z.enum(ARCHES),
      triple: z.string(),
      spec: z.string(),
      sysroot: z.string(),
      runtime: z.string(),
      /** Hash of the runtime crate's sources the rlib was built from; absent before it was recorded. */
      runtimeHash: z.string().optional(),
      linker: z.string(),
      builtAt: z.string(),
      buildSeconds: z.number(),
    }),
  ),
  build: z.object({ features: z.array(z.string()), rustflags: z.array(z.string()), profile: z.string() }),
  rules: z.object({ sourcePrep: z.array(z.string()), std: z.array(z.string()), stdRuleSet: z.string() }),
  files: z.array(fileEntry),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export type ToolchainManifest = z.infer<typeof manifestSchema>;
export type TargetEntry = ToolchainManifest['targets'][number];

export function readManifest(toolchainDir: string): ToolchainManifest | undefined {
  const file = path.join(toolchainDir, MANIFEST_NAME);
  if (!fs.existsSync(file)) return undefined;
  const parsed = manifestSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  return parsed.success ? parsed.data : undefined;
}

/** Every regular file under `root` except the manifest itself, sorted, with size and sha256. */
export async function listFiles(root: string): Promise<ToolchainManifest['files']> {
  const out: ToolchainManifest['files'] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const ent of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const abs = path.join(dir, ent.name);
      if (ent.isDirectory()) await walk(abs);
      else if (ent.isFile()) {
        const rel = path.relative(root, abs);
        if (rel === MANIFEST_NAME) continue;
        out.push({ path: rel, size: fs.statSync(abs).size, sha256: await sha256File(abs) });
      }
    }
  };
  await walk(root);
  return out;
}
