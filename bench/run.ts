/**
 * `npm run bench [section…]`: runs the benchmarks and rewrites their sections
 * of docs/BENCHMARKS.md (sections not run keep their previous results).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineInfo, machineMarkdown } from './machine.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DOC = path.join(ROOT, 'docs', 'BENCHMARKS.md');

interface Section {
  id: string;
  title: string;
  run: () => Promise<string>;
}

const SECTIONS: Section[] = [
  { id: 'startup', title: 'CLI start-up', run: async () => (await import('./startup.js')).benchStartup() },
  { id: 'toolchain', title: 'Toolchain install', run: async () => (await import('./toolchain.js')).benchToolchain() },
  { id: 'build', title: 'Building a function', run: async () => (await import('./build.js')).benchBuild() },
  { id: 'deps', title: 'Functions with dependencies', run: async () => (await import('./deps.js')).benchDeps() },
  { id: 'sandbox', title: "The compiler's box", run: async () => (await import('./sandbox.js')).benchSandbox() },
  { id: 'sql', title: 'PL/Rust in PostgreSQL', run: async () => (await import('./sql.js')).benchSql() },
  {
    id: 'types',
    title: 'Types: numeric, timestamptz, jsonb, composite',
    run: async () => (await import('./types.js')).benchTypes(),
  },
  { id: 'spi', title: 'Queries, triggers and sets', run: async () => (await import('./spi.js')).benchSpi() },
  {
    id: 'isolation',
    title: 'Process isolation',
    run: async () => (await import('./isolation.js')).benchIsolation(),
  },
  {
    id: 'checkpoint',
    title: 'Runaway-loop checkpoints',
    run: async () => (await import('./checkpoint.js')).benchCheckpoint(),
  },
];

function replaceSection(doc: string, id: string, body: string): string {
  const start = `<!-- bench:${id} -->`;
  const end = `<!-- /bench:${id} -->`;
  const block = `${start}\n${body}\n${end}`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i >= 0 && j > i) return doc.slice(0, i) + block + doc.slice(j + end.length);
  return `${doc.trimEnd()}\n\n${block}\n`;
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !SECTIONS.some((s) => s.id === w));
  if (unknown.length) {
    console.error(`unknown benchmark ${unknown.join(', ')}; available: ${SECTIONS.map((s) => s.id).join(', ')}`);
    process.exit(2);
  }
  let doc = fs.existsSync(DOC)
    ? fs.readFileSync(DOC, 'utf8')
    : '# Benchmarks\n\nWritten by `npm run bench` (`npm run bench -- <section>` for one section). Each section is measured in one run on the machine described in it; ratios compare figures from the same run.\n';
  for (const s of SECTIONS.filter((x) => wanted.length === 0 || wanted.includes(x.id))) {
    console.error(`bench: ${s.id}…`);
    const body = await s.run();
    const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    doc = replaceSection(
      doc,
      s.id,
      `## ${s.title}\n\nMeasured ${when} on:\n${machineMarkdown(machineInfo())}\n\n${body}`,
    );
    fs.writeFileSync(DOC, doc);
    console.error(body);
  }
}

await main();
