/**
 * Issue 19: plrust.isolation = process (docs/ISOLATION.md). Function code
 * runs in a confined runner process; whatever it does to memory, the
 * backend's memory is out of its reach, and every fault is an ERROR of the
 * call while the session and the server go on.
 *
 * One cluster, plrust put in place by the real `plrust install`. Two kinds
 * of functions:
 * - a hand-written library that does what safe Rust must never do (raw
 *   reads and writes of any address, raw system calls, a scan of its whole
 *   address space), built here with /usr/bin/rustc against the restricted
 *   sysroot and stored as an artifact by the superuser — the test-only
 *   route around the trust checker that a soundness bug would give an
 *   attacker. The same library backs a function owned by the isolated role
 *   and one owned by the superuser, which runs in-process: the control that
 *   shows each probe would find what it looks for if it could.
 * - real functions compiled by `plrust compile`, for the ABI's conversions,
 *   the run-time faults and cancellation through the runner.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PG_CONFIG, startCluster, type PgCluster, type PgSession } from '../helpers/pg-cluster.js';
import { parseJson, runPlrust } from '../helpers/cli.js';
import { installPlrust, tempHome, uninstallPlrust } from '../helpers/plrust-install.js';
import { getTestSysroot } from '../helpers/std-sysroot.js';

const execFileP = promisify(execFile);
const ARCH = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
const work = mkdtempSync('/tmp/plrust-isolation-e2e-');
chmodSync(work, 0o755);
process.once('exit', () => rmSync(work, { recursive: true, force: true }));

/*
 * raw(op text, arg int8) returns int8, no allocation anywhere:
 *   pid            the process's pid, by a raw getpid
 *   read           the 8 bytes at address arg
 *   write          writes arg's own value to address arg
 *   socket         a raw socket(2): a system call the runner forbids
 *   open:<path>    a raw openat(2) for reading: the descriptor (closed again) or -errno
 *   request        a host request with an op no handler knows: an FNV-1a hash
 *                  of the status byte and the reply's bytes (-1: no callback)
 *   forge          an SPI request whose numeric argument is a plain value, 8 bytes
 *                  that would be a pointer: 10 * status + 1 if the reply says
 *                  "malformed request"
 *   scan:<rev>     how often the reverse of <rev> occurs in the process's
 *                  anonymous and shared memory (per /proc/self/maps), compared
 *                  on the fly so that no copy of the needle exists in it
 */
const RAW_LIBRARY = `
use std::ffi::c_void;

#[repr(C)]
pub struct Host {
    abi_version: u32,
    flags: u32,
    ctx: *mut c_void,
    alloc: *const c_void,
    dealloc: unsafe extern "C" fn(*mut c_void, *mut u8, usize, usize),
    realloc: *const c_void,
    interrupt_flag: *const i32,
    interrupt_requested: *const c_void,
    stack_limit: usize,
    request: Option<unsafe extern "C" fn(*mut c_void, *const u8, usize, *mut Slice) -> i32>,
}

static HOST: std::sync::atomic::AtomicPtr<Host> = std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());

unsafe fn request() -> i64 {
    let h = &*HOST.load(std::sync::atomic::Ordering::Relaxed);
    let Some(f) = h.request else { return -1 };
    let msg = b"\\xf0\\xff\\xff\\xffplrust isolation: forwarded byte for byte";
    let mut reply = Slice { ptr: std::ptr::null(), len: 0 };
    let status = f(h.ctx, msg.as_ptr(), msg.len(), &mut reply);
    let mut hash: u64 = 0xcbf29ce484222325;
    let mut eat = |b: u8| hash = (hash ^ b as u64).wrapping_mul(0x100000001b3);
    eat(status as u8);
    for i in 0..reply.len {
        eat(*reply.ptr.add(i));
    }
    if !reply.ptr.is_null() {
        (h.dealloc)(h.ctx, reply.ptr as *mut u8, reply.len, 1);
    }
    (hash >> 1) as i64
}

unsafe fn forge() -> i64 {
    let h = &*HOST.load(std::sync::atomic::Ordering::Relaxed);
    let Some(f) = h.request else { return -1 };
    // op 2 (SPI), LIMIT 1, the query, one argument: OID 1700, shape 1 (plain), 8 bytes
    let msg = b"\\x02\\0\\0\\0\\x01\\0\\0\\0\\0\\0\\0\\0\\x0f\\0\\0\\0\\0\\0\\0\\0SELECT $1::text\\x01\\0\\0\\0\\xa4\\x06\\0\\0\\x01AAAAAAAA";
    let mut reply = Slice { ptr: std::ptr::null(), len: 0 };
    let status = f(h.ctx, msg.as_ptr(), msg.len(), &mut reply);
    let mut said = 0;
    if !reply.ptr.is_null() {
        let r = std::slice::from_raw_parts(reply.ptr, reply.len);
        said = r.windows(17).any(|w| w == b"malformed request") as i64;
        (h.dealloc)(h.ctx, reply.ptr as *mut u8, reply.len, 1);
    }
    status as i64 * 10 + said
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct Slice { ptr: *const u8, len: usize }

#[repr(C)]
#[derive(Clone, Copy)]
pub union Val { i64: i64, bytes: Slice }

#[repr(C)]
#[derive(Clone, Copy)]
pub struct Value { is_null: u8, shape: u8, pad: [u8; 6], v: Val }

#[repr(C)]
pub struct Error { message: Slice, location: Slice }

#[cfg(target_arch = "x86_64")]
mod nr { pub const GETPID: i64 = 39; pub const OPENAT: i64 = 257; pub const READ: i64 = 0; pub const CLOSE: i64 = 3; pub const SOCKET: i64 = 41; }
#[cfg(target_arch = "aarch64")]
mod nr { pub const GETPID: i64 = 172; pub const OPENAT: i64 = 56; pub const READ: i64 = 63; pub const CLOSE: i64 = 57; pub const SOCKET: i64 = 198; }

#[cfg(target_arch = "x86_64")]
unsafe fn sys(n: i64, a: i64, b: i64, c: i64) -> i64 {
    let r;
    std::arch::asm!("syscall", inlateout("rax") n => r, in("rdi") a, in("rsi") b, in("rdx") c,
        lateout("rcx") _, lateout("r11") _, options(nostack));
    r
}
#[cfg(target_arch = "aarch64")]
unsafe fn sys(n: i64, a: i64, b: i64, c: i64) -> i64 {
    let r;
    std::arch::asm!("svc 0", in("x8") n, inlateout("x0") a => r, in("x1") b, in("x2") c, options(nostack));
    r
}

static mut MAPS: [u8; 1 << 20] = [0; 1 << 20];

fn hex(s: &[u8]) -> usize {
    s.iter().fold(0, |a, &d| a * 16 + (d as char).to_digit(16).unwrap_or(0) as usize)
}

unsafe fn count_in(start: usize, end: usize, rev: &[u8]) -> i64 {
    let n = rev.len();
    let mut hits = 0;
    let mut p = start;
    while p + n <= end {
        let mut j = 0;
        while j < n && *((p + j) as *const u8) == rev[n - 1 - j] {
            j += 1;
        }
        if j == n {
            hits += 1;
        }
        p += 1;
    }
    hits
}

unsafe fn scan(rev: &[u8]) -> i64 {
    let fd = sys(nr::OPENAT, -100, b"/proc/self/maps\\0".as_ptr() as i64, 0);
    if fd < 0 {
        return -1000 + fd;
    }
    let buf = &mut *std::ptr::addr_of_mut!(MAPS);
    let mut len = 0usize;
    loop {
        let r = sys(nr::READ, fd, buf.as_mut_ptr().add(len) as i64, (buf.len() - len) as i64);
        if r <= 0 { break; }
        len += r as usize;
    }
    sys(nr::CLOSE, fd, 0, 0);
    let mut hits = 0;
    for line in buf[..len].split(|&c| c == b'\\n') {
        let f: Vec<&[u8]> = line.split(|&c| c == b' ').filter(|w| !w.is_empty()).collect();
        if f.len() < 5 || f[1][0] != b'r' { continue; }
        let name: &[u8] = if f.len() > 5 { f[5] } else { b"" };
        let wanted = name.is_empty() || name.starts_with(b"[heap]") || name.starts_with(b"/dev/zero")
            || name.starts_with(b"/SYSV") || name.starts_with(b"/dev/shm") || name.starts_with(b"/memfd:");
        if !wanted { continue; }
        let mut range = f[0].split(|&c| c == b'-');
        let start = hex(range.next().unwrap());
        let mut end = hex(range.next().unwrap());
        // the isolation region is 1 GiB of mostly untouched pages: reading them would allocate them
        let cap = if name.starts_with(b"/memfd:plrust-isolation") { 64 << 20 } else { 1 << 30 };
        if end - start > cap { end = start + cap; }
        hits += count_in(start, end, rev);
    }
    hits
}

#[no_mangle]
pub extern "C" fn plrust_abi_version() -> u32 { 2 }

#[no_mangle]
pub extern "C" fn plrust_signature() -> *const u8 {
    concat!(r#"{"name":"raw","args":[{"name":"op","type":"text"},{"name":"arg","type":"int8"}],"returns":"int8","strict":true}"#, "\\0").as_ptr()
}

#[no_mangle]
pub unsafe extern "C" fn plrust_init(host: *const Host) -> i32 {
    if host.is_null() || (*host).abi_version != 2 {
        return 7;
    }
    HOST.store(host as *mut Host, std::sync::atomic::Ordering::Relaxed);
    0
}

#[no_mangle]
pub unsafe extern "C" fn plrust_call(args: *const Value, _n: u32, result: *mut Value, _e: *mut Error) -> i32 {
    let args = std::slice::from_raw_parts(args, 2);
    let op = std::slice::from_raw_parts(args[0].v.bytes.ptr, args[0].v.bytes.len);
    let arg = args[1].v.i64;
    let r = if op == b"pid" {
        sys(nr::GETPID, 0, 0, 0)
    } else if op == b"read" {
        std::ptr::read_volatile(arg as usize as *const i64)
    } else if op == b"write" {
        std::ptr::write_volatile(arg as usize as *mut i64, arg);
        0
    } else if op == b"socket" {
        sys(nr::SOCKET, 2, 1, 0)
    } else if op.starts_with(b"open:") {
        let mut path = [0u8; 256];
        path[..op.len() - 5].copy_from_slice(&op[5..]);
        let fd = sys(nr::OPENAT, -100, path.as_ptr() as i64, 0);
        if fd >= 0 {
            sys(nr::CLOSE, fd, 0, 0);
        }
        fd
    } else if op == b"request" {
        request()
    } else if op == b"forge" {
        forge()
    } else if op.starts_with(b"scan:") {
        scan(&op[5..])
    } else {
        -1
    };
    *result = Value { is_null: 0, shape: 0, pad: [0; 6], v: Val { i64: r } };
    let _ = std::ptr::null::<c_void>();
    0
}
`;

const RAW_BODY = 'Ok(None) // hand-written library: test/e2e/isolation.test.ts';

let pg: PgCluster;
let home: string | undefined;
let postmaster = 0;
let bystander: PgSession;

async function buildRawLibrary(): Promise<string> {
  const tool = await getTestSysroot(ARCH);
  const src = join(work, 'raw.rs');
  const out = join(work, 'raw.so');
  writeFileSync(src, RAW_LIBRARY);
  await execFileP(
    '/usr/bin/rustc',
    [
      ...['-Zunstable-options', '--sysroot', tool.sysroot, '--target', tool.spec],
      ...['--crate-type', 'cdylib', '--edition', '2021', '-C', 'opt-level=1', '-C', 'panic=abort', src, '-o', out],
    ],
    { env: { ...process.env, RUSTC_BOOTSTRAP: '1' }, maxBuffer: 16 << 20 },
  );
  chmodSync(out, 0o644);
  return out;
}

/** The server survived: same postmaster, no signal death, the bystander's backend still answers. */
async function assertContained(what: string): Promise<void> {
  assert.equal(pg.postmasterPid(), postmaster, `${what}: the postmaster restarted`);
  assert.doesNotMatch(pg.logText(), /terminated by signal/, `${what}: a backend died on a signal`);
  const r = await bystander.run('SELECT pg_backend_pid();');
  assert.equal(r.stdout.trim(), String(bystander.pid), `${what}: the bystander's session ended (${r.stderr})`);
}

/** Runs `sql` in one session as mallory: it fails with `error`, then the same session computes again. */
async function faultIsError(
  what: string,
  sql: string,
  error: RegExp,
  after = 'SELECT raw_iso($$pid$$, 0) > 0;',
): Promise<void> {
  const s = await pg.openSession({ user: 'mallory' });
  const backend = s.pid;
  const r = await s.run(sql);
  assert.match(r.stderr, error, what);
  assert.ok(!s.closed, `${what}: the session ended`);
  const again = await s.run(`SELECT pg_backend_pid(); ${after}`);
  assert.equal(again.stdout.trim(), `${backend}\nt`, `${what}: the session does not go on (${again.stderr})`);
  await s.close();
  await assertContained(what);
}

describe('plrust.isolation = process', () => {
  before(async () => {
    home = await tempHome('isolation', { toolchain: true });
    await installPlrust(home);
    pg = await startCluster({ settings: { 'plrust.targets': ARCH } });
    postmaster = pg.postmasterPid();
    const library = await buildRawLibrary();
    await pg.psql(
      `CREATE ROLE mallory LOGIN; GRANT CREATE ON SCHEMA public TO mallory; CREATE EXTENSION plrust;
       ALTER ROLE mallory SET plrust.isolation = 'process';
       CREATE TABLE secrets (s text); INSERT INTO secrets VALUES ('TABLESECRET-5678');
       SET check_function_bodies = off;
       CREATE FUNCTION raw_admin(op text, arg int8) RETURNS int8 STRICT LANGUAGE plrust AS $x$${RAW_BODY}$x$;
       INSERT INTO plrust.artifacts (definition_hash, arch, abi_version, toolchain, sha256, library)
         VALUES (plrust.definition_hash('raw_admin(text,int8)'), '${ARCH}', 2, 'hand-written',
                 '${createHash('sha256').update(readFileSync(library)).digest('hex')}',
                 pg_read_binary_file('${library}'));`,
    );
    await pg.psql(
      `SET check_function_bodies = off;
       CREATE FUNCTION raw_iso(op text, arg int8) RETURNS int8 STRICT LANGUAGE plrust AS $x$${RAW_BODY}$x$;`,
      { user: 'mallory' },
    );
    bystander = await pg.openSession();
  });

  after(async () => {
    await pg?.stop();
    if (home !== undefined) await uninstallPlrust(home);
  });

  test('isolation follows the owner: the same library runs in a runner for mallory, in-process for the superuser', async () => {
    for (const user of ['mallory', pg.superuser]) {
      const [backend, admin, iso] =
        (await pg.query(`SELECT pg_backend_pid(), raw_admin('pid', 0), raw_iso('pid', 0);`, { user }))[0] ??
        assert.fail('no row');
      assert.equal(admin, backend, `${user}: the superuser's function runs in the backend`);
      assert.notEqual(iso, backend, `${user}: mallory's function runs elsewhere`);
      // its own pid namespace: bubblewrap is 1 there
      assert.ok(Number(iso) > 1 && Number(iso) < 100, `${user}: runner pid ${iso}`);
    }
    // the runner is a grandchild of the backend (bubblewrap between), never the backend forked
    const s = await pg.openSession({ user: 'mallory' });
    await s.run('SELECT raw_iso($$pid$$, 0);');
    const children = readFileSync(`/proc/${s.pid}/task/${s.pid}/children`, 'utf8').trim().split(/\s+/);
    assert.equal(children.length, 1);
    assert.match(readFileSync(`/proc/${children[0]}/cmdline`, 'utf8'), /^\/usr\/bin\/bwrap\0/);
    await s.close();
  });

  test("the owner's setting in the database beats the database's, which beats the server's", async () => {
    const db = await pg.psql('SELECT current_database();');
    const where = async () => {
      const [same] = (await pg.query(`SELECT raw_admin('pid', 0) = pg_backend_pid();`))[0] ?? [];
      return same === 't' ? 'in-process' : 'process';
    };
    try {
      await pg.psql(`ALTER DATABASE ${db} SET plrust.isolation = 'process';`);
      assert.equal(await where(), 'process', "the database's setting applies to an owner without one");
      await pg.psql(`ALTER ROLE ${pg.superuser} IN DATABASE ${db} SET plrust.isolation = 'in-process';`);
      assert.equal(await where(), 'in-process', "the owner's setting in the database comes first");
      // a session's SET does not move a function: its owner decides
      const [moved] =
        (await pg.query(`SET plrust.isolation = 'process'; SELECT raw_admin('pid', 0) = pg_backend_pid();`))[0] ?? [];
      assert.equal(moved, 't');
    } finally {
      await pg.psql(
        `ALTER DATABASE ${db} RESET plrust.isolation; ALTER ROLE ${pg.superuser} IN DATABASE ${db} RESET plrust.isolation;`,
      );
    }
    assert.equal(await where(), 'in-process');
  });

  test('a function sees no query text and no table data: only its own process', async () => {
    // The needles never occur whole in a query: reverse(ab) = reverse(b) || reverse(a).
    const query = `SELECT %F('scan:' || reverse('QUERYSECRET-1234'), 0) AS q,
                          %F('scan:' || reverse('-5678') || reverse('TABLESECRET'), 0) AS t;`;
    const [q, t] = (await pg.query(query.replace(/%F/g, 'raw_admin')))[0] ?? assert.fail('no row');
    assert.ok(Number(q) >= 1, `in-process, the scan finds the query text (${q})`);
    assert.ok(Number(t) >= 1, `in-process, the scan finds the table row (${t})`);
    const isolated = await pg.query(query.replace(/%F/g, 'raw_iso'), { user: 'mallory' });
    assert.deepEqual(isolated, [['0', '0']], 'the runner holds neither');
    await assertContained('scans');
  });

  test('a NULL read and wild writes are an ERROR; the session and the server go on', async () => {
    const crash =
      /ERROR: {2}PL\/Rust function "raw_iso" crashed its isolated process\nDETAIL: {2}The process was ended by a memory access fault \(SIGSEGV\)\.\nHINT: .*\nCONTEXT: {2}PL\/Rust function "raw_iso"/;
    await faultIsError('NULL read', `SELECT raw_iso('read', 0);`, crash);
    await faultIsError('wild write', `SELECT raw_iso('write', 4096);`, crash);
    await faultIsError('write to a kernel address', `SELECT raw_iso('write', -4096);`, crash);
  });

  test('the seccomp filter kills a forbidden system call: an ERROR', async () => {
    await faultIsError(
      'socket(2)',
      `SELECT raw_iso('socket', 0);`,
      /crashed its isolated process\nDETAIL: {2}The process was ended by a system call the sandbox forbids \(SIGSYS\)\./,
    );
    // in-process, the same call goes through: the filter, not the library, refused it
    assert.match(await pg.psql(`SELECT raw_admin('socket', 0) >= 0;`), /^t$/);
  });

  test('the runner sees no file system: not the data directory, not /etc', async () => {
    const q = (f: string) => `SELECT ${f}('open:PG_VERSION', 0) >= 0, ${f}('open:/etc/passwd', 0) >= 0;`;
    // the backend's working directory is the data directory
    assert.deepEqual(await pg.query(q('raw_admin')), [['t', 't']]);
    assert.deepEqual(await pg.query(q('raw_iso'), { user: 'mallory' }), [['f', 'f']]);
  });

  test('a host request crosses to the backend and its reply back, byte for byte', async () => {
    const [inProcess, isolated] = (await pg.query(`SELECT raw_admin('request', 0), raw_iso('request', 0);`))[0] ?? [];
    if (inProcess === '-1') {
      // no service is implemented in this handler yet: the backend answers with an empty error reply
      let hash = 0xcbf29ce484222325n;
      hash = ((hash ^ 1n) * 0x100000001b3n) & 0xffffffffffffffffn;
      assert.equal(isolated, String(hash >> 1n));
    } else {
      // the handler's own answer to an unknown op (an error reply), exactly as in-process
      assert.equal(isolated, inProcess);
    }
    await assertContained('request');
  });

  test('a forged request fails safe: a numeric argument in the shape of a plain value is refused', async () => {
    assert.deepEqual(await pg.query(`SELECT raw_admin('forge', 0), raw_iso('forge', 0);`), [['11', '11']]);
    assert.deepEqual(await pg.query(`SELECT 1`), [['1']], 'the backend is still there');
  });

  test('plrust doctor reports the host able to isolate; a server without its runner refuses clearly', async () => {
    const r = await runPlrust(['doctor', '--json', '--pg-config', PG_CONFIG], { home: home! });
    const report = parseJson<{ isolation: { available: boolean; runner: string; problems: string[] } }>(r);
    assert.deepEqual(report.isolation.problems, []);
    assert.equal(report.isolation.available, true);
    const runner = report.isolation.runner;
    assert.match(runner, /\/plrust_runner$/);
    const mode = statSync(runner).mode & 0o777;
    chmodSync(runner, 0o600);
    try {
      const s = await pg.openSession({ user: 'mallory' });
      const refused = await s.run(`SELECT raw_iso('pid', 0);`);
      assert.match(
        refused.stderr,
        /ERROR: {2}cannot start the isolated PL\/Rust process: the runner is not installed\nDETAIL: {2}\S+plrust_runner: Permission denied\nHINT: {2}.*plrust doctor/,
      );
      // never a silent fallback to in-process: the superuser's function still runs, mallory's does not
      assert.match((await s.run(`SELECT raw_admin('pid', 0) = pg_backend_pid();`)).stdout, /^t$/m);
      await s.close();
    } finally {
      chmodSync(runner, mode);
    }
    await assertContained('refusal');
  });

  test('only a superuser sets plrust.isolation', async () => {
    const r = await pg.psqlResult(`SELECT raw_iso('pid', 0); SET plrust.isolation = 'in-process';`, {
      user: 'mallory',
    });
    assert.match(r.stderr, /permission denied to set parameter "plrust.isolation"/);
  });

  describe('compiled functions', () => {
    before(async () => {
      await pg.psql(
        `CREATE FUNCTION iso_add(a int4, b int4) RETURNS int4 STRICT LANGUAGE plrust AS $$ Ok(Some(a + b)) $$;
         CREATE FUNCTION iso_rev(t text) RETURNS text STRICT LANGUAGE plrust AS $$ Ok(Some(t.chars().rev().collect())) $$;
         CREATE FUNCTION iso_arr(v int8[]) RETURNS text[] STRICT LANGUAGE plrust AS $$
             Ok(Some(v.iter().map(|x| x.map(|n| format!("<{n}>"))).collect()))
         $$;
         CREATE FUNCTION iso_err(n int4) RETURNS int4 STRICT LANGUAGE plrust AS $$
             if n > 0 { panic!("too big: {n}") }
             Err("not positive".into())
         $$;
         CREATE FUNCTION iso_sleep(ms int8) RETURNS int8 STRICT LANGUAGE plrust AS $$
             std::thread::sleep(std::time::Duration::from_millis(ms as u64));
             Ok(Some(ms))
         $$;
         CREATE FUNCTION iso_spin() RETURNS int8 LANGUAGE plrust AS $$
             Ok(Some(std::iter::repeat(1u8).take(usize::MAX).map(std::hint::black_box).count() as i64))
         $$;
         CREATE FUNCTION iso_abort() RETURNS int4 LANGUAGE plrust AS $$
             struct Bomb;
             impl Drop for Bomb { fn drop(&mut self) { panic!("second panic") } }
             let _b = Bomb;
             panic!("first panic")
         $$;
         CREATE FUNCTION iso_big() RETURNS int4 LANGUAGE plrust AS $$
             let frame = std::hint::black_box([7u8; 64 << 20]);
             Ok(Some(frame[12345] as i32))
         $$;`,
        { user: 'mallory' },
      );
    });

    test('values cross both ways with the ABI conversions', async () => {
      const rows = await pg.query(
        `SELECT iso_add(40, 2), iso_rev('héllo'), iso_arr(ARRAY[1, NULL, 3]::int8[]), iso_add(NULL, 1) IS NULL,
                (SELECT sum(iso_add(i, 1)) FROM generate_series(1, 1000) i);`,
        { user: 'mallory' },
      );
      assert.deepEqual(rows, [['42', 'olléh', '{<1>,NULL,<3>}', 't', '501500']]);
    });

    test('errors, panics, an abort and a stack overflow are ERRORs; the runner comes back', async () => {
      await faultIsError(
        'Err',
        'SELECT iso_err(0);',
        /ERROR: {2}not positive\nCONTEXT: {2}PL\/Rust function "iso_err"/,
      );
      await faultIsError(
        'panic',
        'SELECT iso_err(3);',
        /ERROR: {2}too big: 3\nDETAIL: {2}The function panicked at \S+:2:\d+\.\nCONTEXT: {2}PL\/Rust function "iso_err"/,
      );
      await faultIsError(
        'abort',
        'SELECT iso_abort();',
        /ERROR: {2}function aborted: .*\nDETAIL: {2}The Rust runtime cannot continue/,
      );
      await faultIsError(
        'stack overflow',
        'SELECT iso_big();',
        /ERROR: {2}function overflowed the stack\nDETAIL: [^\n]*isolated process\. The process was ended/,
      );
    });

    test('statement_timeout stops a sleep and a loop without checkpoints promptly', async () => {
      for (const sql of ['SELECT iso_sleep(60000);', 'SELECT iso_spin();']) {
        const started = Date.now();
        await faultIsError(
          sql,
          `SET statement_timeout = 300; ${sql}`,
          /ERROR: {2}canceling statement due to statement timeout/,
        );
        assert.ok(Date.now() - started < 5000, `${sql} took ${Date.now() - started} ms`);
      }
    });
  });
});
