/**
 * Reading `plrust build`'s input files into definitions, with every problem
 * an input can have reported as a clear error before anything is compiled.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PlrustError, ExitCode, type ErrorCode } from '../util/errors.js';
import { sqlTypeName, type FunctionDef } from './definition.js';
import { parseSqlFile } from './sql-file.js';
import { parseRsFile } from './rs-file.js';

/** Function sources are small; anything larger is a mistake (or an attempt to exhaust the compiler). */
export const MAX_INPUT_BYTES = 1024 * 1024;

function inputError(code: ErrorCode, message: string, hint?: string): PlrustError {
  return new PlrustError({ code, message, ...(hint ? { hint } : {}), exitCode: ExitCode.Failed });
}

function readInput(file: string): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw new PlrustError({ code: 'FILE_NOT_FOUND', message: `${file} does not exist`, exitCode: ExitCode.Usage });
  }
  if (!st.isFile()) throw inputError('NOT_A_FILE', `${file} is not a file`);
  if (st.size > MAX_INPUT_BYTES)
    throw inputError(
      'INPUT_TOO_LARGE',
      `${file} is ${st.size} bytes; the limit is ${MAX_INPUT_BYTES} bytes`,
      'split it into smaller files',
    );
  const bytes = fs.readFileSync(file);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    throw inputError(
      'NOT_UTF8',
      `${file} is not valid UTF-8 (first invalid byte at offset ${at})`,
      'save the file as UTF-8',
    );
  }
  if (text.trim() === '')
    throw inputError(
      'EMPTY_INPUT',
      `${file} is empty`,
      'write at least one `pub fn` (.rs) or CREATE FUNCTION … LANGUAGE plrust (.sql)',
    );
  return text.replace(/^\uFEFF/, '');
}

/** Byte offset of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstInvalidUtf8(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const len = b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
    if (len === 0) return i;
    for (let k = 1; k < len; k++) if (i + k >= bytes.length || (bytes[i + k]! & 0xc0) !== 0x80) return i;
    i += len;
  }
  return i;
}

export function readDefinitions(files: string[]): FunctionDef[] {
  const defs: FunctionDef[] = [];
  const errors: string[] = [];
  for (const file of files) {
    const text = readInput(file);
    const shown = path.relative(process.cwd(), file) || file;
    if (file.endsWith('.rs')) {
      const r = parseRsFile(text, shown);
      errors.push(...r.errors);
      if (r.functions.length === 0 && r.errors.length === 0)
        errors.push(`${shown}: no \`pub fn\` in the file: only public functions become SQL functions`);
      defs.push(...r.functions);
    } else if (file.endsWith('.sql')) {
      const r = parseSqlFile(text, shown);
      if (r.functions.length === 0) errors.push(`${shown}: no CREATE FUNCTION … LANGUAGE plrust statement in the file`);
      defs.push(...r.functions);
    } else {
      throw new PlrustError({
        code: 'UNKNOWN_INPUT',
        message: `${file}: plrust builds .rs and .sql files`,
        exitCode: ExitCode.Usage,
      });
    }
  }
  const seen = new Map<string, FunctionDef>();
  for (const d of defs) {
    const key = `${d.sqlName}(${d.args.map((a) => sqlTypeName(a.type)).join(',')})`;
    const prev = seen.get(key);
    if (prev)
      errors.push(
        `${d.origin.file}:${d.origin.line}: duplicate function ${key} (also at ${prev.origin.file}:${prev.origin.line})`,
      );
    seen.set(key, d);
  }
  if (errors.length) {
    throw new PlrustError({
      code: 'INVALID_INPUT',
      message: errors.join('\n'),
      hint: 'fix the definitions above; nothing was built',
      exitCode: ExitCode.Failed,
      data: { errors },
    });
  }
  return defs;
}
