//! The C ABI of docs/ABI.md (handler/plrust_abi.h is the C side).
use core::ffi::c_void;

pub const PLRUST_ABI_VERSION: u32 = 2;

pub const PLRUST_OK: i32 = 0;
pub const PLRUST_ERR: i32 = 1;
pub const PLRUST_PANIC: i32 = 2;
pub const PLRUST_CANCELED: i32 = 3;
pub const PLRUST_STACK_DEPTH: i32 = 4;
pub const PLRUST_OOM: i32 = 5;
pub const PLRUST_BAD_ARGS: i32 = 6;
pub const PLRUST_ABI_MISMATCH: i32 = 7;
pub const PLRUST_NOT_INITIALIZED: i32 = 8;

pub type AllocFn = unsafe extern "C" fn(ctx: *mut c_void, size: usize, align: usize) -> *mut c_void;
pub type DeallocFn = unsafe extern "C" fn(ctx: *mut c_void, ptr: *mut c_void, size: usize, align: usize);
pub type ReallocFn = unsafe extern "C" fn(
    ctx: *mut c_void,
    ptr: *mut c_void,
    old_size: usize,
    align: usize,
    new_size: usize,
) -> *mut c_void;
pub type InterruptRequestedFn = unsafe extern "C" fn(ctx: *mut c_void) -> i32;
pub type RequestFn = unsafe extern "C" fn(ctx: *mut c_void, msg: *const u8, len: usize, reply: *mut PlrustSlice) -> i32;

/// `PlrustValue::shape`: which union member a value uses (docs/ABI.md, Values).
pub const PLRUST_SHAPE_PLAIN: u8 = 0;
pub const PLRUST_SHAPE_BYTES: u8 = 1;
pub const PLRUST_SHAPE_ARRAY: u8 = 2;

#[repr(C)]
pub struct PlrustHost {
    pub abi_version: u32,
    pub flags: u32,
    pub ctx: *mut c_void,
    pub alloc: Option<AllocFn>,
    pub dealloc: Option<DeallocFn>,
    pub realloc: Option<ReallocFn>,
    pub interrupt_flag: *const i32,
    pub interrupt_requested: Option<InterruptRequestedFn>,
    pub stack_limit: usize,
    pub request: Option<RequestFn>,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct PlrustSlice {
    pub ptr: *const c_void,
    pub len: usize,
}

impl PlrustSlice {
    pub const EMPTY: PlrustSlice = PlrustSlice { ptr: core::ptr::null(), len: 0 };
}

#[repr(C)]
#[derive(Clone, Copy)]
pub union PlrustPayload {
    pub b: u8,
    pub i16: i16,
    pub i32: i32,
    pub i64: i64,
    pub f32: f32,
    pub f64: f64,
    pub bytes: PlrustSlice,
    pub array: PlrustSlice,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct PlrustValue {
    pub is_null: u8,
    pub shape: u8,
    pub _pad: [u8; 6],
    pub v: PlrustPayload,
}

impl PlrustValue {
    pub const NULL: PlrustValue =
        PlrustValue { is_null: 1, shape: PLRUST_SHAPE_PLAIN, _pad: [0; 6], v: PlrustPayload { i64: 0 } };

    pub const fn new(v: PlrustPayload) -> PlrustValue {
        PlrustValue { is_null: 0, shape: PLRUST_SHAPE_PLAIN, _pad: [0; 6], v }
    }

    pub const fn tagged(v: PlrustPayload, shape: u8) -> PlrustValue {
        PlrustValue { is_null: 0, shape, _pad: [0; 6], v }
    }
}

#[repr(C)]
pub struct PlrustError {
    pub message: PlrustSlice,
    pub location: PlrustSlice,
}

const _: () = assert!(core::mem::size_of::<PlrustValue>() == 24);
const _: () = assert!(core::mem::align_of::<PlrustValue>() == 8);
const _: () = assert!(core::mem::size_of::<PlrustError>() == 4 * core::mem::size_of::<usize>());
