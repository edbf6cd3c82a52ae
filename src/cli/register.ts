/**
 * Declarations of every command and its options. Declaring is cheap; the
 * implementations are imported only when a command runs.
 */
import type { Command } from 'commander';
import { action, configFromFlags } from './action.js';

/** A flag value that must be a positive integer; the config schema reports anything else. */
function parseInteger(value: string): number {
  return /^\d+$/.test(value) ? Number(value) : NaN;
}

const TARGET_HELP = 'targets: x86_64, aarch64 (comma-separated) or all';

export function registerCommands(program: Command): void {
  program
    .command('config')
    .description('print the resolved configuration and where each value came from')
    .action(action(async () => (await import('./commands/config.js')).showConfig));

  program
    .command('doctor')
    .description('check that everything plrust needs is installed, with the fix for each problem')
    .option('--pg-config <path>', 'also check this PostgreSQL installation')
    .action(action(async () => (await import('./commands/doctor.js')).doctor, configFromFlags('pgConfig')));

  program
    .command('status')
    .description('summarise toolchains, PostgreSQL installs, the dependency store and isolation (exit 1 if damaged)')
    .action(action(async () => (await import('./commands/status.js')).status));

  const toolchain = program.command('toolchain').description('manage postgrestd toolchains (restricted std sysroots)');
  toolchain
    .command('install')
    .argument('[version]', 'with --download: the Rust release to fetch, e.g. 1.96.0')
    .description('build the restricted std for each target and install it as a toolchain')
    .option('--target <list>', TARGET_HELP)
    .option('--rustc <path>', 'the Rust compiler to use (default: rust-toolchain.toml, else found automatically)')
    .option('--toolchain <name>', 'a rustup toolchain: stable, 1.95.0, nightly-2026-05-19, … (uses its rust-src)')
    .option(
      '--download',
      'fetch rustc, cargo, rust-std and rust-src of [version] from the dist server (PLRUST_DIST_SERVER)',
    )
    .option('--cargo <path>', 'the cargo that belongs to that rustc (default: beside it)')
    .option('--rust-src <dir|archive|url>', 'std source: a library/ directory, a rust-src .tar.gz, or its URL')
    .option('--force', 'rebuild even if the toolchain is installed')
    .option('--no-wait', 'fail at once if another install holds the lock')
    .action(
      action(
        async () => (await import('./commands/toolchain.js')).install,
        configFromFlags('rustc', 'cargo', 'rustSrc'),
      ),
    );
  toolchain
    .command('list')
    .description('list installed toolchains')
    .action(action(async () => (await import('./commands/toolchain.js')).list));
  toolchain
    .command('show')
    .argument('[id]', 'toolchain id (default: the default toolchain)')
    .description('show a toolchain: compiler, source, rules, generated target specs, sysroots')
    .action(action(async () => (await import('./commands/toolchain.js')).show));
  toolchain
    .command('remove')
    .argument('<id>', 'toolchain id')
    .option('--no-wait', 'fail at once if another install holds the lock')
    .description('remove an installed toolchain')
    .action(action(async () => (await import('./commands/toolchain.js')).remove));
  toolchain
    .command('default')
    .argument('<id>', 'toolchain id')
    .description('make a toolchain the default')
    .action(action(async () => (await import('./commands/toolchain.js')).setDefault));

  program
    .command('build')
    .argument('<files...>', '.rs files (every pub fn) or .sql files (CREATE FUNCTION … LANGUAGE plrust)')
    .description('check and compile PL/Rust functions into libraries for each target')
    .option('--target <list>', `${TARGET_HELP} (default: every target of the toolchain)`)
    .option('--out-dir <dir>', 'where to write libraries, metadata and functions.sql (default: target/plrust)')
    .option('--toolchain <id>', 'the toolchain to build with (default: the default toolchain)')
    .option('--memory-limit <mb>', "rustc's address-space limit in MB (default 1024)", parseInteger)
    .option('--cpu-limit <seconds>', "rustc's CPU time limit (default 60)", parseInteger)
    .option(
      '--max-library-size <mb>',
      'largest library (and file) the compiler may write, in MB (default 16)',
      parseInteger,
    )
    .option('--process-limit <n>', 'processes and threads in the compiler sandbox (default 64)', parseInteger)
    .option('--no-sandbox', 'run rustc without the sandbox (it can then read whatever your OS user can)')
    .option('--allowed <file>', 'the dependency allow-list (TOML) that [dependencies] are checked against')
    .option(
      '--dependency-source <dir|url>',
      'directory registry or vendor directory of allowed crates (default /usr/share/cargo/registry), or a registry mirror as sparse+https://host/index/',
    )
    .action(
      action(
        async () => (await import('./commands/build.js')).build,
        (o) => ({
          ...configFromFlags('outDir')(o),
          ...(o.memoryLimit !== undefined ? { compileMemoryMb: o.memoryLimit as number } : {}),
          ...(o.cpuLimit !== undefined ? { compileCpuSeconds: o.cpuLimit as number } : {}),
          ...(o.maxLibrarySize !== undefined ? { maxLibrarySizeMb: o.maxLibrarySize as number } : {}),
          ...(o.processLimit !== undefined ? { compileProcesses: o.processLimit as number } : {}),
        }),
      ),
    );

  const deps = program.command('deps').description('the dependency allow-list: crates functions may use');
  const depsCommand = (name: string, what: string) =>
    deps
      .command(name)
      .description(what)
      .requiredOption('--allowed <file>', 'the dependency allow-list (TOML)')
      .option(
        '--dependency-source <dir|url>',
        'directory registry or vendor directory (default /usr/share/cargo/registry), or a mirror as sparse+https://host/index/',
      );
  depsCommand('list', 'show each allowed crate and the version the source offers').action(
    action(async () => (await import('./commands/deps.js')).list),
  );
  depsCommand('check', 'fail unless every allowed crate is in the source').action(
    action(async () => (await import('./commands/deps.js')).check),
  );
  depsCommand('build', 'build every allowed crate for each target into the dependency store')
    .option('--target <list>', `${TARGET_HELP} (default: every target of the toolchain)`)
    .option('--toolchain <id>', 'the toolchain to build with (default: the default toolchain)')
    .option('--no-sandbox', 'run cargo without the sandbox (build scripts then see whatever your OS user can)')
    .action(action(async () => (await import('./commands/deps.js')).build));

  program
    .command('cache')
    .description('the artifact cache in PLRUST_HOME/cache (kept under cacheMaxSizeMb automatically)')
    .command('prune')
    .description('remove least recently used cache entries until the cache fits the bound')
    .option('--max-size <mb>', 'the bound in MB (default: cacheMaxSizeMb, 1024)')
    .action(action(async () => (await import('./commands/build.js')).prune));

  program
    .command('compile')
    .description("compile one function described as JSON on stdin (the language handler's interface, docs/COMPILE.md)")
    .option('--toolchain <id>', 'the toolchain to build with (default: the default toolchain)')
    .option('--work-dir <dir>', 'cache and scratch directory (default: inside PLRUST_HOME)')
    .action(action(async () => (await import('./commands/build.js')).compile));

  program
    .command('install')
    .description('build the language handler and install PL/Rust into a PostgreSQL installation')
    .option('--pg-config <path>', 'pg_config of the PostgreSQL installation (required)')
    .option('--pgdata <dir>', "also write plrust's settings into this cluster's postgresql.conf")
    .option('--prebuilt <dir>', 'install the artifacts of `plrust build` from this directory')
    .option('--toolchain <id>', 'the toolchain the server compiles with (default: the default toolchain)')
    .option('--server-user <name>', 'the OS user PostgreSQL runs as', 'postgres')
    .option('--dry-run', 'print the plan; change nothing')
    .action(action(async () => (await import('./commands/install.js')).install, configFromFlags('pgConfig')));

  program
    .command('uninstall')
    .description('remove exactly what `plrust install` put into a PostgreSQL installation')
    .option('--pg-config <path>', 'pg_config of the PostgreSQL installation (required)')
    .option('--pgdata <dir>', "also remove plrust's settings from this cluster's postgresql.conf")
    .action(action(async () => (await import('./commands/install.js')).uninstall, configFromFlags('pgConfig')));

  const sandbox = program
    .command('sandbox')
    .description('a throwaway local PostgreSQL cluster with PL/Rust installed (like `cargo pgrx run`)')
    .option('--pg-config <path>', 'the local PostgreSQL installation (default: the newest one found)');
  const sandboxAction = (name: 'start' | 'status' | 'run' | 'psql' | 'stop' | 'destroy') =>
    action(async () => (await import('./commands/sandbox.js'))[name], configFromFlags('pgConfig'));
  sandbox
    .command('start')
    .description('create or reuse the cluster, install plrust, start it')
    .action(sandboxAction('start'));
  sandbox
    .command('run')
    .argument('<files...>', 'SQL files to run in the sandbox database, in order')
    .description('run SQL files in the sandbox (starting it if needed)')
    .action(sandboxAction('run'));
  sandbox.command('psql').description('open psql on the sandbox database').action(sandboxAction('psql'));
  sandbox
    .command('status')
    .description('whether the sandbox runs, and how to connect (socket directory, port, user, database)')
    .action(sandboxAction('status'));
  sandbox.command('stop').description('stop the sandbox cluster').action(sandboxAction('stop'));
  sandbox.command('destroy').description('stop and delete the sandbox cluster').action(sandboxAction('destroy'));

  program
    .command('verify')
    .argument('<lib...>', 'shared libraries to check')
    .description("check that libraries import only allowlisted symbols (the trust contract's last layer)")
    .action(action(async () => (await import('./commands/verify.js')).verify));
}
