/**
 * Target specs are generated from the chosen rustc, never shipped: the data
 * layout and the spec's own keys change between rustc versions, so the base
 * triple's spec as that rustc prints it is the only one that is sure to fit.
 */
import { exec } from '../util/exec.js';
import { PlrustError } from '../util/errors.js';
import { linkerFor, type TargetDefinition } from './definitions.js';
import type { Arch } from '../config/schema.js';

export type TargetSpec = Record<string, unknown>;

/** Pure: base spec + the definition's overrides + the linker for this host. */
export function deriveSpec(base: TargetSpec, def: TargetDefinition, host: Arch): TargetSpec {
  const spec: TargetSpec = { ...base, ...def.overrides };
  const { linker, cross } = linkerFor(def, host);
  if (cross) spec.linker = linker;
  else delete spec.linker;
  // The metadata block describes the upstream triple (tier, host tools); it is not ours.
  delete spec.metadata;
  return spec;
}

async function printBaseSpec(rustc: string, baseTriple: string): Promise<TargetSpec> {
  const r = await exec(rustc, ['-Z', 'unstable-options', '--print', 'target-spec-json', '--target', baseTriple], {
    env: { ...process.env, RUSTC_BOOTSTRAP: '1' },
    timeoutMs: 60_000,
  });
  if (r.code !== 0) {
    throw new PlrustError({
      code: 'TARGET_SPEC_FAILED',
      message: `${rustc} cannot print the target spec of ${baseTriple}: ${r.stderr.trim().split('\n')[0]}`,
      hint: 'use a rustc that supports -Z unstable-options --print target-spec-json (1.85 or later)',
    });
  }
  return JSON.parse(r.stdout) as TargetSpec;
}

export async function generateSpec(rustc: string, def: TargetDefinition, host: Arch): Promise<TargetSpec> {
  return deriveSpec(await printBaseSpec(rustc, def.base), def, host);
}
