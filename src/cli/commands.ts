/**
 * Declarations of every command and its options. Declaring is cheap; the
 * implementations are imported only when a command runs.
 */
import type { Command } from 'commander';
import { action } from './action.js';

const TARGET_HELP = 'targets: x86_64, aarch64 (comma-separated) or all';

export function registerCommands(program: Command): void {
  program
    .command('config')
    .description('print the resolved configuration and where each value came from')
    .action(action(async () => (await import('../config/command.js')).showConfig));

  program
    .command('doctor')
    .description('check that everything plrust needs is installed, with the fix for each problem')
    .option('--pg-config <path>', 'also check this PostgreSQL installation')
    .action(action(async () => (await import('../doctor/command.js')).doctor, (o: { pgConfig?: string }) => (o.pgConfig ? { pgConfig: o.pgConfig } : {})));

  const toolchain = program.command('toolchain').description('manage postgrestd toolchains (restricted std sysroots)');
  toolchain
    .command('install')
    .description('build the restricted std for each target and install it as a toolchain')
    .option('--target <list>', TARGET_HELP)
    .option('--rustc <path>', 'the Rust compiler to use (default: found automatically)')
    .option('--cargo <path>', 'the cargo that belongs to that rustc (default: beside it)')
    .option('--rust-src <dir|archive|url>', 'std source: a library/ directory, a rust-src .tar.gz, or its URL')
    .option('--force', 'rebuild even if the toolchain is installed')
    .option('--no-wait', 'fail at once if another install holds the lock')
    .action(
      action(
        async () => (await import('../toolchain/commands.js')).install,
        (o: { rustc?: string; cargo?: string; rustSrc?: string }) => ({
          ...(o.rustc ? { rustc: o.rustc } : {}),
          ...(o.cargo ? { cargo: o.cargo } : {}),
          ...(o.rustSrc ? { rustSrc: o.rustSrc } : {}),
        }),
      ),
    );
  toolchain
    .command('list')
    .description('list installed toolchains')
    .action(action(async () => (await import('../toolchain/commands.js')).list));
  toolchain
    .command('show')
    .argument('[id]', 'toolchain id (default: the default toolchain)')
    .description('show a toolchain: compiler, source, rules, generated target specs, sysroots')
    .action(action(async () => (await import('../toolchain/commands.js')).show));
  toolchain
    .command('remove')
    .argument('<id>', 'toolchain id')
    .option('--no-wait', 'fail at once if another install holds the lock')
    .description('remove an installed toolchain')
    .action(action(async () => (await import('../toolchain/commands.js')).remove));
  toolchain
    .command('default')
    .argument('<id>', 'toolchain id')
    .description('make a toolchain the default')
    .action(action(async () => (await import('../toolchain/commands.js')).setDefault));

  program
    .command('verify')
    .argument('<lib...>', 'shared libraries to check')
    .description('check that libraries import only allowlisted symbols (the trust contract\'s last layer)')
    .action(action(async () => (await import('../verify/command.js')).verify));

}
