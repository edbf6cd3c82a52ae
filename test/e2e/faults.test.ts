/**
 * Issues 7 and 13: every fault a PL/Rust function can provoke ends as an
 * ordinary ERROR of its statement, or at worst a FATAL that ends that one
 * session; never a signal death, which makes the postmaster end every
 * session and run crash recovery. A fault that leaves the function's Rust
 * state broken unloads its library: the statement fails, the session goes
 * on, and the next call loads the function afresh.
 *
 * One cluster for the file, plrust put in place by the real `plrust
 * install`, every function created with CREATE FUNCTION … LANGUAGE plrust
 * by an unprivileged role and compiled by the real `plrust compile`. After
 * each fault: the statement failed with the stated error, the server log
 * has no "terminated by signal", the postmaster's pid is unchanged, and a
 * session opened at the start is still served by the same backend. The
 * file ends by reporting how many fault cases ran and how many server
 * crashes were seen.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type PgCluster, type PgSession, type SqlResult } from '../helpers/pg-cluster.js';
import { installPlrust, tempHome, uninstallPlrust } from '../helpers/plrust-install.js';

const ARCH = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
/** The server's stack limit: the stack-overflow case sizes its list from it. */
const STACK_KB = 8192;
/** Every case below calls provoke() once; the final test checks that all of them ran. */
const EXPECTED_CASES = 36;
/**
 * scripts/test.sh's isolation stage (docs/ISOLATION.md): a fault ends the function's runner process
 * instead of unloading its library, and a request is answered by ending the runner.
 */
const ISOLATED = process.env.PLRUST_TEST_ISOLATION === 'process';
const overflowed = (fn: string) =>
  new RegExp(
    `ERROR:  function overflowed the stack\\nDETAIL:  Code the stack checks do not see [^\\n]* of the function's isolated process\\. The process was ended; the next call starts a new one\\.\\nHINT: [^\\n]*\\nCONTEXT:  PL/Rust function "${fn}"`,
  );

let pg: PgCluster | undefined;
let postmaster = 0;
let bystander: PgSession;
let faultCases = 0;

/** Backend deaths the postmaster treats as crashes, and postmaster restarts. */
function crashesSeen(): number {
  if (pg === undefined) return 0;
  const deaths =
    pg.logText().match(/server process \(PID \d+\) (was terminated by|exited with exit code)/g)?.length ?? 0;
  let restarted = 0;
  try {
    restarted = pg.postmasterPid() === postmaster ? 0 : 1;
  } catch {
    restarted = 1;
  }
  return deaths + restarted;
}

function summary(): string {
  return `PL/Rust run-time faults: ${faultCases} fault cases ran, ${crashesSeen()} server crashes seen`;
}

function server(): PgCluster {
  return pg ?? assert.fail('no cluster');
}

/** The server survived: same postmaster, no signal death, the bystander's backend still answers. */
async function assertContained(what: string): Promise<void> {
  const cluster = server();
  assert.equal(cluster.postmasterPid(), postmaster, `${what}: the postmaster restarted`);
  assert.doesNotMatch(cluster.logText(), /terminated by signal/, `${what}: a backend died on a signal`);
  const r = await bystander.run('SELECT pg_backend_pid();');
  assert.equal(
    r.stdout.trim(),
    String(bystander.pid),
    `${what}: the session open since the start was ended (${r.stderr})`,
  );
}

interface Fault {
  /** Runs in a fresh session. */
  sql: string;
  error: RegExp;
  /** Default: the unprivileged role that created the functions. */
  user?: string;
  /** The fault ends the session (FATAL) instead of the statement (ERROR). */
  fatal?: boolean;
  /** After an ERROR: a statement that runs in the same session, and its output. */
  then?: [string, string];
}

/** Runs one fault case in its own session and checks that only the statement (or that session) paid for it. */
async function provoke(what: string, f: Fault): Promise<SqlResult> {
  faultCases++;
  const s = await server().openSession({ user: f.user ?? 'mallory' });
  const r = await s.run(f.sql);
  assert.match(r.stderr, f.error, what);
  if (f.fatal) {
    assert.ok(s.closed, `${what}: the session should have ended`);
  } else {
    assert.ok(!s.closed, `${what}: the session ended`);
    assert.equal((await s.run('SELECT 41 + 1;')).stdout.trim(), '42', `${what}: the session is not usable afterwards`);
    if (f.then !== undefined) {
      const again = await s.run(f.then[0]);
      assert.equal(again.stdout.trim(), f.then[1], `${what}: ${f.then[0]} afterwards: ${again.stderr}`);
    }
    await s.close();
  }
  await assertContained(what);
  return r;
}

async function create(sql: string): Promise<void> {
  await server().psql(sql, { user: 'mallory' });
}

/** Polls `done` until it holds; fails after a minute instead of hanging the suite. */
async function eventually(what: string, done: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await done())) {
    if (Date.now() > deadline) assert.fail(`still waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function waitUntilRunning(pid: number, call: string): Promise<void> {
  await eventually(`${call} to run`, async () => {
    const r = await bystander.run(
      `SELECT count(*) FROM pg_stat_activity WHERE pid = ${pid} AND state = 'active' AND position('${call}' in query) > 0;`,
    );
    return r.stdout.trim() === '1';
  });
  // the statement is past parsing and planning: give it time to be inside the function
  await new Promise((resolve) => setTimeout(resolve, 300));
}

/**
 * Cancels `call` with pg_cancel_backend (or ends its session with
 * pg_terminate_backend) once it runs. `error`: the call fails with this
 * error instead of PostgreSQL's own, ending the session unless `endsSession`
 * is false.
 */
async function interrupt(
  what: string,
  call: string,
  how: 'cancel' | 'terminate',
  error?: RegExp,
  endsSession = true,
): Promise<SqlResult> {
  faultCases++;
  const s = await server().openSession({ user: 'mallory' });
  const running = s.run(`SELECT ${call};`);
  await waitUntilRunning(s.pid, call);
  const fn = how === 'cancel' ? 'pg_cancel_backend' : 'pg_terminate_backend';
  assert.equal((await bystander.run(`SELECT ${fn}(${s.pid});`)).stdout.trim(), 't');
  const r = await running;
  if (error !== undefined) {
    assert.match(r.stderr, error, what);
    if (endsSession) {
      assert.ok(s.closed, `${what}: the session should have ended`);
    } else {
      assert.equal(
        (await s.run('SELECT 41 + 1;')).stdout.trim(),
        '42',
        `${what}: the session is not usable afterwards`,
      );
      await s.close();
    }
  } else if (how === 'cancel') {
    assert.match(r.stderr, /ERROR: {2}canceling statement due to user request/, what);
    assert.equal((await s.run('SELECT 41 + 1;')).stdout.trim(), '42', `${what}: the session is not usable afterwards`);
    await s.close();
  } else {
    assert.match(r.stderr, /FATAL: {2}terminating connection due to administrator command/, what);
    assert.ok(s.closed, `${what}: the session should have ended`);
  }
  await assertContained(what);
  return r;
}

describe('run-time faults of PL/Rust functions in PostgreSQL 15', () => {
  let home: string;

  before(async () => {
    home = await tempHome('faults', { toolchain: true });
    await installPlrust(home);
    // only this machine's architecture: half the compile time, and the faults are the same on both
    pg = await startCluster({ settings: { 'plrust.targets': ARCH }, stackKb: STACK_KB });
    postmaster = pg.postmasterPid();
    await pg.psql(`CREATE ROLE mallory LOGIN; GRANT CREATE ON SCHEMA public TO mallory; CREATE EXTENSION plrust;`);
    bystander = await pg.openSession();
  });

  after(async () => {
    console.log(summary());
    await pg?.stop();
    if (home !== undefined) await uninstallPlrust(home);
  });

  describe('panics become an ERROR with the message and the location', () => {
    test('a string', async () => {
      await create(
        `CREATE FUNCTION p_str() RETURNS int4 LANGUAGE plrust AS $$\n    panic!("a plain string panic")\n$$;`,
      );
      await provoke('panic with a string', {
        sql: 'SELECT p_str();',
        error:
          /ERROR: {2}a plain string panic\nDETAIL: {2}The function panicked at \S+:2:5\.\nCONTEXT: {2}PL\/Rust function "p_str"\n/,
      });
    });

    test('a formatted message', async () => {
      await create(
        `CREATE FUNCTION p_fmt(n int4) RETURNS int4 STRICT LANGUAGE plrust AS $$\n    if n > 0 {\n        panic!("formatted: {} is {:?}", n, "positive");\n    }\n    Ok(Some(n))\n$$;`,
      );
      await provoke('panic with a formatted message', {
        sql: 'SELECT p_fmt(7);',
        error:
          /ERROR: {2}formatted: 7 is "positive"\nDETAIL: {2}The function panicked at \S+:3:9\.\nCONTEXT: {2}PL\/Rust function "p_fmt"\n/,
      });
    });

    test('a non-string payload', async () => {
      await create(`CREATE FUNCTION p_any() RETURNS int4 LANGUAGE plrust AS $$\n    std::panic::panic_any(42i32)\n$$;`);
      await provoke('panic with a non-string payload', {
        sql: 'SELECT p_any();',
        error:
          /ERROR: {2}explicit panic with a non-string payload\nDETAIL: {2}The function panicked at \S+:2:5\.\nCONTEXT: {2}PL\/Rust function "p_any"\n/,
      });
    });
  });

  describe("Rust's abort path is an ERROR that unloads the function's library", () => {
    test('a panic in Drop while unwinding from another panic', async () => {
      await create(`CREATE FUNCTION double_panic() RETURNS int4 LANGUAGE plrust AS $$
    struct Bomb;
    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("a second panic, in Drop");
        }
    }
    let _bomb = Bomb;
    panic!("the first panic");
$$;`);
      const aborted = ISOLATED
        ? /ERROR: {2}function aborted: the Rust runtime of a PL\/Rust function cannot continue[^\n]*\nDETAIL: {2}The Rust runtime cannot continue after this fault, so the function's isolated process was ended; the next call starts a new one\.\nCONTEXT: {2}PL\/Rust function "double_panic"/
        : /ERROR: {2}function aborted: the Rust runtime of a PL\/Rust function cannot continue[^\n]*\nDETAIL: {2}The Rust runtime cannot continue after this fault, so the function's library was unloaded; the next call loads it again\.\nCONTEXT: {2}PL\/Rust function "double_panic"/;
      const r = await provoke('double panic', {
        sql: 'SELECT double_panic();',
        error: aborted,
      });
      assert.doesNotMatch(r.stderr, /FATAL/);
      // the reloaded library aborts the same way: its state starts afresh
      const s = await server().openSession({ user: 'mallory' });
      for (let i = 0; i < 3; i++) assert.match((await s.run('SELECT double_panic();')).stderr, aborted);
      assert.equal((await s.run('SELECT 41 + 1;')).stdout.trim(), '42');
      await s.close();
    });

    test('a panic while formatting a panic message', async () => {
      await create(`CREATE FUNCTION display_panic() RETURNS int4 LANGUAGE plrust AS $$
    struct Evil;
    impl std::fmt::Display for Evil {
        fn fmt(&self, _f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            panic!("a panic inside Display")
        }
    }
    panic!("{}", Evil)
$$;`);
      await provoke('panic while formatting a panic message', {
        sql: 'SELECT display_panic();',
        error:
          /ERROR: {2}function aborted: the Rust runtime[^\n]*\n(DETAIL[^\n]*\n)?CONTEXT: {2}PL\/Rust function "display_panic"/,
      });
    });

    test('a thread-local destructor never runs: the session ends without it', async () => {
      await create(`CREATE FUNCTION tls_bomb() RETURNS int4 LANGUAGE plrust AS $$
    struct Bomb(i32);
    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("a thread-local destructor panics at session end");
        }
    }
    thread_local! {
        static BOMB: Bomb = Bomb(5);
    }
    Ok(Some(BOMB.with(|b| b.0)))
$$;`);
      const r = await provoke('panicking thread-local destructor (the call itself succeeds)', {
        sql: 'SELECT tls_bomb();',
        error: /^$/,
      });
      assert.equal(r.stdout.trim(), '5');
      // the session has ended (provoke closed it); its backend is gone, and no destructor ran
      await eventually('the backend to leave pg_stat_activity', async () => {
        const n = await bystander.run(`SELECT count(*) FROM pg_stat_activity WHERE usename = 'mallory';`);
        return n.stdout.trim() === '0';
      });
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.doesNotMatch(server().logText(), /aborted while the session was exiting|thread-local destructor panics/);
      await assertContained('panicking thread-local destructor at session end');
    });
  });

  describe('stack depth', () => {
    before(async () => {
      await create(`CREATE FUNCTION bottomless(n int8) RETURNS int8 STRICT LANGUAGE plrust AS $$
    fn down(depth: i64) -> i64 {
        let pad = std::hint::black_box([depth; 8]);
        down(depth + 1) + pad[(depth % 8) as usize]
    }
    Ok(Some(down(n)))
$$;
CREATE FUNCTION dive(n int4) RETURNS int4 STRICT LANGUAGE plrust AS $$
    fn down(left: i32) -> i32 {
        let pad = std::hint::black_box([left; 32]);
        if left == 0 { 0 } else { 1 + down(left - 1) + pad[(left % 32) as usize] - left }
    }
    Ok(Some(down(n)))
$$;`);
    });

    test("unbounded recursion stops at max_stack_depth with PostgreSQL's error, for two settings", async () => {
      for (const [setting, shown] of [
        ['512kB', '512kB'],
        ['2MB', '2048kB'],
      ]) {
        await provoke(`unbounded recursion, max_stack_depth = ${setting}`, {
          user: server().superuser,
          sql: `SET max_stack_depth = '${setting}'; SELECT bottomless(0);`,
          error: new RegExp(
            `ERROR:  stack depth limit exceeded\\nDETAIL:  The function reached the limit at \\S+:\\d+:\\d+\\.\\nHINT:  Increase the configuration parameter "max_stack_depth" \\(currently ${shown}\\)[^\\n]*\\nCONTEXT:  PL/Rust function "bottomless"\\n`,
          ),
        });
      }
      // the setting decides the depth, not merely the message: 6000 frames of about 160 bytes
      const depth = await server().psqlResult(
        `SET max_stack_depth = '2MB'; SELECT dive(6000); SET max_stack_depth = '512kB'; SELECT dive(6000);`,
      );
      assert.equal(depth.stdout.trim(), '6000');
      assert.match(depth.stderr, /ERROR: {2}stack depth limit exceeded/);
    });

    test('a stack overflow in compiler-generated drop code is an ERROR, not SIGSEGV', async () => {
      await create(`CREATE FUNCTION deep_drop(n int4) RETURNS int4 STRICT LANGUAGE plrust AS $$
    struct Node {
        next: Option<Box<Node>>,
    }
    let mut head: Option<Box<Node>> = None;
    for _ in 0..n {
        head = Some(Box::new(Node { next: head }));
    }
    drop(head); // recursive drop glue: one frame per node, no checkpoint in it
    Ok(Some(n))
$$;`);
      // at least 16 bytes per drop frame: twice the nodes the stack can hold
      const nodes = (STACK_KB * 1024) / 8;
      await provoke('stack overflow in drop glue', {
        sql: `SELECT deep_drop(${nodes});`,
        error: ISOLATED
          ? overflowed('deep_drop')
          : /ERROR: {2}function overflowed the stack\nDETAIL: {2}Code the stack checks do not see .* The function was stopped there and its library unloaded; the next call loads it again\.\nCONTEXT: {2}PL\/Rust function "deep_drop"/,
        then: ['SELECT deep_drop(1000);', '1000'],
      });
    });

    test('a single stack frame larger than the whole stack is an ERROR, not SIGSEGV', async () => {
      await create(`CREATE FUNCTION big_frame(n int4) RETURNS int4 STRICT LANGUAGE plrust AS $$
    let a = [n as u8; ${2 * STACK_KB} << 10];
    Ok(Some(std::hint::black_box(&a)[n as usize % a.len()] as i32))
$$;`);
      await provoke('a frame twice the size of the stack', {
        sql: 'SELECT big_frame(3);',
        error: ISOLATED
          ? overflowed('big_frame')
          : /ERROR: {2}function overflowed the stack\n.*\nCONTEXT: {2}PL\/Rust function "big_frame"/,
        then: ['SELECT 1;', '1'],
      });
      await create(`CREATE FUNCTION huge_frame(n int4) RETURNS int4 STRICT LANGUAGE plrust AS $$
    let a = [n as u8; 64 << 20];
    Ok(Some(std::hint::black_box(&a)[n as usize % a.len()] as i32))
$$;`);
      await provoke('a 64 MB frame', {
        sql: 'SELECT huge_frame(3);',
        error: ISOLATED
          ? overflowed('huge_frame')
          : /ERROR: {2}function overflowed the stack\n.*\nCONTEXT: {2}PL\/Rust function "huge_frame"/,
      });
    });

    test('a local aligned to 512 MB is an ERROR, not SIGSEGV', async () => {
      await create(`CREATE FUNCTION aligned_frame(n int4) RETURNS int4 STRICT LANGUAGE plrust AS $$
    #[repr(align(536870912))]
    struct Huge(u8);
    let h = Huge(n as u8);
    Ok(Some(std::hint::black_box(&h).0 as i32))
$$;`);
      await provoke('a local aligned to 1 << 29', {
        sql: 'SELECT aligned_frame(3);',
        error: ISOLATED
          ? overflowed('aligned_frame')
          : /ERROR: {2}function overflowed the stack\n.*\nCONTEXT: {2}PL\/Rust function "aligned_frame"/,
      });
    });
  });

  describe('memory', () => {
    before(async () => {
      await create(`CREATE FUNCTION grab(n int8) RETURNS int8 STRICT LANGUAGE plrust AS $$
    let v = vec![7u8; n as usize];
    Ok(Some(std::hint::black_box(&v).len() as i64))
$$;
CREATE FUNCTION exhaust() RETURNS int8 LANGUAGE plrust AS $$
    let mut kept: Vec<Vec<u8>> = Vec::new();
    loop {
        kept.push(vec![1u8; 1 << 20]);
        std::hint::black_box(&kept);
    }
$$;`);
    });

    test('a huge allocation is "out of memory" at plrust.memory_limit', async () => {
      await provoke('vec![0u8; 1 << 40]', {
        sql: `SELECT grab(${2 ** 40});`,
        error:
          /ERROR: {2}out of memory\nDETAIL: {2}The function reached plrust.memory_limit \(131072 kB\) on a request of 1099511627776 bytes\. The PL\/Rust functions of this session hold \d+ kB\.\nCONTEXT: {2}PL\/Rust function "grab"\n/,
      });
    });

    test('without a limit, the system refuses a huge allocation: "out of memory"', async () => {
      await provoke('vec![0u8; 1 << 44] with plrust.memory_limit = 0', {
        user: server().superuser,
        sql: `SET plrust.memory_limit = 0; SELECT grab(${2 ** 44});`,
        error: /ERROR: {2}out of memory\nDETAIL: {2}The function failed on a request of 17592186044416 bytes/,
      });
    });

    test('gradual exhaustion in a loop is "out of memory"', async () => {
      await provoke('1 MB at a time until the limit', {
        sql: 'SELECT exhaust();',
        error:
          /ERROR: {2}out of memory\nDETAIL: {2}The function reached plrust.memory_limit \(131072 kB\) on a request of 1048576 bytes/,
      });
    });

    test('a lower plrust.memory_limit (set by a superuser) makes a smaller allocation fail the same way', async () => {
      const r = await provoke('16 MB under an 8 MB limit', {
        user: server().superuser,
        sql: `SET plrust.memory_limit = '8MB'; SELECT grab(4000000); SELECT grab(16000000);`,
        error:
          /ERROR: {2}out of memory\nDETAIL: {2}The function reached plrust.memory_limit \(8192 kB\) on a request of 16000000 bytes/,
      });
      assert.equal(r.stdout.trim(), '4000000');
      await provoke('exhaustion under an 8 MB limit', {
        user: server().superuser,
        sql: `SET plrust.memory_limit = '8MB'; SELECT exhaust();`,
        error: /ERROR: {2}out of memory\nDETAIL: {2}The function reached plrust.memory_limit \(8192 kB\)/,
      });
    });

    test('std::alloc::handle_alloc_error is "out of memory"', async () => {
      await create(`CREATE FUNCTION alloc_error() RETURNS int4 LANGUAGE plrust AS $$
    std::alloc::handle_alloc_error(std::alloc::Layout::new::<[u64; 4]>())
$$;`);
      await provoke('handle_alloc_error', {
        sql: 'SELECT alloc_error();',
        error: /ERROR: {2}out of memory\nDETAIL: {2}The function reported an allocation failure/,
      });
    });
  });

  describe('runaway code is cancelled and the session carries on', () => {
    before(async () => {
      await create(`CREATE FUNCTION spin() RETURNS int4 LANGUAGE plrust AS $$
    loop {}
$$;
CREATE FUNCTION nap(secs int8) RETURNS int8 STRICT LANGUAGE plrust AS $$
    std::thread::sleep(std::time::Duration::from_secs(secs as u64));
    Ok(Some(secs))
$$;
CREATE FUNCTION park_for(secs int8) RETURNS int8 STRICT LANGUAGE plrust AS $$
    std::thread::park_timeout(std::time::Duration::from_secs(secs as u64));
    Ok(Some(secs))
$$;
CREATE FUNCTION self_deadlock() RETURNS int4 LANGUAGE plrust AS $$
    let m = std::sync::Mutex::new(1);
    let first = m.lock().unwrap();
    let second = m.lock().unwrap();
    Ok(Some(*first + *second))
$$;`);
    });

    test('loop {} by statement_timeout', async () => {
      await provoke('loop {} with statement_timeout', {
        sql: `SET statement_timeout = '1s'; SELECT spin();`,
        error: /ERROR: {2}canceling statement due to statement timeout/,
      });
    });

    test('loop {} by pg_cancel_backend', async () => {
      await interrupt('loop {} with pg_cancel_backend', 'spin()', 'cancel');
    });

    // An hour-long sleep that ignored the request would run into the test's timeout.
    test('an hour of std::thread::sleep by statement_timeout', { timeout: 120_000 }, async () => {
      await provoke('thread::sleep with statement_timeout', {
        sql: `SET statement_timeout = '1s'; SELECT nap(3600);`,
        error: /ERROR: {2}canceling statement due to statement timeout/,
      });
    });

    test('an hour of std::thread::sleep by pg_cancel_backend', { timeout: 120_000 }, async () => {
      await interrupt('thread::sleep with pg_cancel_backend', 'nap(3600)', 'cancel');
    });

    test(
      'an hour of std::thread::sleep by pg_terminate_backend: only that session ends',
      { timeout: 120_000 },
      async () => {
        await interrupt('thread::sleep with pg_terminate_backend', 'nap(3600)', 'terminate');
      },
    );

    // A futex wait on the backend's only thread: nothing could ever wake it, and PostgreSQL's signal handlers restart the system call.
    test('an hour of std::thread::park_timeout by statement_timeout', { timeout: 120_000 }, async () => {
      await provoke('thread::park_timeout with statement_timeout', {
        sql: `SET statement_timeout = '1s'; SELECT park_for(3600);`,
        error: /ERROR: {2}canceling statement due to statement timeout/,
      });
    });

    test(
      'locking a Mutex the function already holds is an ERROR, not a backend blocked forever',
      { timeout: 120_000 },
      async () => {
        await provoke('self-deadlock on a Mutex', {
          sql: `SELECT self_deadlock();`,
          error: /ERROR: {2}deadlock: this wait could never end/,
        });
      },
    );
  });

  // Loops inside std that never call back into the user's code reach no checkpoint; the handler's backstop stops them.
  describe('code that never reaches a checkpoint is stopped once a request goes unanswered', () => {
    before(async () => {
      await create(`CREATE FUNCTION std_spin() RETURNS int8 LANGUAGE plrust AS $$
    Ok(Some(std::iter::repeat(1u8).take(usize::MAX).map(std::hint::black_box).count() as i64))
$$;
CREATE FUNCTION std_churn() RETURNS int8 LANGUAGE plrust AS $$
    Ok(Some(std::iter::repeat(vec![7u8; 4096]).take(usize::MAX).map(std::hint::black_box).count() as i64))
$$;`);
    });

    const asPostgres: Record<string, string> = {
      'the statement timeout': 'ERROR:  canceling statement due to statement timeout',
      'the cancel request': 'ERROR:  canceling statement due to user request',
      'the request to terminate the session': 'FATAL:  terminating connection due to administrator command',
    };
    // isolated, the runner is ended and PostgreSQL reports the request itself
    const unanswered = (fn: string, request: string, level = 'ERROR') =>
      ISOLATED
        ? new RegExp(`${asPostgres[request] ?? request}\\nCONTEXT:  PL/Rust function "${fn}"`)
        : new RegExp(
            `${level}:  function did not respond to ${request}\\nDETAIL:  It was still running at least \\d+ ms after the request, in code that never checks for one[^\\n]*\\nCONTEXT:  PL/Rust function "${fn}"`,
          );

    test('a loop inside std by statement_timeout', { timeout: 120_000 }, async () => {
      await provoke('std-internal loop with statement_timeout', {
        sql: `SET statement_timeout = '1s'; SELECT std_spin();`,
        error: unanswered('std_spin', 'the statement timeout'),
        then: [`RESET statement_timeout; SELECT count(*) FROM pg_stat_activity WHERE pid = pg_backend_pid();`, '1'],
      });
      if (!ISOLATED) assert.match(server().logText(), /ERROR: {2}function did not respond to the statement timeout/);
    });

    test('a loop inside std by pg_cancel_backend', { timeout: 120_000 }, async () => {
      await interrupt(
        'std-internal loop with pg_cancel_backend',
        'std_spin()',
        'cancel',
        unanswered('std_spin', 'the cancel request'),
        false,
      );
    });

    test('a loop inside std by pg_terminate_backend', { timeout: 120_000 }, async () => {
      await interrupt(
        'std-internal loop with pg_terminate_backend',
        'std_spin()',
        'terminate',
        unanswered('std_spin', 'the request to terminate the session', 'FATAL'),
      );
    });

    // Most of its time is in the allocation callbacks, where the backstop waits for the callback to end.
    test('an allocating loop inside std by statement_timeout', { timeout: 120_000 }, async () => {
      await provoke('std-internal allocating loop with statement_timeout', {
        sql: `SET statement_timeout = '1s'; SELECT std_churn();`,
        error: unanswered('std_churn', 'the statement timeout'),
      });
    });

    test(
      'an answered request never meets the backstop, and it stays quiet between calls',
      { timeout: 120_000 },
      async () => {
        const s = await server().openSession({ user: 'mallory' });
        const r = await s.run(`SET statement_timeout = '1s'; SELECT spin(); SELECT pg_sleep(3); SELECT 41 + 1;`);
        assert.match(
          r.stderr,
          /ERROR: {2}canceling statement due to statement timeout\n(.|\n)*ERROR: {2}canceling statement due to statement timeout/,
        );
        assert.doesNotMatch(r.stderr, /did not respond/);
        assert.equal(r.stdout.trim(), '42');
        assert.ok(!s.closed, 'the session ended');
        await s.close();
      },
    );
  });

  describe('arithmetic and Option/slice misuse are an ERROR with the message', () => {
    before(async () => {
      await create(`CREATE FUNCTION misuse(mode text, n int4) RETURNS int4 STRICT LANGUAGE plrust AS $$
    let v = vec![1, 2, 3];
    let r = match mode {
        "add" => n + i32::MAX,
        "div" => 100 / (n - n),
        "index" => v[n as usize],
        "unwrap" => {
            let o: Option<i32> = if n > 100 { Some(n) } else { None };
            o.unwrap()
        }
        _ => n,
    };
    Ok(Some(r))
$$;`);
    });

    const cases: Array<[string, string, RegExp]> = [
      [
        'integer overflow',
        `'add', 1`,
        /ERROR: {2}attempt to add with overflow\nDETAIL: {2}The function panicked at \S+:4:18\.\nCONTEXT: {2}PL\/Rust function "misuse"\n/,
      ],
      [
        'division by zero',
        `'div', 1`,
        /ERROR: {2}attempt to divide by zero\nDETAIL: {2}The function panicked at \S+:5:18\.\nCONTEXT: {2}PL\/Rust function "misuse"\n/,
      ],
      [
        'out-of-bounds indexing',
        `'index', 10`,
        /ERROR: {2}index out of bounds: the len is 3 but the index is 10\nDETAIL: {2}The function panicked at \S+:6:21\.\nCONTEXT: {2}PL\/Rust function "misuse"\n/,
      ],
      [
        'unwrap on None',
        `'unwrap', 1`,
        /ERROR: {2}called `Option::unwrap\(\)` on a `None` value\nDETAIL: {2}The function panicked at \S+:9:15\.\nCONTEXT: {2}PL\/Rust function "misuse"\n/,
      ],
    ];
    for (const [what, args, error] of cases) {
      test(what, async () => {
        await provoke(what, { sql: `SELECT misuse(${args});`, error });
      });
    }
  });

  describe('ending the process is refused with an ERROR', () => {
    before(async () => {
      await create(`CREATE FUNCTION leave(how text) RETURNS int4 STRICT LANGUAGE plrust AS $$
    match how {
        "exit" => std::process::exit(3),
        "abort" => std::process::abort(),
        _ => Ok(Some(0)),
    }
$$;`);
    });

    test('std::process::exit', async () => {
      await provoke('process::exit', {
        sql: `SELECT leave('exit');`,
        error: /ERROR: {2}std::process::exit\(3\) is not allowed in PL\/Rust: it would end the PostgreSQL backend/,
      });
    });

    test('std::process::abort', async () => {
      await provoke('process::abort', {
        sql: `SELECT leave('abort');`,
        error: /ERROR: {2}std::process::abort is not allowed in PL\/Rust: it would end the PostgreSQL backend/,
      });
    });
  });

  test('an ERROR rolls the transaction back; the session and its other functions carry on', async () => {
    const s = await server().openSession({ user: 'mallory' });
    const r = await s.run(
      `CREATE TABLE IF NOT EXISTS ledger (x int); BEGIN; INSERT INTO ledger VALUES (1); SELECT misuse('div', 1); COMMIT;`,
    );
    assert.match(r.stderr, /ERROR: {2}attempt to divide by zero/);
    assert.equal((await s.run('SELECT count(*) FROM ledger;')).stdout.trim(), '0');
    assert.equal((await s.run(`SELECT misuse('none', 5), grab(10);`)).stdout.trim(), '5|10');
    await s.close();
    faultCases++;
    await assertContained('rollback');
  });

  test('every fault case ran and none crashed the server', () => {
    assert.equal(faultCases, EXPECTED_CASES, summary());
    assert.equal(crashesSeen(), 0, summary());
    assert.match(summary(), new RegExp(`${EXPECTED_CASES} fault cases ran, 0 server crashes seen`));
  });
});
