import { gzipSync } from 'node:zlib';
import { Header, type HeaderData } from 'tar';

export interface RawEntry extends HeaderData {
  body?: string;
}

/**
 * Writes tar headers directly (tar's own Header encoder, no sanitising),
 * because `tar.create` will not produce the hostile archives under test.
 */
export function rawTarGz(entries: RawEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const { body = '', ...h } of entries) {
    const data = Buffer.from(body);
    const header = Buffer.alloc(512);
    new Header({ mode: 0o644, uid: 0, gid: 0, mtime: new Date(0), type: 'File', ...h, size: data.length }).encode(
      header,
    );
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}
