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
import { getTestSysroot, type TestArch } from '../helpers/std-sysroot.js';
import {
  ALL,
  LETHAL,
  PROBES,
  assertRestricted,
  buildHost,
  buildRestrictedProbes,
  mustRun,
  runHost,
} from '../helpers/probe-suite.js';

const RUSTC = '/usr/bin/rustc';

let tmp: string;
let workdir: string;

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'plrust-probes-'));
  workdir = path.join(tmp, 'work');
  fs.mkdirSync(workdir);
  fs.writeFileSync(path.join(workdir, 'input.txt'), 'probe input\n');
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function restrictedProbeLibrary(arch: TestArch): Promise<string> {
  const { sysroot, spec } = await getTestSysroot(arch);
  return buildRestrictedProbes(RUSTC, sysroot, spec, path.join(tmp, `probes-${arch}.so`));
}

describe('probe suite against the restricted std', () => {
  test('x86_64: every denied API is refused and the host survives', async () => {
    const lib = await restrictedProbeLibrary('x86_64');
    const host = buildHost('gcc', path.join(tmp, 'host-x86_64'));
    assertRestricted(runHost([host], lib, ALL, { workdir, home: tmp }), workdir);
  });

  test('aarch64 under qemu-user: every denied API is refused and the host survives', async () => {
    const lib = await restrictedProbeLibrary('aarch64');
    const host = buildHost('aarch64-linux-gnu-gcc', path.join(tmp, 'host-aarch64'));
    assertRestricted(
      runHost(['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu', host], lib, ALL, { workdir, home: tmp }),
      workdir,
    );
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
    const run = runHost([host], lib, inProcess, { workdir, home: tmp });
    assert.equal(run.status, 0, `host exited with ${run.status}:\n${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /^host-survived$/m);
    for (const name of inProcess)
      assert.equal(run.results.get(name), '0', `probe ${name} should work on the ordinary std, output:\n${run.stdout}`);
    assert.match(run.stdout, /plrust-probe: println works/);
    assert.ok(fs.existsSync(path.join(workdir, 'written.txt')), 'fs::write created its file');
    fs.rmSync(path.join(workdir, 'written.txt'));

    const lethal = runHost([host], lib, Object.keys(LETHAL), { workdir, home: tmp }, true);
    assert.equal(lethal.status, 0, `host exited with ${lethal.status}:\n${lethal.stdout}\n${lethal.stderr}`);
    for (const [name, ending] of Object.entries(LETHAL)) {
      assert.equal(lethal.results.get(name), ending, `probe ${name} should end the process on the ordinary std`);
    }
  });
});
