/**
 * The probe suite (issue 4): every denied std API, compiled into one cdylib
 * (test/probes/probes.rs) and called through a C host that stands in for the
 * PostgreSQL backend (test/probes/host.c). Against the restricted sysroots
 * each probe must be refused, by an error (1) or a caught panic (2), and the
 * host must survive all of them, natively on x86_64 and under qemu-user on
 * aarch64. The same library built against the host's ordinary std shows each
 * probe would have worked, so a pass proves the restriction and not a broken
 * probe.
 *
 * Sysroots come from test/helpers/std-sysroot.ts (PLRUST_TEST_SYSROOT_<ARCH>
 * or a cached build: the first run builds std, about a minute per target).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../../src/util/package-root.js';
import { getTestSysroot, type TestArch } from '../helpers/std-sysroot.js';

const RUSTC = '/usr/bin/rustc';
const PROBES = path.join(packageRoot(), 'test', 'probes');

/**
 * What each denied probe returns on the restricted std: 1 where the API has
 * an error path (io::Result, Option, an empty iterator), 2 where std can only
 * panic (print!, thread::spawn, env::vars, temp_dir, exit, abort, allocation
 * failure).
 */
const DENIED: Record<string, '1' | '2'> = {
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
const ALLOWED = [
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
const LETHAL: Record<string, string> = {
  process_exit: 'ended-exit-0',
  process_abort: 'ended-signal-6',
  handle_alloc_error: 'ended-signal-6',
};

const ALL = [...Object.keys(DENIED), ...ALLOWED];

let tmp: string;
let workdir: string;

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'plrust-probes-'));
  workdir = path.join(tmp, 'work');
  fs.mkdirSync(workdir);
  fs.writeFileSync(path.join(workdir, 'input.txt'), 'probe input\n');
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function mustRun(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed:\n${r.stdout}${r.stderr}`);
}

function buildHost(compiler: string, out: string): string {
  mustRun(compiler, ['-O1', '-Wall', '-Werror', '-rdynamic', '-o', out, path.join(PROBES, 'host.c'), '-ldl']);
  return out;
}

function buildRestrictedProbes(sysroot: string, spec: string, out: string): string {
  mustRun(
    RUSTC,
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

interface HostRun {
  status: number | null;
  results: Map<string, string>;
  stdout: string;
  stderr: string;
}

function runHost(command: string[], lib: string, names: string[], fork = false): HostRun {
  const [cmd, ...pre] = command;
  const args = [...pre, ...(fork ? ['--fork'] : []), lib, workdir, ...names];
  const r = spawnSync(cmd!, args, {
    encoding: 'utf8',
    input: '',
    env: { ...process.env, PLRUST_PROBE_ENV: '1', HOME: tmp },
    timeout: 120_000,
  });
  const results = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const m = /^(\w+) (\S+)$/.exec(line);
    if (m && names.includes(m[1]!)) results.set(m[1]!, m[2]!);
  }
  return { status: r.status, results, stdout: r.stdout, stderr: r.stderr };
}

function assertRestricted(run: HostRun): void {
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

async function restrictedProbeLibrary(arch: TestArch): Promise<string> {
  const { sysroot, spec } = await getTestSysroot(arch);
  return buildRestrictedProbes(sysroot, spec, path.join(tmp, `probes-${arch}.so`));
}

describe('probe suite against the restricted std', () => {
  test('x86_64: every denied API is refused and the host survives', async () => {
    const lib = await restrictedProbeLibrary('x86_64');
    const host = buildHost('gcc', path.join(tmp, 'host-x86_64'));
    assertRestricted(runHost([host], lib, ALL));
  });

  test('aarch64 under qemu-user: every denied API is refused and the host survives', async () => {
    const lib = await restrictedProbeLibrary('aarch64');
    const host = buildHost('aarch64-linux-gnu-gcc', path.join(tmp, 'host-aarch64'));
    assertRestricted(runHost(['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu', host], lib, ALL));
  });

  test('the std::os extensions of denied subsystems do not exist for the postgres vendor', async () => {
    const { sysroot, spec } = await getTestSysroot('x86_64');
    const snippets: Record<string, string> = {
      'unix sockets': 'pub use std::os::unix::net::UnixStream;',
      'unix fs extensions': 'pub use std::os::unix::fs::PermissionsExt;',
      'unix process extensions': 'pub use std::os::unix::process::CommandExt;',
      'pthread handles': 'pub use std::os::unix::thread::JoinHandleExt;',
      'linux fs extensions': 'pub use std::os::linux::fs::MetadataExt;',
      'File from a descriptor': 'pub fn f(fd: std::os::fd::OwnedFd) -> std::fs::File { std::fs::File::from(fd) }',
      'descriptor of a socket': 'pub fn f(s: &std::net::TcpStream) -> i32 { use std::os::fd::AsRawFd; s.as_raw_fd() }',
    };
    for (const [what, code] of Object.entries(snippets)) {
      const src = path.join(tmp, 'snippet.rs');
      fs.writeFileSync(src, `${code}\n`);
      const common = [
        '--crate-type',
        'lib',
        '--edition',
        '2021',
        '--emit',
        'metadata',
        '-o',
        path.join(tmp, 'snippet.rmeta'),
        src,
      ];
      const restricted = spawnSync(RUSTC, ['-Zunstable-options', '--sysroot', sysroot, '--target', spec, ...common], {
        encoding: 'utf8',
        env: { ...process.env, RUSTC_BOOTSTRAP: '1' },
      });
      assert.notEqual(restricted.status, 0, `${what} must not compile against the restricted std`);
      assert.match(
        restricted.stderr,
        /error\[E0(432|277|308|599)\]/,
        `${what}: expected a missing item, got:\n${restricted.stderr}`,
      );
      const ordinary = spawnSync(RUSTC, common, { encoding: 'utf8' });
      assert.equal(ordinary.status, 0, `${what} must compile against the ordinary std:\n${ordinary.stderr}`);
    }
  });
});

describe('probe suite against the ordinary host std', () => {
  test('every probe works there (the lethal ones end a forked child)', () => {
    const lib = path.join(tmp, 'probes-host.so');
    mustRun(RUSTC, ['--crate-type', 'cdylib', '--edition', '2021', '-O', '-o', lib, path.join(PROBES, 'probes.rs')]);
    const host = buildHost('gcc', path.join(tmp, 'host-native'));

    const inProcess = ALL.filter((n) => !(n in LETHAL));
    const run = runHost([host], lib, inProcess);
    assert.equal(run.status, 0, `host exited with ${run.status}:\n${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /^host-survived$/m);
    for (const name of inProcess)
      assert.equal(run.results.get(name), '0', `probe ${name} should work on the ordinary std, output:\n${run.stdout}`);
    assert.match(run.stdout, /plrust-probe: println works/);
    assert.ok(fs.existsSync(path.join(workdir, 'written.txt')), 'fs::write created its file');
    fs.rmSync(path.join(workdir, 'written.txt'));

    const lethal = runHost([host], lib, Object.keys(LETHAL), true);
    assert.equal(lethal.status, 0, `host exited with ${lethal.status}:\n${lethal.stdout}\n${lethal.stderr}`);
    for (const [name, ending] of Object.entries(LETHAL)) {
      assert.equal(lethal.results.get(name), ending, `probe ${name} should end the process on the ordinary std`);
    }
  });
});
