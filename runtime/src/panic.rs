//! Panic capture: a hook that records where each panic happened, and the
//! handling of caught payloads.
use core::any::Any;
use core::cell::Cell;
use std::panic::{self, AssertUnwindSafe, PanicHookInfo};

/// Raised by the allocation-error hook: a failed allocation became a panic.
pub(crate) struct OutOfMemory;

const FILE_MAX: usize = 240;

/// The location of the last panic, kept in a fixed buffer: the hook must
/// neither allocate (the panic may be an out-of-memory one) nor register a
/// thread-local destructor.
#[derive(Clone, Copy)]
pub(crate) struct RawLocation {
    file: [u8; FILE_MAX],
    file_len: usize,
    pub(crate) line: u32,
    pub(crate) col: u32,
}

impl RawLocation {
    pub(crate) fn file(&self) -> &str {
        // The buffer holds a prefix of a &str cut at a char boundary.
        core::str::from_utf8(&self.file[..self.file_len]).unwrap_or("")
    }
}

thread_local! {
    static LAST: Cell<Option<RawLocation>> = const { Cell::new(None) };
    static RECORDED: Cell<u64> = const { Cell::new(0) };
    static HOOK_LOST: Cell<bool> = const { Cell::new(false) };
}

fn hook(info: &PanicHookInfo<'_>) {
    let Some(loc) = info.location() else { return };
    let file = loc.file();
    let mut cut = file.len().min(FILE_MAX);
    while !file.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut raw = RawLocation { file: [0; FILE_MAX], file_len: cut, line: loc.line(), col: loc.column() };
    raw.file[..cut].copy_from_slice(&file.as_bytes()[..cut]);
    LAST.set(Some(raw));
    RECORDED.set(RECORDED.get().wrapping_add(1));
}

fn oom_hook(_: std::alloc::Layout) {
    panic::panic_any(OutOfMemory);
}

/// Installs the hooks; nothing is printed on a panic.
pub(crate) fn install_hooks() {
    panic::set_hook(Box::new(hook));
    std::alloc::set_alloc_error_hook(oom_hook);
    HOOK_LOST.set(false);
}

/// User code may have replaced the panic hook (`std::panic::set_hook` is
/// safe); put ours back. Runs inside the wrapper's catch_unwind because
/// dropping the user's hook runs user code.
pub(crate) fn restore_hook_if_lost() {
    if HOOK_LOST.get() {
        panic::set_hook(Box::new(hook));
        HOOK_LOST.set(false);
    }
}

/// A marker taken before running user code, to find the location of the
/// panic that ends the call.
pub(crate) fn mark() -> u64 {
    LAST.set(None);
    RECORDED.get()
}

/// The location recorded since `mark`, if our hook saw the panic.
pub(crate) fn location_since(mark: u64) -> Option<RawLocation> {
    if RECORDED.get() == mark {
        HOOK_LOST.set(true);
        return None;
    }
    LAST.get()
}

/// The message of a caught payload.
pub(crate) fn message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "explicit panic with a non-string payload"
    }
}

/// Drops a caught payload. Its `Drop` is user code and may panic again;
/// that second payload is leaked rather than let unwind into C.
pub(crate) fn dispose(payload: Box<dyn Any + Send>) {
    if let Err(again) = panic::catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        core::mem::forget(again);
    }
}
