//! The global allocator: every Rust allocation of the library goes through
//! the host's callbacks (palloc in PostgreSQL), plus a small static arena for
//! the unwinder when the host is out of memory.
use crate::host;
use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr;
use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};

pub struct HostAllocator;

// SAFETY: blocks come from the host (which honours size and alignment and
// returns NULL on failure) or from the arena (aligned, disjoint, tracked);
// nothing here unwinds.
unsafe impl GlobalAlloc for HostAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = host::alloc(layout.size(), layout.align());
        if p.is_null() { emergency::alloc(layout) } else { p }
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        if emergency::owns(p) {
            emergency::release();
        } else {
            // SAFETY: not an arena block, so a host block of this layout.
            unsafe { host::dealloc(p, layout.size(), layout.align()) }
        }
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if emergency::owns(p) {
            // SAFETY: the caller's layout rules for realloc carry over.
            return unsafe { move_block(self, p, layout, new_size) };
        }
        // SAFETY: a host block of `layout`.
        let q = unsafe { host::realloc(p, layout.size(), layout.align(), new_size) };
        if !q.is_null() {
            return q;
        }
        // The host could not grow the block; while unwinding, the arena may.
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else { return ptr::null_mut() };
        let q = emergency::alloc(new_layout);
        if !q.is_null() {
            // SAFETY: both blocks are live and disjoint.
            unsafe {
                ptr::copy_nonoverlapping(p, q, layout.size().min(new_size));
                host::dealloc(p, layout.size(), layout.align());
            }
        }
        q
    }
}

unsafe fn move_block(a: &HostAllocator, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
    let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else { return ptr::null_mut() };
    // SAFETY: new_size is non-zero (GlobalAlloc::realloc contract).
    let q = unsafe { a.alloc(new_layout) };
    if !q.is_null() {
        // SAFETY: `p` is live for layout.size() bytes, `q` for new_size; disjoint.
        unsafe {
            ptr::copy_nonoverlapping(p, q, layout.size().min(new_size));
            a.dealloc(p, layout);
        }
    }
    q
}

/// Memory for a panic that is already in flight: when the host is out of
/// memory, the unwinder still needs a few hundred bytes (the exception
/// object, the formatted message). Without them the OOM panic itself would
/// fail and std would abort. Used only while panicking, so code that handles
/// allocation failure itself (`try_reserve`) sees an ordinary NULL.
pub(crate) mod emergency {
    use super::*;

    const SIZE: usize = 32 * 1024;

    #[repr(C, align(64))]
    struct Arena(UnsafeCell<[u8; SIZE]>);
    // SAFETY: the arena is only touched through the bump pointer below; the
    // library runs on one thread (ABI), and atomics keep the counters sound anyway.
    unsafe impl Sync for Arena {}

    static ARENA: Arena = Arena(UnsafeCell::new([0; SIZE]));
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    static LIVE: AtomicUsize = AtomicUsize::new(0);

    fn base() -> usize {
        ARENA.0.get() as usize
    }

    pub(crate) fn owns(p: *const u8) -> bool {
        let a = p as usize;
        a >= base() && a < base() + SIZE
    }

    pub(crate) fn alloc(layout: Layout) -> *mut u8 {
        if !std::thread::panicking() {
            return ptr::null_mut();
        }
        let start = (base() + NEXT.load(Relaxed)).next_multiple_of(layout.align());
        let end = match start.checked_add(layout.size()) {
            Some(e) if e <= base() + SIZE => e,
            _ => return ptr::null_mut(),
        };
        NEXT.store(end - base(), Relaxed);
        LIVE.fetch_add(1, Relaxed);
        ARENA.0.get().cast::<u8>().wrapping_add(start - base())
    }

    /// A bump arena: space comes back only when every block is free again.
    pub(crate) fn release() {
        if LIVE.fetch_sub(1, Relaxed) == 1 {
            NEXT.store(0, Relaxed);
        }
    }
}
