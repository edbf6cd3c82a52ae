/**
 * The examples of the user guide pages (docs/SPI.md, docs/LOGGING.md,
 * docs/SRF.md, docs/TRIGGERS.md) run as written: every `sql` block in
 * order on one database per page, its output compared with the `text`
 * block that follows it (psql's unaligned, tuples-only output).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../helpers/cli.js';
import { startCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { installPlrust, tempHome, uninstallPlrust } from '../helpers/plrust-install.js';

interface Example {
  sql: string;
  expected?: string;
}

/** The `sql` blocks of a page, each with the `text` block right after it, if any. */
function examples(page: string): Example[] {
  const blocks = [...fs.readFileSync(path.join(REPO_ROOT, 'docs', page), 'utf8').matchAll(/```(\w+)\n([^]*?)```/g)].map(
    (m) => ({ lang: m[1]!, body: m[2]! }),
  );
  const out: Example[] = [];
  blocks.forEach((b, i) => {
    if (b.lang !== 'sql') return;
    const next = blocks[i + 1];
    out.push({ sql: b.body, expected: next?.lang === 'text' ? next.body.trim() : undefined });
  });
  return out;
}

const PAGES = ['SPI.md', 'LOGGING.md', 'SRF.md', 'TRIGGERS.md'];

describe('the user guide examples run as written', () => {
  let home: string;
  let pg: PgCluster;

  before(async () => {
    home = await tempHome('docs', { toolchain: true });
    await installPlrust(home);
    pg = await startCluster();
    await pg.psql(PAGES.map((p) => `CREATE DATABASE ${db(p)};`).join('\n'));
    for (const p of PAGES) {
      await pg.psql(`ALTER DATABASE ${db(p)} SET plrust.targets = 'x86_64'; CREATE EXTENSION plrust;`, { db: db(p) });
    }
  });

  after(async () => {
    await pg?.stop();
    if (home) await uninstallPlrust(home);
  });

  function db(page: string): string {
    return `docs_${page.replace('.md', '').toLowerCase()}`;
  }

  for (const page of PAGES) {
    test(`docs/${page}`, async () => {
      const found = examples(page);
      assert.ok(found.length > 0, `docs/${page} has sql examples`);
      const stderr: string[] = [];
      for (const ex of found) {
        const r = await pg.psqlResult(ex.sql, { db: db(page) });
        assert.equal(r.code, 0, `${r.stderr}\n--- example ---\n${ex.sql}`);
        stderr.push(r.stderr);
        if (ex.expected !== undefined) assert.equal(r.stdout.trim(), ex.expected, ex.sql);
      }
      if (page === 'LOGGING.md') {
        const all = stderr.join('');
        assert.match(all, /NOTICE: {2}Hello, this is a notice\n/);
        assert.match(all, /WARNING: {2}a warning\nDETAIL: {2}with a detail\n/);
        assert.match(all, /NOTICE: {2}caught: -1 is not positive\n/);
        assert.match(pg.logText(), /LOG: {2}The one\(\) function is returning: 1\n/);
      }
    });
  }
});
