//! The host the library was initialised with (`plrust_init`) and direct
//! calls of its allocation callbacks.
use crate::abi::{PlrustHost, PLRUST_ABI_VERSION};
use core::ffi::c_void;
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering::Relaxed};

static HOST: AtomicPtr<PlrustHost> = AtomicPtr::new(ptr::null_mut());

/// Accepts `host` when its version and mandatory callbacks are right.
///
/// # Safety
/// `host` is NULL or points to a `PlrustHost` that stays valid while the
/// library is loaded.
pub(crate) unsafe fn install(host: *const PlrustHost) -> bool {
    // SAFETY: the caller guarantees a NULL or valid pointer.
    let Some(h) = (unsafe { host.as_ref() }) else { return false };
    if h.abi_version != PLRUST_ABI_VERSION || h.alloc.is_none() || h.dealloc.is_none() || h.realloc.is_none() {
        return false;
    }
    HOST.store(host.cast_mut(), Relaxed);
    true
}

pub(crate) fn installed() -> *const PlrustHost {
    HOST.load(Relaxed)
}

/// NULL when there is no host yet or the host is out of memory.
pub(crate) fn alloc(size: usize, align: usize) -> *mut u8 {
    let h = installed();
    if h.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: a non-NULL HOST was validated by `install` and outlives the library;
    // the callback is non-NULL (checked there) and never unwinds (ABI contract).
    unsafe {
        match (*h).alloc {
            Some(f) => f((*h).ctx, size, align).cast(),
            None => ptr::null_mut(),
        }
    }
}

/// # Safety
/// `p` came from `alloc`/`realloc` of this host with this size and alignment.
pub(crate) unsafe fn dealloc(p: *mut u8, size: usize, align: usize) {
    let h = installed();
    if h.is_null() {
        return;
    }
    // SAFETY: as in `alloc`; the block belongs to the host (caller's contract).
    unsafe {
        if let Some(f) = (*h).dealloc {
            f((*h).ctx, p.cast::<c_void>(), size, align)
        }
    }
}

/// # Safety
/// As for `dealloc`; on NULL the old block is still valid.
pub(crate) unsafe fn realloc(p: *mut u8, old_size: usize, align: usize, new_size: usize) -> *mut u8 {
    let h = installed();
    if h.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: as in `dealloc`.
    unsafe {
        match (*h).realloc {
            Some(f) => f((*h).ctx, p.cast::<c_void>(), old_size, align, new_size).cast(),
            None => ptr::null_mut(),
        }
    }
}

/// Copies `bytes` into a fresh host block the host will own (never the
/// emergency arena, never shared with Rust's allocator). `Err` = out of memory.
pub(crate) fn copy_to_host(bytes: &[u8]) -> Result<crate::abi::PlrustSlice, ()> {
    if bytes.is_empty() {
        return Ok(crate::abi::PlrustSlice::EMPTY);
    }
    let p = alloc(bytes.len(), 1);
    if p.is_null() {
        return Err(());
    }
    // SAFETY: `p` is a fresh block of `bytes.len()` bytes.
    unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len()) };
    Ok(crate::abi::PlrustSlice { ptr: p.cast_const().cast(), len: bytes.len() })
}
