//! Checkpoints: the calls the generated code places at every function, loop
//! and closure entry of user code. They stop the function when the host asks
//! for cancellation or when the stack has grown past the host's limit.
use crate::abi::PlrustHost;
use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering::Relaxed};

/// Panic payloads that only this crate can create, so the wrapper can tell
/// them from user panics.
pub(crate) struct Canceled;
pub(crate) struct StackDepth;

static NO_INTERRUPT: i32 = 0;
static STICKY_INTERRUPT: i32 = 1;

/// What the fast path reads: the host's interrupt flag, a static 0 when
/// there is none, or a static 1 once a cancel has been seen in this call.
static INTERRUPT: AtomicPtr<i32> = AtomicPtr::new(ptr::addr_of!(NO_INTERRUPT).cast_mut());
static STACK_LIMIT: AtomicUsize = AtomicUsize::new(0);
static CANCELED: AtomicBool = AtomicBool::new(false);

/// Stops the function (by a panic the wrapper reports as `PLRUST_CANCELED` or
/// `PLRUST_STACK_DEPTH`) when the host asked for cancellation or the stack
/// is deeper than the host allows. Cheap: one comparison and one load.
#[inline(always)]
#[track_caller]
pub fn checkpoint() {
    let marker = 0u8;
    let sp = ptr::addr_of!(marker) as usize;
    // SAFETY: INTERRUPT always points at a live i32: one of the statics above
    // or the host's flag, which the host keeps alive while the library is loaded.
    let pending = unsafe { ptr::read_volatile(INTERRUPT.load(Relaxed)) };
    if pending != 0 || sp < STACK_LIMIT.load(Relaxed) {
        slow_path(sp);
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn slow_path(sp: usize) {
    if sp < STACK_LIMIT.load(Relaxed) {
        std::panic::panic_any(StackDepth);
    }
    if CANCELED.load(Relaxed) || host_wants_cancel() {
        CANCELED.store(true, Relaxed);
        INTERRUPT.store(ptr::addr_of!(STICKY_INTERRUPT).cast_mut(), Relaxed);
        std::panic::panic_any(Canceled);
    }
}

fn host_wants_cancel() -> bool {
    let h = crate::host::installed();
    if h.is_null() {
        return false;
    }
    // SAFETY: a validated host that outlives the library; the callback never unwinds.
    unsafe {
        match (*h).interrupt_requested {
            Some(f) => f((*h).ctx) != 0,
            None => true,
        }
    }
}

/// Reads the host's per-call settings and clears the sticky cancel.
///
/// # Safety
/// `host` is the validated host of `crate::host`.
pub(crate) unsafe fn begin_call(host: *const PlrustHost) {
    // SAFETY: caller's contract.
    let (flag, limit) = unsafe { ((*host).interrupt_flag, (*host).stack_limit) };
    let flag = if flag.is_null() { ptr::addr_of!(NO_INTERRUPT) } else { flag };
    CANCELED.store(false, Relaxed);
    INTERRUPT.store(flag.cast_mut(), Relaxed);
    STACK_LIMIT.store(limit, Relaxed);
}

/// Whether a cancel was seen during this call, even if user code caught the panic.
pub(crate) fn canceled() -> bool {
    CANCELED.load(Relaxed)
}

/// Ends the call as a cancel does, stickily: the host has an error to raise
/// once the Rust frames are gone (a canceled query, `error!`).
#[cold]
#[track_caller]
pub(crate) fn abort_call() -> ! {
    CANCELED.store(true, Relaxed);
    INTERRUPT.store(ptr::addr_of!(STICKY_INTERRUPT).cast_mut(), Relaxed);
    std::panic::panic_any(Canceled)
}

/// The per-call state of an outer call, kept while a nested call (function
/// code that queries a PL/Rust function of the same library) runs.
pub(crate) struct Saved(*mut i32, usize, bool);

pub(crate) fn save() -> Saved {
    Saved(INTERRUPT.load(Relaxed), STACK_LIMIT.load(Relaxed), CANCELED.load(Relaxed))
}

pub(crate) fn restore(s: Saved) {
    INTERRUPT.store(s.0, Relaxed);
    STACK_LIMIT.store(s.1, Relaxed);
    CANCELED.store(s.2, Relaxed);
}
