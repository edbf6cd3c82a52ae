/**
 * The command tree. Only commander is loaded eagerly; each action imports its
 * implementation on demand so `--help` and `--version` stay fast.
 */
import { Command, CommanderError, Option } from 'commander';
import { createRequire } from 'node:module';
import { ExitCode } from '../util/errors.js';
import { outputFor } from './context.js';
import { registerCommands } from './register.js';

const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string };

function buildProgram(): Command {
  const program = new Command('plrust')
    .description('Toolchain manager for PL/Rust, the trusted Rust procedural language for PostgreSQL')
    .version(pkg.version, '-V, --version', 'print the version')
    .option('--json', 'print exactly one JSON document on stdout (errors too)')
    .option('-q, --quiet', 'print only errors')
    .option('-v, --verbose', 'print details, and stack traces on errors')
    .option('--no-color', 'no colours (also NO_COLOR or a non-TTY)')
    .addOption(new Option('--home <dir>', 'state directory (default: $PLRUST_HOME or ~/.plrust)'))
    .addOption(new Option('--config <file>', 'use this configuration file instead of searching for one'))
    .showSuggestionAfterError(true)
    .configureHelp({ sortSubcommands: false, showGlobalOptions: true });
  registerCommands(program);
  return program;
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}

/**
 * Commander suggests only among a command's own options; global options
 * (--json, --home, …) are declared once on the program, so a misspelling of
 * one of those is matched against every option in the tree.
 */
function withSuggestion(e: CommanderError, program: Command): string {
  const message = e.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
  const bad = e.code === 'commander.unknownOption' ? message.match(/unknown option '(--[^']+)'/)?.[1] : undefined;
  if (!bad || /Did you mean/.test(message)) return message;
  const all = new Set<string>();
  const walk = (c: Command) => {
    for (const o of c.options) if (o.long) all.add(o.long);
    c.commands.forEach(walk);
  };
  walk(program);
  const best = [...all].map((o) => ({ o, d: editDistance(bad, o) })).sort((x, y) => x.d - y.d)[0];
  return best && best.d <= 2 ? `${message} (Did you mean ${best.o}?)` : message;
}

/** Commander's usage errors become our one-line, exit-2 errors (JSON with --json). */
function applyUsageHandling(cmd: Command): void {
  cmd.exitOverride();
  // main() prints the message itself, once, after a suggestion may have been added.
  cmd.configureOutput({ outputError: () => undefined });
  for (const sub of cmd.commands) applyUsageHandling(sub);
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  const json = argv.includes('--json');
  applyUsageHandling(program);
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version "fail" with exit code 0 by commander's design.
      if (e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version') {
        process.exitCode = 0;
        return;
      }
      if (e.code === 'commander.help') {
        process.exitCode = ExitCode.Usage;
        return;
      }
      const message = withSuggestion(e, program);
      if (json) {
        process.stdout.write(
          `${JSON.stringify({ ok: false, error: { code: 'USAGE', message, hint: 'see `plrust --help`' } }, null, 2)}\n`,
        );
      } else {
        process.stderr.write(`error: ${message}\n`);
      }
      process.exitCode = ExitCode.Usage;
      return;
    }
    const out = outputFor({ json });
    process.exitCode = out.error(e);
  }
}
