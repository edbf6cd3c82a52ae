/**
 * The target definitions in targets/*.json: which base triple each postgres
 * target derives from, and how to link and run code for it on each host.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { packageRoot } from '../util/package-root.js';
import { ARCHES, type Arch } from '../config/schema.js';
import { PlrustError } from '../util/errors.js';

const perHost = <T extends z.ZodTypeAny>(t: T) => z.object({ x86_64: t, aarch64: t });

const definitionSchema = z.object({
  $comment: z.string().optional(),
  arch: z.enum(ARCHES),
  base: z.string(),
  triple: z.string(),
  overrides: z.record(z.unknown()),
  linkers: perHost(z.object({ linker: z.string(), package: z.string() })),
  libcRoot: z.string(),
  runner: perHost(z.array(z.string())),
});

export type TargetDefinition = z.infer<typeof definitionSchema>;
export type Triple = string & { readonly __brand: 'Triple' };

export function hostArch(): Arch {
  switch (process.arch) {
    case 'x64':
      return 'x86_64';
    case 'arm64':
      return 'aarch64';
    default:
      throw new PlrustError({
        code: 'HOST_UNSUPPORTED',
        message: `plrust runs on x86_64 and aarch64 hosts, not ${process.arch}`,
      });
  }
}

function targetsDir(): string {
  return path.join(packageRoot(), 'targets');
}

export function loadTargetDefinition(arch: Arch, dir = targetsDir()): TargetDefinition {
  const file = path.join(dir, `${arch}.json`);
  const parsed = definitionSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!parsed.success) {
    throw new PlrustError({
      code: 'TARGET_DEFINITION_INVALID',
      message: `${file}: ${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`,
    });
  }
  return parsed.data;
}

export function tripleOf(arch: Arch): Triple {
  return `${arch}-postgres-linux-gnu` as Triple;
}

/** The linker for `def` when building on `host`: `cc` natively, a cross gcc otherwise. */
export function linkerFor(
  def: TargetDefinition,
  host: Arch = hostArch(),
): { linker: string; package: string; cross: boolean } {
  return { ...def.linkers[host], cross: def.arch !== host };
}
