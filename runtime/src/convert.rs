//! Conversions between `PlrustValue` and the Rust types user functions take
//! and return. The traits are parameterised by the SQL type (`crate::sql`)
//! so that only the pairs of docs/ABI.md exist.
use crate::abi::{PlrustPayload, PlrustSlice, PlrustValue, PLRUST_SHAPE_ARRAY, PLRUST_SHAPE_BYTES};
use crate::sql::{Array, Bool, Bytea, Float4, Float8, Int2, Int4, Int8, Layout, Scalar, SqlType, Text, Void};
use core::fmt::Display;
use core::mem::ManuallyDrop;

/// Why an argument was refused; the wrapper adds the argument's name.
pub type ArgProblem = &'static str;

/// A Rust parameter type that SQL type `S` converts into.
pub trait FromArg<'a, S: SqlType>: Sized {
    /// # Safety
    /// `v` follows docs/ABI.md for SQL type `S`: its slices point to live
    /// memory of the stated length for `'a`.
    unsafe fn from_arg(v: &'a PlrustValue) -> Result<Self, ArgProblem>;
}

/// A Rust result type that converts into SQL type `S` (never NULL: `Option`
/// says NULL). Buffers are allocated through the host.
pub trait IntoResult<S: SqlType>: Sized {
    /// # Safety
    /// Only the wrapper calls this: the value owns host memory that the host
    /// is to release once it is handed over.
    unsafe fn into_result(self) -> OwnedValue;
}

/// Which union member of an owned value points to host memory.
#[derive(Clone, Copy)]
pub(crate) enum Shape {
    Value(Layout),
    /// `block_len`: the values the host block was allocated for (the
    /// array's `len` once complete).
    Array { elements: Layout, block_len: usize },
}

/// A result value whose buffers (exact-size host blocks) are released on
/// drop, so a panic halfway through a conversion leaks nothing.
pub struct OwnedValue {
    pub(crate) raw: PlrustValue,
    pub(crate) shape: Shape,
}

impl OwnedValue {
    pub(crate) const NULL: OwnedValue = OwnedValue { raw: PlrustValue::NULL, shape: Shape::Value(Layout::Plain) };

    pub(crate) fn scalar(v: PlrustPayload) -> OwnedValue {
        OwnedValue { raw: PlrustValue::new(v), shape: Shape::Value(Layout::Plain) }
    }

    /// Hands the buffers over (to the host, through `*result`).
    pub(crate) fn into_raw(self) -> PlrustValue {
        ManuallyDrop::new(self).raw
    }

    /// The value as a request message carries it (docs/ABI.md, "Host requests").
    pub(crate) fn write_flat(&self, w: &mut crate::request::Writer) {
        // SAFETY: the shape was recorded together with the union member it describes.
        unsafe { write_flat(&self.raw, self.shape, w) }
    }
}

unsafe fn write_flat(v: &PlrustValue, shape: Shape, w: &mut crate::request::Writer) {
    use crate::request::SHAPE_ARRAY;
    if v.is_null != 0 {
        return w.u8(crate::request::SHAPE_NULL);
    }
    // SAFETY: the union member and its blocks match `shape` (caller's contract).
    unsafe {
        match shape {
            Shape::Value(layout) => write_flat_value(v, layout, w),
            Shape::Array { elements: layout, .. } => {
                w.u8(SHAPE_ARRAY);
                let elems = elements(v.v.array).unwrap_or(&[]);
                w.u64(elems.len() as u64);
                for e in elems {
                    write_flat_value(e, layout, w);
                }
            }
        }
    }
}

/// # Safety
/// `v` is NULL or a complete value of `layout`.
unsafe fn write_flat_value(v: &PlrustValue, layout: Layout, w: &mut crate::request::Writer) {
    use crate::request::{SHAPE_ARRAY, SHAPE_BYTES, SHAPE_NULL, SHAPE_PLAIN};
    if v.is_null != 0 {
        return w.u8(SHAPE_NULL);
    }
    // SAFETY: caller's contract: the member `layout` names is the one in use.
    unsafe {
        match layout {
            Layout::Plain => {
                w.u8(SHAPE_PLAIN);
                w.raw(&v.v.i64.to_le_bytes());
            }
            Layout::Bytes => {
                w.u8(SHAPE_BYTES);
                w.bytes(bytes(v.v.bytes).unwrap_or(&[]));
            }
            Layout::Range { bytes_bounds } => {
                // flags, then the two bounds: the same three values the handler reads.
                w.u8(SHAPE_ARRAY);
                let parts = elements(v.v.array).unwrap_or(&[]);
                w.u64(parts.len() as u64);
                for (i, e) in parts.iter().enumerate() {
                    write_flat_value(e, if i > 0 && bytes_bounds { Layout::Bytes } else { Layout::Plain }, w);
                }
            }
        }
    }
}

impl Drop for OwnedValue {
    fn drop(&mut self) {
        // SAFETY: the shape was recorded by the constructor below together
        // with the host blocks it describes.
        unsafe { release(&self.raw, self.shape) }
    }
}

unsafe fn release(v: &PlrustValue, shape: Shape) {
    if v.is_null != 0 {
        return;
    }
    // SAFETY: the union member and its blocks match `shape` (caller's contract).
    unsafe {
        match shape {
            Shape::Value(layout) => release_value(v, layout),
            Shape::Array { elements, block_len } => {
                let s = v.v.array;
                if block_len != 0 {
                    for e in core::slice::from_raw_parts(s.ptr.cast::<PlrustValue>(), s.len) {
                        release_value(e, elements);
                    }
                    crate::host::dealloc(s.ptr.cast_mut().cast(), block_len * size_of::<PlrustValue>(), align_of::<PlrustValue>());
                }
            }
        }
    }
}

/// # Safety
/// `v` is NULL or a complete value of `layout` whose blocks are the host's.
unsafe fn release_value(v: &PlrustValue, layout: Layout) {
    if v.is_null != 0 {
        return;
    }
    // SAFETY: caller's contract.
    unsafe {
        match layout {
            Layout::Plain => {}
            Layout::Bytes => release_bytes(v.v.bytes),
            Layout::Range { bytes_bounds } => {
                let s = v.v.array;
                if bytes_bounds {
                    for e in &core::slice::from_raw_parts(s.ptr.cast::<PlrustValue>(), s.len)[1..] {
                        release_value(e, Layout::Bytes);
                    }
                }
                crate::host::dealloc(s.ptr.cast_mut().cast(), s.len * size_of::<PlrustValue>(), align_of::<PlrustValue>());
            }
        }
    }
}

unsafe fn release_bytes(s: PlrustSlice) {
    if s.len != 0 {
        // SAFETY: an exact-size host block (caller's contract).
        unsafe { crate::host::dealloc(s.ptr.cast_mut().cast(), s.len, 1) }
    }
}

pub(crate) fn out_of_memory(size: usize, align: usize) -> ! {
    let layout = std::alloc::Layout::from_size_align(size, align).unwrap_or(std::alloc::Layout::new::<u8>());
    std::alloc::handle_alloc_error(layout)
}

fn is_null(v: &PlrustValue) -> Result<bool, ArgProblem> {
    match v.is_null {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err("has an is_null flag other than 0 or 1"),
    }
}

pub(crate) fn not_null(v: &PlrustValue) -> Result<(), ArgProblem> {
    if is_null(v)? { Err("is NULL, but the function's parameter is not an Option") } else { Ok(()) }
}

/// # Safety
/// `s` is a byte slice of the ABI, live for `'a`.
pub(crate) unsafe fn bytes<'a>(s: PlrustSlice) -> Result<&'a [u8], ArgProblem> {
    if s.len == 0 {
        return Ok(&[]);
    }
    if s.ptr.is_null() || s.len > isize::MAX as usize {
        return Err("has an invalid byte slice");
    }
    // SAFETY: caller's contract, non-NULL, length in range.
    Ok(unsafe { core::slice::from_raw_parts(s.ptr.cast::<u8>(), s.len) })
}

/// # Safety
/// `s` is an array slice of the ABI, live for `'a`.
pub(crate) unsafe fn elements<'a>(s: PlrustSlice) -> Result<&'a [PlrustValue], ArgProblem> {
    if s.len == 0 {
        return Ok(&[]);
    }
    let p = s.ptr.cast::<PlrustValue>();
    if p.is_null() || !p.is_aligned() || s.len > isize::MAX as usize / size_of::<PlrustValue>() {
        return Err("has an invalid array slice");
    }
    // SAFETY: caller's contract, non-NULL, aligned, length in range.
    Ok(unsafe { core::slice::from_raw_parts(p, s.len) })
}

/// A payload whose 8 scalar bytes are all initialised, so the value can be
/// copied into a request message whatever member it uses.
macro_rules! zeroed {
    ($field:ident, $v:expr) => {{
        let mut p = PlrustPayload { bytes: PlrustSlice::EMPTY };
        p.$field = $v;
        p
    }};
}
pub(crate) use zeroed;

macro_rules! plain_scalar {
    ($rust:ty, $sql:ty, $field:ident) => {
        impl<'a> FromArg<'a, $sql> for $rust {
            unsafe fn from_arg(v: &'a PlrustValue) -> Result<Self, ArgProblem> {
                not_null(v)?;
                // SAFETY: the signature says this union member is set.
                Ok(unsafe { v.v.$field })
            }
        }
        impl IntoResult<$sql> for $rust {
            unsafe fn into_result(self) -> OwnedValue {
                OwnedValue::scalar(zeroed!($field, self))
            }
        }
    };
}

plain_scalar!(i16, Int2, i16);
plain_scalar!(i32, Int4, i32);
plain_scalar!(i64, Int8, i64);
plain_scalar!(f32, Float4, f32);
plain_scalar!(f64, Float8, f64);

impl<'a> FromArg<'a, Bool> for bool {
    unsafe fn from_arg(v: &'a PlrustValue) -> Result<Self, ArgProblem> {
        not_null(v)?;
        // SAFETY: the signature says `b` is set.
        match unsafe { v.v.b } {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err("is a bool other than 0 or 1"),
        }
    }
}

impl IntoResult<Bool> for bool {
    unsafe fn into_result(self) -> OwnedValue {
        OwnedValue::scalar(zeroed!(b, self as u8))
    }
}

impl<'a> FromArg<'a, Text> for &'a str {
    unsafe fn from_arg(v: &'a PlrustValue) -> Result<Self, ArgProblem> {
        not_null(v)?;
        // SAFETY: the signature says `bytes` is set, live for 'a.
        let b = unsafe { bytes(v.v.bytes)? };
        core::str::from_utf8(b).map_err(|_| "is not valid UTF-8")
    }
}

impl<'a> FromArg<'a, Text> for String {
    unsafe fn from_arg(v: &'a PlrustValue) -> Result<Self, ArgProblem> {
        // SAFETY: forwarded contract.
        unsafe { <&str as FromArg<'a, Text>>::from_arg(v) }.map(String::from)
    }
}

impl<'a> FromArg<'a, Bytea> for &'a [u8] {
    unsafe fn from_arg(v: &'a PlrustValue) -> Result<Self, ArgProblem> {
        not_null(v)?;
        // SAFETY: the signature says `bytes` is set, live for 'a.
        unsafe { bytes(v.v.bytes) }
    }
}

impl<'a> FromArg<'a, Bytea> for Vec<u8> {
    unsafe fn from_arg(v: &'a PlrustValue) -> Result<Self, ArgProblem> {
        // SAFETY: forwarded contract.
        unsafe { <&[u8] as FromArg<'a, Bytea>>::from_arg(v) }.map(<[u8]>::to_vec)
    }
}

/// Always a fresh exact-size host block: a Rust buffer may have spare
/// capacity or live in the emergency arena, neither of which the host could
/// release.
pub(crate) fn bytes_result(b: &[u8]) -> OwnedValue {
    match crate::host::copy_to_host(b) {
        Ok(s) => OwnedValue {
            raw: PlrustValue::tagged(PlrustPayload { bytes: s }, PLRUST_SHAPE_BYTES),
            shape: Shape::Value(Layout::Bytes),
        },
        Err(()) => out_of_memory(b.len(), 1),
    }
}

impl IntoResult<Text> for String {
    unsafe fn into_result(self) -> OwnedValue {
        bytes_result(self.as_bytes())
    }
}

impl IntoResult<Text> for &str {
    unsafe fn into_result(self) -> OwnedValue {
        bytes_result(self.as_bytes())
    }
}

impl IntoResult<Bytea> for Vec<u8> {
    unsafe fn into_result(self) -> OwnedValue {
        bytes_result(&self)
    }
}

impl IntoResult<Bytea> for &[u8] {
    unsafe fn into_result(self) -> OwnedValue {
        bytes_result(self)
    }
}

impl IntoResult<Void> for () {
    unsafe fn into_result(self) -> OwnedValue {
        OwnedValue::NULL
    }
}

impl<'a, S: SqlType, T: FromArg<'a, S>> FromArg<'a, S> for Option<T> {
    unsafe fn from_arg(v: &'a PlrustValue) -> Result<Self, ArgProblem> {
        if is_null(v)? {
            Ok(None)
        } else {
            // SAFETY: forwarded contract.
            unsafe { T::from_arg(v) }.map(Some)
        }
    }
}

unsafe fn option_result<S: SqlType, T: IntoResult<S>>(v: Option<T>) -> OwnedValue {
    match v {
        // SAFETY: forwarded (only the wrapper gets here).
        Some(t) => unsafe { t.into_result() },
        None => OwnedValue::NULL,
    }
}

impl<'a, E: Scalar, T: FromArg<'a, E>> FromArg<'a, Array<E>> for Vec<Option<T>> {
    unsafe fn from_arg(v: &'a PlrustValue) -> Result<Self, ArgProblem> {
        not_null(v)?;
        // SAFETY: the signature says `array` is set, live for 'a.
        let elems = unsafe { elements(v.v.array)? };
        // SAFETY: each element follows the ABI for E (caller's contract).
        elems.iter().map(|e| unsafe { <Option<T> as FromArg<'a, E>>::from_arg(e) }).collect()
    }
}

impl<E: Scalar, T: IntoResult<E>> IntoResult<Array<E>> for Vec<Option<T>> {
    unsafe fn into_result(self) -> OwnedValue {
        let len = self.len();
        let shape = Shape::Array { elements: E::LAYOUT, block_len: len };
        if len == 0 {
            return OwnedValue { raw: PlrustValue::tagged(PlrustPayload { array: PlrustSlice::EMPTY }, PLRUST_SHAPE_ARRAY), shape };
        }
        let (size, align) = (len * size_of::<PlrustValue>(), align_of::<PlrustValue>());
        let block = crate::host::alloc(size, align).cast::<PlrustValue>();
        if block.is_null() {
            out_of_memory(size, align);
        }
        // Until the block is complete, the owned value covers only the
        // elements written so far, so a panic in a conversion releases them.
        let mut owned = OwnedValue {
            raw: PlrustValue::tagged(
                PlrustPayload { array: PlrustSlice { ptr: block.cast_const().cast(), len: 0 } },
                PLRUST_SHAPE_ARRAY,
            ),
            shape,
        };
        let mut filled = 0;
        for item in self {
            // SAFETY: only the wrapper gets here; `filled < len` slots of the block.
            unsafe {
                block.add(filled).write(option_result::<E, T>(item).into_raw());
                filled += 1;
                owned.raw.v.array.len = filled;
            }
        }
        owned
    }
}

/// What the user function's return value means: a value, NULL, or an error.
pub trait Outcome<S: SqlType> {
    /// # Safety
    /// Only the wrapper calls this (see `IntoResult`).
    unsafe fn into_outcome(self) -> Result<OwnedValue, String>;
}

impl<S: SqlType, T: IntoResult<S>> Outcome<S> for Option<T> {
    unsafe fn into_outcome(self) -> Result<OwnedValue, String> {
        // SAFETY: forwarded.
        Ok(unsafe { option_result::<S, T>(self) })
    }
}

impl<S: SqlType, T: IntoResult<S>, E: Display> Outcome<S> for Result<Option<T>, E> {
    unsafe fn into_outcome(self) -> Result<OwnedValue, String> {
        match self {
            // SAFETY: forwarded.
            Ok(v) => Ok(unsafe { option_result::<S, T>(v) }),
            Err(e) => Err(e.to_string()),
        }
    }
}

impl Outcome<Void> for () {
    unsafe fn into_outcome(self) -> Result<OwnedValue, String> {
        Ok(OwnedValue::NULL)
    }
}

impl<E: Display> Outcome<Void> for Result<(), E> {
    unsafe fn into_outcome(self) -> Result<OwnedValue, String> {
        self.map(|()| OwnedValue::NULL).map_err(|e| e.to_string())
    }
}
