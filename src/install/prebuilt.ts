/**
 * Reading the output of `plrust build` for `plrust install --prebuilt`: every
 * artifact's metadata, checked against its library, and every library
 * against the symbol allowlist, so a production server without a toolchain
 * can run functions compiled elsewhere and nothing else.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PlrustError, ExitCode } from '../util/errors.js';
import { sha256File } from '../util/sha256.js';
import { artifactMetadataSchema, type ArtifactMetadata } from '../compile/artifacts.js';
import { assertLibraryTrusted } from '../verify/verify.js';

export interface PrebuiltArtifact {
  meta: ArtifactMetadata;
  library: string;
}

export async function readPrebuilt(dir: string): Promise<PrebuiltArtifact[]> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new PlrustError({
      code: 'PREBUILT_NOT_FOUND',
      message: `--prebuilt ${dir} is not a directory`,
      hint: 'pass the output directory of `plrust build` (default target/plrust)',
      exitCode: ExitCode.Usage,
    });
  }
  const found: PrebuiltArtifact[] = [];
  for (const fnDir of fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const f of fs.readdirSync(path.join(dir, fnDir.name)).filter((n) => n.endsWith('.json'))) {
      const metaPath = path.join(dir, fnDir.name, f);
      const parsed = artifactMetadataSchema.safeParse(JSON.parse(fs.readFileSync(metaPath, 'utf8')));
      if (!parsed.success) continue;
      const library = path.join(dir, fnDir.name, parsed.data.library);
      if (!fs.existsSync(library) || (await sha256File(library)) !== parsed.data.sha256) {
        throw new PlrustError({
          code: 'PREBUILT_CORRUPT',
          message: `${library} does not match its metadata ${metaPath} (missing or different sha256)`,
          hint: 'rebuild it with `plrust build`',
        });
      }
      // The JSON beside a library comes from the same producer as the library: only the bytes prove anything.
      await assertLibraryTrusted(library);
      found.push({ meta: parsed.data, library });
    }
  }
  if (found.length === 0) {
    throw new PlrustError({
      code: 'PREBUILT_NOT_FOUND',
      message: `no plrust build artifacts in ${dir}`,
      hint: 'run `plrust build <file> --out-dir <dir>` first',
      exitCode: ExitCode.Usage,
    });
  }
  return found;
}
