//! Probe library for the std restriction (see docs/TRUST.md and
//! test/e2e/probes.test.ts). One `probe_<name>` per API: it returns
//! 0 when the API did its work, 1 when it returned an error (or nothing), and
//! 2 when it panicked; the panic is caught here, as the PL/Rust wrapper does.
//! Built unchanged against the restricted sysroots and against the host's
//! ordinary std, so a probe that passes on the restricted std fails there
//! because of the restriction, not because the probe is broken.
//!
//! Edition 2021: `env::set_var` is the safe function user code would call.

use std::alloc::Layout;
use std::collections::HashMap;
use std::ffi::{c_char, CStr};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use std::{env, fs, io, thread};

static WORKDIR: Mutex<String> = Mutex::new(String::new());
static PORT: AtomicU16 = AtomicU16::new(0);

/// Called once by the host: a directory holding `input.txt`, and the port of
/// a TCP listener the host keeps open on 127.0.0.1.
#[no_mangle]
pub unsafe extern "C" fn probe_configure(workdir: *const c_char, port: u16) {
    let dir = unsafe { CStr::from_ptr(workdir) }.to_string_lossy().into_owned();
    *WORKDIR.lock().unwrap() = dir;
    PORT.store(port, Ordering::SeqCst);
}

fn workfile(name: &str) -> PathBuf {
    PathBuf::from(WORKDIR.lock().unwrap().as_str()).join(name)
}

fn run(probe: impl FnOnce() -> bool) -> i32 {
    match catch_unwind(AssertUnwindSafe(probe)) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(_) => 2,
    }
}

macro_rules! probes {
    ($($name:ident => $body:expr;)*) => {$(
        #[no_mangle]
        pub extern "C" fn $name() -> i32 {
            run(|| $body)
        }
    )*};
}

probes! {
    probe_file_open => fs::File::open(workfile("input.txt")).is_ok();
    probe_fs_read_dir => fs::read_dir(workfile(".")).is_ok();
    probe_fs_write => fs::write(workfile("written.txt"), b"written").is_ok();
    probe_fs_metadata => fs::metadata(workfile("input.txt")).is_ok();
    probe_path_exists => workfile("input.txt").exists();
    probe_tcp_connect => {
        TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], PORT.load(Ordering::SeqCst)))).is_ok()
    };
    probe_tcp_listener_bind => TcpListener::bind("127.0.0.1:0").is_ok();
    probe_udp_bind => UdpSocket::bind("127.0.0.1:0").is_ok();
    probe_to_socket_addrs => ("localhost", 80).to_socket_addrs().map(|mut a| a.next().is_some()).unwrap_or(false);
    probe_command_output => std::process::Command::new("true").output().map(|o| o.status.success()).unwrap_or(false);
    probe_env_var => env::var("PLRUST_PROBE_ENV").is_ok();
    probe_env_vars => env::vars().any(|(k, _)| k == "PLRUST_PROBE_ENV");
    probe_env_set_var => {
        env::set_var("PLRUST_PROBE_SET", "1");
        env::var("PLRUST_PROBE_SET").as_deref() == Ok("1")
    };
    probe_env_args => env::args().next().is_some();
    probe_env_current_dir => env::current_dir().is_ok();
    probe_env_set_current_dir => env::set_current_dir(workfile(".")).is_ok();
    probe_env_temp_dir => !env::temp_dir().as_os_str().is_empty();
    probe_env_home_dir => {
        #[allow(deprecated)]
        let home = env::home_dir();
        home.is_some()
    };
    probe_env_current_exe => env::current_exe().is_ok();
    probe_stdout_write => {
        let mut out = io::stdout();
        out.write(b"plrust-probe: stdout works\n").and_then(|_| out.flush()).is_ok()
    };
    probe_stdin_read_line => io::stdin().read_line(&mut String::new()).is_ok();
    probe_stdin_read => io::stdin().read(&mut [0u8; 8]).is_ok();
    probe_println => {
        println!("plrust-probe: println works");
        true
    };
    probe_eprintln => {
        eprintln!("plrust-probe: eprintln works");
        true
    };
    probe_thread_spawn => thread::spawn(|| 7).join().ok() == Some(7);
    probe_thread_scope => thread::scope(|s| s.spawn(|| 7).join().ok() == Some(7));
    probe_available_parallelism => thread::available_parallelism().is_ok();
    probe_backtrace_force_capture => {
        std::backtrace::Backtrace::force_capture().status() == std::backtrace::BacktraceStatus::Captured
    };
    probe_process_exit => std::process::exit(0);
    probe_process_abort => std::process::abort();
    probe_handle_alloc_error => std::alloc::handle_alloc_error(Layout::new::<[u64; 8]>());

    probe_allowed_instant => {
        let a = Instant::now();
        Instant::now() >= a
    };
    probe_allowed_system_time => {
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() > 1_600_000_000).unwrap_or(false)
    };
    probe_allowed_hashmap => {
        let mut m = HashMap::new();
        m.insert("k", 1);
        m.get("k") == Some(&1)
    };
    probe_allowed_thread_sleep => {
        thread::sleep(Duration::from_millis(1));
        true
    };
    // Single-threaded, so the lock never contends; a timed wait still goes
    // through the futex system call and must report the timeout.
    probe_allowed_condvar_timeout => {
        let lock = Mutex::new(());
        let cv = Condvar::new();
        let (_guard, result) = cv.wait_timeout(lock.lock().unwrap(), Duration::from_millis(2)).unwrap();
        cv.notify_all();
        result.timed_out()
    };
    probe_allowed_park_timeout => {
        thread::park_timeout(Duration::from_millis(1));
        true
    };
    probe_allowed_panic => {
        let caught = catch_unwind(|| panic!("plrust-probe: an ordinary panic"));
        caught.is_err()
    };
}
