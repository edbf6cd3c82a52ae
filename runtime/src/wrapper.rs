//! The entry points the generated wrapper (templates/wrapper/lib.rs) calls.
//! Everything that trusts its input is `unsafe`, so user code (which may
//! name this module but is compiled under `forbid(unsafe_code)`) cannot
//! reach it.
use crate::abi::{
    PlrustError, PlrustHost, PlrustSlice, PlrustValue, PLRUST_ABI_MISMATCH, PLRUST_BAD_ARGS, PLRUST_CANCELED,
    PLRUST_ERR, PLRUST_NOT_INITIALIZED, PLRUST_OK, PLRUST_OOM, PLRUST_PANIC, PLRUST_STACK_DEPTH,
};
use crate::checkpoint::{self, Canceled, StackDepth};
use crate::convert::{FromArg, Outcome, OwnedValue};
use crate::panic::{self as capture, OutOfMemory};
use crate::sql::SqlType;
use core::fmt::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};

pub use crate::abi::PLRUST_ABI_VERSION as ABI_VERSION;

static OOM_MESSAGE: &str = "out of memory";
static NOT_INITIALIZED_MESSAGE: &str = "plrust_call before a successful plrust_init";
static CANCELED_MESSAGE: &str = "canceled by the host's interrupt request";
static STACK_DEPTH_MESSAGE: &str = "stack depth limit exceeded";

/// Where the user's source sits in the generated crate, so panic locations
/// name the user's file, line and column (docs/ABI.md, "Generated crate").
pub struct SourceMap {
    /// The user module's file as rustc reports it (after path remapping).
    pub generated_file: &'static str,
    /// The file the user wrote.
    pub user_file: &'static str,
    /// User source line n is generated line n + line_offset.
    pub line_offset: u32,
    /// How many lines the user's source has.
    pub source_lines: u32,
    /// Where the source starts in the user's file (1-based).
    pub origin_line: u32,
    pub origin_col: u32,
    /// Text the instrumenter inserted: (generated line, 1-based generated
    /// column, length), sorted.
    pub insertions: &'static [(u32, u32, u32)],
}

impl SourceMap {
    fn map<'s>(&'s self, file: &'s str, line: u32, col: u32) -> (&'s str, u32, u32) {
        if file != self.generated_file {
            return (file, line, col);
        }
        let Some(src_line) = line.checked_sub(self.line_offset).filter(|l| *l >= 1) else {
            return (self.user_file, self.origin_line, self.origin_col);
        };
        let src_line = src_line.min(self.source_lines.max(1));
        let mut delta = 0;
        let mut src_col = None;
        for &(_, at, len) in self.insertions.iter().filter(|(l, _, _)| *l == line) {
            if col >= at + len {
                delta += len;
            } else {
                if col >= at {
                    src_col = Some(at - delta);
                }
                break;
            }
        }
        let mut src_col = src_col.unwrap_or(col.saturating_sub(delta).max(1));
        if src_line == 1 {
            src_col += self.origin_col.saturating_sub(1);
        }
        (self.user_file, src_line + self.origin_line - 1, src_col)
    }
}

/// Why the wrapper's closure stopped without a value.
pub enum Failure {
    /// An argument did not match the signature; no user code ran.
    BadArg { name: &'static str, problem: &'static str },
    /// The user function returned `Err(e)`: `e.to_string()`.
    Returned(String),
}

/// `plrust_init`.
///
/// # Safety
/// `host` is NULL or a `PlrustHost` that outlives the library (docs/ABI.md).
pub unsafe fn init(host: *const PlrustHost) -> i32 {
    // SAFETY: caller's contract.
    if !unsafe { crate::host::install(host) } {
        return PLRUST_ABI_MISMATCH;
    }
    // Replacing a hook drops the previous one, which user code may have set
    // (on a re-init): keep any panic of its Drop inside the library.
    match catch_unwind(capture::install_hooks) {
        Ok(()) => PLRUST_OK,
        Err(payload) => {
            capture::dispose(payload);
            PLRUST_ABI_MISMATCH
        }
    }
}

/// Argument `index` as the Rust type the user function wants, which must be
/// one that SQL type `S` converts into.
///
/// # Safety
/// `args` are the host's arguments, valid per docs/ABI.md for the signature.
pub unsafe fn arg<'a, S: SqlType, T: FromArg<'a, S>>(
    args: &'a [PlrustValue],
    index: usize,
    name: &'static str,
) -> Result<T, Failure> {
    let Some(v) = args.get(index) else { return Err(Failure::BadArg { name, problem: "is missing" }) };
    // SAFETY: caller's contract.
    unsafe { T::from_arg(v) }.map_err(|problem| Failure::BadArg { name, problem })
}

/// The user function's return value as a result for SQL type `S`.
///
/// # Safety
/// Only the wrapper calls this, inside `call`.
pub unsafe fn outcome<S: SqlType, O: Outcome<S>>(o: O) -> Result<OwnedValue, Failure> {
    // SAFETY: forwarded.
    unsafe { o.into_outcome() }.map_err(Failure::Returned)
}

/// `plrust_call`: runs `body` (argument conversion, the user function,
/// result conversion) and turns every way it can end into a status. Nothing
/// unwinds out of here.
///
/// # Safety
/// The pointers are those `plrust_call` received, per docs/ABI.md.
pub unsafe fn call<F>(
    args: *const PlrustValue,
    nargs: u32,
    result: *mut PlrustValue,
    error: *mut PlrustError,
    expected_nargs: u32,
    map: &'static SourceMap,
    body: F,
) -> i32
where
    F: for<'a> FnOnce(&'a [PlrustValue]) -> Result<OwnedValue, Failure>,
{
    if error.is_null() {
        return PLRUST_BAD_ARGS;
    }
    let host = crate::host::installed();
    if host.is_null() {
        // SAFETY: `error` is non-NULL and writable (caller's contract).
        unsafe { write_static(error, NOT_INITIALIZED_MESSAGE) };
        return PLRUST_NOT_INITIALIZED;
    }
    if result.is_null() || nargs != expected_nargs || (nargs != 0 && args.is_null()) {
        let mut text = StackText::new();
        let _ = write!(text, "expected {expected_nargs} arguments and a result pointer, got {nargs}");
        // SAFETY: as above.
        return unsafe { report(error, PLRUST_BAD_ARGS, text.as_str(), None) };
    }
    let outer = checkpoint::save();
    // SAFETY: `host` was validated by init and outlives the library.
    unsafe { checkpoint::begin_call(host) };
    let values: &[PlrustValue] =
        // SAFETY: `nargs` values at `args`, live for the call (caller's contract).
        if nargs == 0 { &[] } else { unsafe { core::slice::from_raw_parts(args, nargs as usize) } };

    let mark = capture::mark();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        capture::restore_hook_if_lost();
        body(values)
    }));
    let canceled = checkpoint::canceled();
    checkpoint::restore(outer);
    // SAFETY (all writes below): `result` and `error` are non-NULL and
    // writable (caller's contract).
    unsafe {
        match caught {
            Ok(_) if canceled => report(error, PLRUST_CANCELED, CANCELED_MESSAGE, None),
            Ok(Ok(value)) => {
                result.write(value.into_raw());
                PLRUST_OK
            }
            Ok(Err(Failure::Returned(message))) => report(error, PLRUST_ERR, &message, None),
            Ok(Err(Failure::BadArg { name, problem })) => {
                let mut text = StackText::new();
                let _ = write!(text, "argument `{name}` {problem}");
                report(error, PLRUST_BAD_ARGS, text.as_str(), None)
            }
            Err(payload) => {
                let location = capture::location_since(mark);
                let status = if canceled || payload.is::<Canceled>() {
                    report(error, PLRUST_CANCELED, CANCELED_MESSAGE, location.as_ref().map(|l| (l, map)))
                } else if payload.is::<StackDepth>() {
                    report(error, PLRUST_STACK_DEPTH, STACK_DEPTH_MESSAGE, location.as_ref().map(|l| (l, map)))
                } else if payload.is::<OutOfMemory>() {
                    write_static(error, OOM_MESSAGE);
                    PLRUST_OOM
                } else {
                    let message = capture::message(&*payload);
                    report(error, PLRUST_PANIC, message, location.as_ref().map(|l| (l, map)))
                };
                capture::dispose(payload);
                status
            }
        }
    }
}

unsafe fn write_static(error: *mut PlrustError, message: &'static str) {
    let message = PlrustSlice { ptr: message.as_ptr().cast(), len: message.len() };
    // SAFETY: caller's contract.
    unsafe { error.write(PlrustError { message, location: PlrustSlice::EMPTY }) };
}

/// Fills `*error` with host copies of the message and the mapped location;
/// if the host cannot provide them, the status becomes PLRUST_OOM with the
/// static message. Allocates only through the host, never panics.
unsafe fn report(
    error: *mut PlrustError,
    status: i32,
    message: &str,
    location: Option<(&capture::RawLocation, &SourceMap)>,
) -> i32 {
    let mut where_ = StackText::new();
    if let Some((raw, map)) = location {
        let (file, line, col) = map.map(raw.file(), raw.line, raw.col);
        let _ = write!(where_, "{file}:{line}:{col}");
    }
    let message = crate::host::copy_to_host(message.as_bytes());
    let location = crate::host::copy_to_host(where_.as_str().as_bytes());
    match (message, location) {
        (Ok(message), Ok(location)) => {
            // SAFETY: caller's contract.
            unsafe { error.write(PlrustError { message, location }) };
            status
        }
        (message, location) => {
            for s in [message, location].into_iter().flatten() {
                if s.len != 0 {
                    // SAFETY: a block copy_to_host just allocated.
                    unsafe { crate::host::dealloc(s.ptr.cast_mut().cast(), s.len, 1) };
                }
            }
            // SAFETY: caller's contract.
            unsafe { write_static(error, OOM_MESSAGE) };
            PLRUST_OOM
        }
    }
}

/// A short text formatted on the stack (no allocation while reporting);
/// longer output is cut at a character boundary.
struct StackText {
    buf: [u8; 512],
    len: usize,
}

impl StackText {
    fn new() -> StackText {
        StackText { buf: [0; 512], len: 0 }
    }

    fn as_str(&self) -> &str {
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl Write for StackText {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let room = self.buf.len() - self.len;
        let mut take = s.len().min(room);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        self.buf[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        if take < s.len() { Err(core::fmt::Error) } else { Ok(()) }
    }
}
