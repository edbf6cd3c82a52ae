import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The installed package's root (where templates/ and targets/ live), from dist/src/util/. */
export function packageRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

/** The `plrust` executable of this package: what the server runs as its compiler. */
export const PLRUST_BIN = path.join(packageRoot(), 'bin', 'plrust');
