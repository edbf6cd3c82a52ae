/**
 * The command tree. Only commander is loaded eagerly; each action imports its
 * implementation on demand so `--help` and `--version` stay fast.
 */
import { Command, CommanderError, Option } from 'commander';
import { createRequire } from 'node:module';
import { ExitCode, PlrustError } from '../util/errors.js';
import { outputFor } from './context.js';
import { registerCommands } from './commands.js';

const pkg = createRequire(import.meta.url)('../../../package.json') as { version: string };

export function buildProgram(): Command {
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

/** Commander's usage errors become our one-line, exit-2 errors (JSON with --json). */
function applyUsageHandling(cmd: Command, json: boolean): void {
  cmd.exitOverride();
  cmd.configureOutput({
    outputError: (str, write) => {
      if (!json) write(str.split('\n')[0] + '\n');
    },
  });
  for (const sub of cmd.commands) applyUsageHandling(sub, json);
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  const json = argv.includes('--json');
  applyUsageHandling(program, json);
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
      const message = e.message.replace(/^error: /, '');
      if (json) {
        process.stdout.write(`${JSON.stringify({ ok: false, error: { code: 'USAGE', message, hint: 'see `plrust --help`' } }, null, 2)}\n`);
      }
      process.exitCode = ExitCode.Usage;
      return;
    }
    const out = outputFor({ json });
    process.exitCode = out.error(e instanceof PlrustError ? e : e);
  }
}
