/** Start-up: `plrust --version` and `--help` against a bare `node -e 0`, in one run. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmtMs, median, timeCommand } from './stats.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'plrust');

export async function benchStartup(): Promise<string> {
  const runs = 20;
  const node = median(timeCommand(process.execPath, ['-e', '0'], runs, { warmup: 3 }));
  const version = median(timeCommand(process.execPath, [BIN, '--version'], runs, { warmup: 3 }));
  const help = median(timeCommand(process.execPath, [BIN, '--help'], runs, { warmup: 3 }));
  return [
    `Median of ${runs} runs each (after 3 warm-up runs). Goal: under 150 ms.`,
    '',
    '| command | median | vs `node -e 0` |',
    '|---|---|---|',
    `| \`node -e 0\` | ${fmtMs(node)} | 1.00× |`,
    `| \`plrust --version\` | ${fmtMs(version)} | ${(version / node).toFixed(2)}× |`,
    `| \`plrust --help\` | ${fmtMs(help)} | ${(help / node).toFixed(2)}× |`,
  ].join('\n');
}
