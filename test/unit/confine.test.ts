/**
 * The sandbox planner (src/confine/plan.ts) on described hosts, the
 * classification of how a run ended, the cache's LRU bound, and the C
 * allowlist header.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BOX,
  BWRAP,
  DEFAULT_LIMITS,
  DEFAULT_SETTINGS,
  MIB,
  PRLIMIT,
  planRun,
  type HostFacts,
  type Job,
  type PathKind,
} from '../../src/confine/plan.js';
import { classify, execPlan, limitError } from '../../src/confine/run.js';
import type { PlrustError } from '../../src/util/errors.js';
import { pruneCache } from '../../src/compile/cache.js';
import { allowlistHeader } from '../../src/install/handler-build.js';
import { parseAllowlist } from '../../src/verify/allowlist.js';

const mergedUsr: HostFacts = {
  kind: (p): PathKind =>
    (
      ({ '/bin': 'symlink', '/lib': 'symlink', '/lib64': 'symlink', '/usr/aarch64-linux-gnu': 'missing' }) as Record<
        string,
        PathKind
      >
    )[p] ?? 'dir',
  readlink: (p) => `usr${p}`,
  env: { PATH: '/secret/bin', PGPASSWORD: 'hunter2' },
};

const job: Job = {
  program: '/usr/bin/rustc',
  args: (at) => ['--crate-type', 'cdylib', path.join(at.src, 'lib.rs'), '-o', path.join(at.out, 'lib.so')],
  readOnly: ['/opt/plrust/toolchains/rust-1.96.0-x'],
  src: '/var/cache/plrust/k/tmp/cache-1/src',
  out: '/var/cache/plrust/k/tmp/cache-1/out',
  env: { RUSTC_BOOTSTRAP: '1' },
};

/** The bwrap arguments as (option, operands) groups, for lookups. */
function binds(args: string[], option: string): string[][] {
  const out: string[][] = [];
  const end = args.indexOf('--');
  for (let i = 0; i < end; i++) if (args[i] === option) out.push([args[i + 1]!, args[i + 2]!]);
  return out;
}

describe('the sandbox planner', () => {
  test('a sandboxed run: namespaces, empty environment, only system dirs, toolchain and the job', () => {
    const plan = planRun(job, DEFAULT_SETTINGS, mergedUsr);
    assert.equal(plan.command, BWRAP);
    assert.deepEqual(plan.env, {}, "bwrap's own environment stays empty: the box's /proc/1/environ shows it");
    for (const flag of ['--unshare-all', '--unshare-user', '--disable-userns', '--die-with-parent', '--new-session'])
      assert.ok(plan.args.includes(flag), flag);
    assert.ok(plan.args.includes('--clearenv'));
    const setenv = binds(plan.args, '--setenv').map(([k]) => k);
    assert.deepEqual(setenv.sort(), ['HOME', 'LC_ALL', 'PATH', 'RUSTC_BOOTSTRAP', 'TMPDIR']);
    assert.ok(!plan.args.join(' ').includes('hunter2'));

    const ro = binds(plan.args, '--ro-bind').map(([from]) => from);
    assert.deepEqual(ro, [
      '/usr/bin',
      '/usr/lib',
      '/usr/lib64',
      '/usr/libexec',
      '/usr/x86_64-linux-gnu',
      '/etc/alternatives',
      '/opt/plrust/toolchains/rust-1.96.0-x',
      job.src,
    ]);
    for (const hidden of ['/', '/etc', '/home', '/root', '/var', '/usr', '/usr/share', '/usr/local'])
      assert.ok(!ro.includes(hidden), `${hidden} is not visible`);
    assert.deepEqual(binds(plan.args, '--bind'), [[job.out, BOX.out]]);
    assert.deepEqual(binds(plan.args, '--symlink'), [
      ['usr/bin', '/bin'],
      ['usr/lib', '/lib'],
      ['usr/lib64', '/lib64'],
    ]);
    // a fresh /proc of its own pid namespace, and a size-bounded scratch file system
    assert.deepEqual(binds(plan.args, '--proc')[0]![0], '/proc');
    const size = plan.args.indexOf('--size');
    assert.equal(plan.args[size + 1], String(64 * MIB));
    assert.deepEqual(plan.args.slice(size + 2, size + 4), ['--tmpfs', BOX.root]);
  });

  test('the limits apply inside the box, to rustc and everything it starts', () => {
    const plan = planRun(job, DEFAULT_SETTINGS, mergedUsr);
    const tail = plan.args.slice(plan.args.indexOf('--') + 1);
    assert.deepEqual(tail.slice(0, 8), [
      PRLIMIT,
      `--as=${1024 * MIB}`,
      '--cpu=60:61',
      `--fsize=${16 * MIB}`,
      '--core=0',
      '--nproc=64',
      '--',
      '/usr/bin/rustc',
    ]);
    assert.deepEqual(tail.slice(8), ['--crate-type', 'cdylib', `${BOX.src}/lib.rs`, '-o', `${BOX.out}/lib.so`]);
  });

  test('the scratch space grows with the library limit', () => {
    const plan = planRun(
      job,
      { ...DEFAULT_SETTINGS, limits: { ...DEFAULT_LIMITS, outputBytes: 100 * MIB } },
      mergedUsr,
    );
    assert.equal(plan.scratchBytes, 400 * MIB);
  });

  test('a split-/usr host gets its /lib bound, not symlinked', () => {
    const split: HostFacts = { ...mergedUsr, kind: (p) => (p === '/lib64' ? 'missing' : 'dir') };
    const plan = planRun(job, DEFAULT_SETTINGS, split);
    const ro = binds(plan.args, '--ro-bind').map(([from]) => from);
    assert.ok(ro.includes('/lib') && ro.includes('/bin') && !ro.includes('/lib64'));
    assert.deepEqual(binds(plan.args, '--symlink'), []);
  });

  test('a compiler outside /usr brings its own installation', () => {
    const plan = planRun(
      { ...job, program: '/opt/rust/bin/rustc', readOnly: [...job.readOnly, '/opt/rust'] },
      DEFAULT_SETTINGS,
      mergedUsr,
    );
    assert.ok(binds(plan.args, '--ro-bind').some(([from]) => from === '/opt/rust'));
  });

  test('a directory that would show the data directory, /etc or a home is refused', () => {
    for (const dir of ['/', '/var', '/home', '/etc', '/tmp/..']) {
      assert.throws(
        () => planRun({ ...job, readOnly: [dir] }, DEFAULT_SETTINGS, mergedUsr),
        (e: Error & { code?: string }) => e.code === 'SANDBOX_UNSAFE',
        dir,
      );
    }
    const protect = { ...DEFAULT_SETTINGS, protect: ['/srv/pg/data'] };
    for (const dir of ['/srv/pg', '/srv/pg/data/plrust'])
      assert.throws(() => planRun({ ...job, out: dir }, protect, mergedUsr), /would expose \/srv\/pg\/data/);
    assert.doesNotThrow(() => planRun({ ...job, out: '/srv/plrust/out' }, protect, mergedUsr));
  });

  test('limits must be positive integers', () => {
    assert.throws(
      () => planRun(job, { ...DEFAULT_SETTINGS, limits: { ...DEFAULT_LIMITS, memoryBytes: 0 } }, mergedUsr),
      /memory limit must be a positive integer/,
    );
  });

  test('without the sandbox: the limits still apply, except the per-user process count', () => {
    const plan = planRun(job, { ...DEFAULT_SETTINGS, sandbox: false }, mergedUsr);
    assert.equal(plan.command, PRLIMIT);
    assert.equal(plan.sandboxed, false);
    assert.ok(plan.args.includes(`--as=${1024 * MIB}`));
    assert.ok(!plan.args.some((a) => a.startsWith('--nproc')));
    assert.ok(plan.args.includes(`${job.src}/lib.rs`));
  });
});

describe('how a confined run ended', () => {
  test('signals and messages map to the limit that stopped the run', () => {
    assert.equal(classify(152, null, ''), 'cpuSeconds');
    assert.equal(
      classify(1, null, 'collect2: fatal error: ld terminated with signal 25 [File size limit exceeded]'),
      'outputBytes',
    );
    assert.equal(classify(134, null, 'memory allocation of 1048576 bytes failed\n'), 'memoryBytes');
    assert.equal(
      classify(101, null, 'thread panicked: failed to spawn thread: Resource temporarily unavailable'),
      'processes',
    );
    assert.equal(classify(1, null, 'error[E0425]: cannot find value `x` in this scope'), undefined);
  });

  test('a limit error names the limit, its value and the setting that raises it', () => {
    const e = limitError('memoryBytes', DEFAULT_LIMITS, 'compiling f for x86_64-postgres-linux-gnu');
    assert.equal(e.message, "compiling f for x86_64-postgres-linux-gnu exceeded the compiler's memory limit (1 GB)");
    assert.match(e.hint ?? '', /plrust\.compile_memory_limit/);
    assert.match(e.hint ?? '', /--memory-limit/);
    assert.match(limitError('outputBytes', DEFAULT_LIMITS, 'x').message, /library size limit \(16 MB\)/);
  });
});

describe('the cache bound', () => {
  test('least recently used entries go first, and stale scratch directories go', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'plrust-prune-'));
    try {
      const cache = path.join(root, 'cache');
      const tmp = path.join(root, 'tmp');
      const now = Date.now();
      const entry = (name: string, bytes: number, ageS: number) => {
        const dir = path.join(cache, name);
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, 'lib.so'), Buffer.alloc(bytes));
        const t = new Date(now - ageS * 1000);
        fs.utimesSync(dir, t, t);
      };
      entry('old', 1000, 300);
      entry('mid', 1000, 200);
      entry('new', 1000, 100);
      fs.mkdirSync(path.join(tmp, 'cache-killed'), { recursive: true });
      const stale = new Date(now - 2 * 3600 * 1000);
      fs.utimesSync(path.join(tmp, 'cache-killed'), stale, stale);
      fs.mkdirSync(path.join(tmp, 'cache-running'));
      const r = pruneCache(cache, tmp, 2500, now);
      assert.deepEqual(fs.readdirSync(cache).sort(), ['mid', 'new']);
      assert.deepEqual(r, { removed: 1, freedBytes: 1000, keptBytes: 2000 });
      assert.deepEqual(fs.readdirSync(tmp), ['cache-running']);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('the allowlist compiled into the handler', () => {
  test('sorted in strcmp order, libraries apart, nothing that cannot be a C string', () => {
    const list = parseAllowlist(
      JSON.stringify({
        schema: 1,
        libraries: [{ name: 'libc.so.6', reason: 'r' }],
        allow: [
          {
            group: 'g',
            reason: 'r',
            symbols: [
              { name: 'memcpy', reason: 'r' },
              { name: '_Unwind_Resume', reason: 'r' },
            ],
          },
        ],
        deny: [{ group: 'd', reason: 'r', symbols: [{ name: 'system', reason: 'r' }] }],
      }),
      'list.json',
    );
    const header = allowlistHeader(list);
    assert.match(header, /plrust_allowed_symbols\[\] = \{\n\t"_Unwind_Resume",\n\t"memcpy",\n\};/);
    assert.match(header, /plrust_allowed_libraries\[\] = \{\n\t"libc\.so\.6",\n\};/);
    assert.ok(!header.includes('system'));
    const bad = parseAllowlist(
      JSON.stringify({
        schema: 1,
        libraries: [],
        allow: [{ group: 'g', reason: 'r', symbols: [{ name: 'a"b', reason: 'r' }] }],
        deny: [],
      }),
      'bad.json',
    );
    assert.throws(() => allowlistHeader(bad), /cannot go into C/);
  });
});

describe('when the sandbox cannot be set up', () => {
  const plan = planRun(job, DEFAULT_SETTINGS, mergedUsr);

  test('bwrap missing: refused with the fix, never run unconfined', async () => {
    await assert.rejects(execPlan({ ...plan, command: '/nonexistent/bwrap' }), (e: PlrustError) => {
      assert.equal(e.code, 'SANDBOX_UNAVAILABLE');
      assert.match(e.hint ?? '', /apt-get install bubblewrap/);
      assert.match(e.hint ?? '', /plrust\.compile_sandbox = off/);
      return true;
    });
  });

  test("bwrap's own failure: refused with its reason", async () => {
    await assert.rejects(
      execPlan({ ...plan, args: ['--no-such-option', ...plan.args] }),
      (e: PlrustError) => e.code === 'SANDBOX_UNAVAILABLE' && /no-such-option/.test(e.message),
    );
  });
});
