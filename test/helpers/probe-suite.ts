/**
 * The probe suite's parts, shared by every toolchain version's test file:
 * each denied std API compiled into one cdylib (test/probes/probes.rs) and
 * called through a C host standing in for the PostgreSQL backend
 * (test/probes/host.c).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../src/util/package-root.js';

export const PROBES = path.join(packageRoot(), 'test', 'probes');

/**
 * What each denied probe returns on the restricted std: 1 where the API has
 * an error path (io::Result, Option, an empty iterator), 2 where std can only
 * panic (print!, thread::spawn, env::vars, temp_dir, exit, abort, allocation
 * failure).
 */
export const DENIED: Record<string, '1' | '2'> = {
  file_open: '1',
  fs_read_dir: '1',
  fs_write: '1',
  fs_metadata: '1',
  path_exists: '1',
  tcp_connect: '1',
  tcp_listener_bind: '1',
  udp_bind: '1',
  to_socket_addrs: '1',
  command_output: '1',
  env_var: '1',
  env_vars: '2',
  env_set_var: '2',
  env_args: '1',
  env_current_dir: '1',
  env_set_current_dir: '1',
  env_temp_dir: '2',
  env_home_dir: '1',
  env_current_exe: '1',
  stdout_write: '1',
  stdin_read_line: '1',
  stdin_read: '1',
  println: '2',
  eprintln: '2',
  thread_spawn: '2',
  thread_scope: '2',
  available_parallelism: '1',
  backtrace_force_capture: '1',
  process_exit: '2',
  process_abort: '2',
  handle_alloc_error: '2',
};

/** Must keep working on the restricted std. */
export const ALLOWED = [
  'allowed_instant',
  'allowed_system_time',
  'allowed_hashmap',
  'allowed_thread_sleep',
  'allowed_condvar_timeout',
  'allowed_park_timeout',
  'allowed_panic',
];

/**
 * On the ordinary std these end the process, which is the point: they run in
 * a forked child there, and the host reports how the child ended.
 */
export const LETHAL: Record<string, string> = {
  process_exit: 'ended-exit-0',
  process_abort: 'ended-signal-6',
  handle_alloc_error: 'ended-signal-6',
};

export const ALL = [...Object.keys(DENIED), ...ALLOWED];

export function mustRun(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed:\n${r.stdout}${r.stderr}`);
}

export function buildHost(compiler: string, out: string): string {
  mustRun(compiler, ['-O1', '-Wall', '-Werror', '-rdynamic', '-o', out, path.join(PROBES, 'host.c'), '-ldl']);
  return out;
}

export function buildRestrictedProbes(rustc: string, sysroot: string, spec: string, out: string): string {
  mustRun(
    rustc,
    [
      '-Zunstable-options',
      '--sysroot',
      sysroot,
      '--target',
      spec,
      '--crate-type',
      'cdylib',
      '--edition',
      '2021',
      '-O',
      '-o',
      out,
      path.join(PROBES, 'probes.rs'),
    ],
    { RUSTC_BOOTSTRAP: '1' },
  );
  return out;
}

export interface HostRun {
  status: number | null;
  results: Map<string, string>;
  stdout: string;
  stderr: string;
}

/** Runs the host over `lib` in `workdir` (a scratch directory holding input.txt), with HOME pointing at `home`. */
export function runHost(
  command: string[],
  lib: string,
  names: string[],
  dirs: { workdir: string; home: string },
  fork = false,
): HostRun {
  const [cmd, ...pre] = command;
  const args = [...pre, ...(fork ? ['--fork'] : []), lib, dirs.workdir, ...names];
  const r = spawnSync(cmd!, args, {
    encoding: 'utf8',
    input: '',
    env: { ...process.env, PLRUST_PROBE_ENV: '1', HOME: dirs.home },
    timeout: 120_000,
  });
  const results = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const m = /^(\w+) (\S+)$/.exec(line);
    if (m && names.includes(m[1]!)) results.set(m[1]!, m[2]!);
  }
  return { status: r.status, results, stdout: r.stdout, stderr: r.stderr };
}

export function assertRestricted(run: HostRun, workdir: string): void {
  assert.equal(run.status, 0, `host exited with ${run.status}:\n${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, /^host-survived$/m, 'the host must survive every probe');
  for (const [name, expected] of Object.entries(DENIED)) {
    assert.equal(
      run.results.get(name),
      expected,
      `probe ${name}: expected ${expected} (1 = error, 2 = caught panic), output:\n${run.stdout}`,
    );
  }
  for (const name of ALLOWED) assert.equal(run.results.get(name), '0', `allowed probe ${name} must still work`);
  assert.ok(!fs.existsSync(path.join(workdir, 'written.txt')), 'fs::write must not create a file');
  assert.doesNotMatch(run.stdout, /plrust-probe:/, 'print! must not reach the host stdout');
  assert.doesNotMatch(
    run.stderr,
    /plrust-probe:|panicked at/,
    'neither eprint! nor the default panic hook may write to stderr',
  );
}
