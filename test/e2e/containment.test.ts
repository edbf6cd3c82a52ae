/**
 * Issue 13: what a PL/Rust function leaves behind cannot outlive its
 * session, and the memory it holds is what plrust.memory_limit counts.
 *
 * One cluster for the file with few connection slots, plrust put in place
 * by the real `plrust install`, functions created by an unprivileged role.
 * - The lockout: sessions whose functions leave thread-local values with a
 *   destructor that would loop for ever inside std. Every disconnected
 *   backend is gone within seconds (its process, not only its slot), the
 *   server keeps accepting connections, pg_terminate_backend and a fast
 *   shutdown end backends that hold such values.
 * - Memory: shrinking a block does not hide it from the count, several
 *   functions share one limit, statics count; every refusal names the limit
 *   before the backend's peak resident memory (VmHWM, read from /proc) has
 *   passed twice the limit.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startCluster, type PgCluster, type PgSession } from '../helpers/pg-cluster.js';
import { installPlrust, tempHome, uninstallPlrust } from '../helpers/plrust-install.js';

const ARCH = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
const LIMIT_MB = 128;
/*
 * With max_connections = 10 the postmaster admits at most 2 × (10 + 3 + 1 +
 * 10 + 8) = 64 live children: more disconnected sessions than that, had
 * they lingered, would lock every role out.
 */
const SESSIONS = 70;

let pg: PgCluster | undefined;
let postmaster = 0;

function server(): PgCluster {
  return pg ?? assert.fail('no cluster');
}

/** The postmaster's child processes right now. */
function children(): number[] {
  const text = readFileSync(`/proc/${postmaster}/task/${postmaster}/children`, 'utf8').trim();
  return text === '' ? [] : text.split(/\s+/).map(Number);
}

function alive(pid: number): boolean {
  try {
    // a zombie has given everything back; only its parent's wait is left
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** Peak resident memory of a process, in kB. */
function peakRssKb(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? assert.fail(`no VmHWM for ${pid}`));
}

async function eventually(what: string, seconds: number, done: () => boolean): Promise<number> {
  const start = Date.now();
  while (!done()) {
    if (Date.now() - start > seconds * 1000) assert.fail(`still waiting after ${seconds} s for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Date.now() - start;
}

async function create(sql: string): Promise<void> {
  await server().psql(sql, { user: 'mallory' });
}

function assertNoCrash(what: string): void {
  assert.equal(server().postmasterPid(), postmaster, `${what}: the postmaster restarted`);
  assert.doesNotMatch(server().logText(), /terminated by signal|exited with exit code [^01]/, what);
}

describe('run-time containment of PL/Rust functions in PostgreSQL 15', () => {
  let home: string;

  before(async () => {
    home = await tempHome('containment', { toolchain: true });
    await installPlrust(home);
    pg = await startCluster({
      settings: { 'plrust.targets': ARCH, max_connections: 10, 'plrust.memory_limit': `${LIMIT_MB}MB` },
    });
    postmaster = pg.postmasterPid();
    // the memory context view is for superusers only; mallory reads her own backend's
    await pg.psql(
      `CREATE ROLE mallory LOGIN; GRANT CREATE ON SCHEMA public TO mallory; CREATE EXTENSION plrust;
       GRANT SELECT ON pg_backend_memory_contexts TO mallory;
       GRANT EXECUTE ON FUNCTION pg_get_backend_memory_contexts() TO mallory;`,
    );
    // The destructor would spin in std, where no checkpoint is, far longer than any test.
    await create(`CREATE FUNCTION linger() RETURNS int8 LANGUAGE plrust AS $$
    struct Linger(u8);
    impl Drop for Linger {
        fn drop(&mut self) {
            let n = std::iter::repeat(self.0).take(usize::MAX).map(std::hint::black_box).count();
            std::hint::black_box(n);
        }
    }
    thread_local! {
        static LINGER: Linger = Linger(1);
    }
    Ok(Some(LINGER.with(|l| l.0 as i64)))
$$;`);
  });

  after(async () => {
    await pg?.stop();
    if (home !== undefined) await uninstallPlrust(home);
  });

  describe('no function code runs after the session', () => {
    test("the restricted std never registers a thread-local destructor: the library does not import glibc's registration", async () => {
      const found = await server().psql(
        `SELECT position(convert_to('__cxa_thread_atexit_impl', 'UTF8') in library), length(library) > 0
           FROM plrust.artifacts WHERE definition_hash = plrust.definition_hash('linger()');`,
      );
      assert.equal(found, '0|t');
    });

    test(`${SESSIONS} sessions leave thread-local destructors behind: each backend is gone within seconds`, async () => {
      const baseline = children().length;
      const slowest: number[] = [];
      for (let i = 0; i < SESSIONS; i++) {
        const s = await server().openSession({ user: 'mallory' });
        assert.equal((await s.run('SELECT linger();')).stdout.trim(), '1');
        await s.close();
        slowest.push(await eventually(`backend ${s.pid} to end`, 5, () => !alive(s.pid)));
      }
      await eventually('the postmaster to have only its own processes', 5, () => children().length <= baseline);
      assert.equal(await server().psql('SELECT 1;'), '1', 'a new connection is refused');
      assert.ok(Math.max(...slowest) < 3000, `a backend took ${Math.max(...slowest)} ms to end`);
      console.log(`${SESSIONS} disconnects: the slowest backend was gone ${Math.max(...slowest)} ms after its client`);
      assertNoCrash('disconnects');
    });

    test('pg_terminate_backend ends a backend holding such values', async () => {
      const s = await server().openSession({ user: 'mallory' });
      await s.run('SELECT linger();');
      assert.equal(await server().psql(`SELECT pg_terminate_backend(${s.pid}, 5000);`), 't');
      await eventually(`backend ${s.pid} to end`, 5, () => !alive(s.pid));
      await s.close();
      assertNoCrash('pg_terminate_backend');
    });
  });

  describe('plrust.memory_limit counts what is held, for the whole session', () => {
    before(async () => {
      await create(`CREATE FUNCTION shrink_keep(rounds int4, keep int8) RETURNS int4 STRICT LANGUAGE plrust AS $$
    let mut kept: Vec<Vec<u8>> = Vec::new();
    for _ in 0..rounds {
        let mut v = vec![1u8; 100 << 20];
        v.truncate(keep as usize);
        v.shrink_to_fit();
        kept.push(v);
    }
    Ok(Some(std::hint::black_box(&kept).len() as i32))
$$;`);
      for (const name of ['hoard_a', 'hoard_b', 'hoard_c']) {
        await create(`CREATE FUNCTION ${name}(mb int4) RETURNS int8 STRICT LANGUAGE plrust AS $$
    thread_local! {
        static KEPT: std::cell::RefCell<Vec<Vec<u8>>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    KEPT.with(|k| {
        k.borrow_mut().push(vec![1u8; (mb as usize) << 20]);
        Ok(Some(k.borrow().iter().map(|v| v.len() as i64).sum::<i64>() >> 20))
    })
$$;`);
      }
    });

    async function session(): Promise<PgSession> {
      return server().openSession({ user: 'mallory' });
    }

    function assertPeakBelowTwiceLimit(s: PgSession, what: string): number {
      const peak = peakRssKb(s.pid);
      assert.ok(peak < 2 * LIMIT_MB * 1024, `${what}: the backend's peak resident memory was ${peak} kB`);
      return peak;
    }

    const limitReached = (fn: string) =>
      new RegExp(
        `ERROR: {2}out of memory\\nDETAIL: {2}The function reached plrust.memory_limit \\(${LIMIT_MB * 1024} kB\\) on a request of \\d+ bytes\\. The PL/Rust functions of this session hold \\d+ kB\\.\\nCONTEXT: {2}PL/Rust function "${fn}"`,
      );

    test('a block shrunk to 1 byte is moved to a small block: 20 × 100 MiB shrunk and kept', async () => {
      const s = await session();
      const r = await s.run('SELECT shrink_keep(20, 1);');
      assert.equal(r.stdout.trim(), '20', r.stderr);
      const peak = assertPeakBelowTwiceLimit(s, 'shrink to 1 byte');
      console.log(`shrink to 1 byte, 20 rounds: peak VmHWM ${peak} kB`);
      await s.close();
    });

    test('a block shrunk too little to move stays counted at its full size: out of memory', async () => {
      const s = await session();
      const r = await s.run(`SELECT shrink_keep(20, ${60 << 20});`);
      assert.match(r.stderr, limitReached('shrink_keep'));
      const peak = assertPeakBelowTwiceLimit(s, 'shrink to 60 MiB');
      console.log(`shrink to 60 MiB: out of memory at peak VmHWM ${peak} kB`);
      assert.equal((await s.run('SELECT shrink_keep(1, 1);')).stdout.trim(), '1', 'the session is not usable');
      await s.close();
      assertNoCrash('shrink');
    });

    test('several functions share one limit, shown per function in pg_backend_memory_contexts', async () => {
      const s = await session();
      assert.equal((await s.run('SELECT hoard_a(50);')).stdout.trim(), '50');
      assert.equal((await s.run('SELECT hoard_b(50);')).stdout.trim(), '50');
      const r = await s.run('SELECT hoard_c(50);');
      assert.match(r.stderr, limitReached('hoard_c'));
      const contexts = await s.run(
        `SELECT ident, total_bytes >> 20 FROM pg_backend_memory_contexts WHERE name = 'PL/Rust function' ORDER BY ident;`,
      );
      const held = new Map(
        contexts.stdout
          .trim()
          .split('\n')
          .map((line) => line.split('|') as [string, string]),
      );
      assert.ok(Number(held.get('hoard_a')) >= 50, `${contexts.stdout}${contexts.stderr}`);
      assert.ok(Number(held.get('hoard_b')) >= 50, contexts.stdout);
      const peak = assertPeakBelowTwiceLimit(s, 'three functions');
      console.log(`three functions of 50 MiB: out of memory at peak VmHWM ${peak} kB`);
      await s.close();
    });

    test('what a static keeps across calls counts', async () => {
      const s = await session();
      assert.equal((await s.run('SELECT hoard_a(50);')).stdout.trim(), '50');
      assert.equal((await s.run('SELECT hoard_a(50);')).stdout.trim(), '100');
      assert.match((await s.run('SELECT hoard_a(50);')).stderr, limitReached('hoard_a'));
      assertPeakBelowTwiceLimit(s, 'one static, three calls');
      await s.close();
    });

    test('a library left broken by a fault is unloaded with its memory before the next call', async () => {
      await create(`CREATE FUNCTION hold_then_abort(mb int4) RETURNS int4 STRICT LANGUAGE plrust AS $$
    static KEPT: std::sync::Mutex<Vec<Vec<u8>>> = std::sync::Mutex::new(Vec::new());
    KEPT.lock().unwrap().push(vec![1u8; (mb as usize) << 20]);
    struct Bomb;
    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("a second panic, in Drop");
        }
    }
    let _bomb = Bomb;
    panic!("the first panic");
$$;`);
      const s = await session();
      // 40 MiB kept, then Rust's abort path, five times over: only an unloaded library gives its 40 MiB back
      for (let i = 0; i < 5; i++)
        assert.match((await s.run('SELECT hold_then_abort(40);')).stderr, /ERROR: {2}function aborted: /);
      assert.equal((await s.run('SELECT hoard_c(60);')).stdout.trim(), '60', 'the broken libraries still count');
      const left = await s.run(
        `SELECT count(*) FROM pg_backend_memory_contexts WHERE name = 'PL/Rust function' AND ident = 'hold_then_abort';`,
      );
      assert.equal(left.stdout.trim(), '0', left.stderr);
      assertPeakBelowTwiceLimit(s, 'five aborted calls holding 40 MiB each');
      await s.close();
      assertNoCrash('aborts');
    });

    test('static data of the library counts from the moment it is loaded', async () => {
      await create(`CREATE FUNCTION big_static(i int4) RETURNS int4 STRICT LANGUAGE plrust AS $$
    static BIG: std::sync::Mutex<[u8; 16 << 20]> = std::sync::Mutex::new([0; 16 << 20]);
    let mut big = BIG.lock().unwrap();
    big[i as usize] = 1;
    Ok(Some(big.iter().map(|b| *b as i32).sum()))
$$;`);
      // the compiler's own memory limit refuses a constant array near the session's: a lower limit, set by a superuser
      const s = await server().openSession();
      const r = await s.run(`SET plrust.memory_limit = '8MB'; SELECT big_static(7);`);
      assert.match(
        r.stderr,
        new RegExp(
          `ERROR: {2}out of memory\\nDETAIL: {2}The function's library has \\d+ bytes of static data, more than plrust.memory_limit \\(8192 kB\\) leaves: the PL/Rust functions of this session hold \\d+ kB\\.\\nCONTEXT: {2}PL/Rust function "big_static"`,
        ),
      );
      const after = await s.run('RESET plrust.memory_limit; SELECT big_static(7);');
      assert.equal(after.stdout.trim(), '1', `under the session's limit it loads: ${after.stderr}`);
      await s.close();
    });
  });

  // Last: it stops the cluster.
  test('a fast shutdown with sessions holding such values completes within seconds', async () => {
    const open: PgSession[] = [];
    for (let i = 0; i < 5; i++) {
      const s = await server().openSession({ user: 'mallory' });
      await s.run('SELECT linger();');
      open.push(s);
    }
    const start = Date.now();
    const r = await server().stop(20, { keepClients: true });
    const ms = Date.now() - start;
    assert.equal(r?.code, 0, `pg_ctl stop -m fast failed: ${r?.stderr}`);
    assert.ok(ms < 10_000, `the fast shutdown took ${ms} ms`);
    for (const s of open) {
      assert.ok(!alive(s.pid), `backend ${s.pid} outlived the shutdown`);
      await s.close();
    }
    console.log(`fast shutdown with ${open.length} sessions holding thread-local destructors: ${ms} ms`);
  });
});
