/**
 * The definition hash (docs/COMPILE.md): artifacts are found by what a
 * function is, not by its OID, which changes across dump and restore. The C
 * handler computes the same text from pg_proc; a test checks both agree.
 */
import { sha256Buffer } from '../util/sha256.js';
import { sqlTypeName, type FunctionDef } from './definition.js';
import { returnsName } from './set-returns.js';

export type DefinitionHash = string & { readonly __brand: 'DefinitionHash' };

export function definitionText(
  def: Pick<FunctionDef, 'strict' | 'returns' | 'returnsSet' | 'args' | 'source'>,
): string {
  return (
    [
      'plrust-definition-v1',
      `strict=${def.strict}`,
      `returns=${returnsName(def)}`,
      ...def.args.map((a) => `arg=${a.name}:${sqlTypeName(a.type)}`),
      'body=',
      '',
    ].join('\n') + def.source
  );
}

export function definitionHash(
  def: Pick<FunctionDef, 'strict' | 'returns' | 'returnsSet' | 'args' | 'source'>,
): DefinitionHash {
  return sha256Buffer(definitionText(def)) as DefinitionHash;
}
