//! SQL types as Rust types, so that the wrapper can ask the compiler to
//! check that a user function's parameter and return types fit the SQL
//! signature (`i32: FromArg<Int4>` holds, `i64: FromArg<Int4>` does not).
use core::marker::PhantomData;

/// A SQL type known to the ABI. Sealed: user code cannot add one.
pub trait SqlType: private::Sealed {}
/// A SQL type that can be an array element.
pub trait Scalar: SqlType {
    /// Which host buffers a value of this type points to.
    #[doc(hidden)]
    const LAYOUT: Layout;
}

/// How a non-array value is laid out in a `PlrustValue` (docs/ABI.md, Values).
#[doc(hidden)]
#[derive(Clone, Copy)]
pub enum Layout {
    /// The 8-byte union members.
    Plain,
    /// A byte slice.
    Bytes,
    /// A range: three values (flags, lower, upper); the bounds are byte
    /// slices when `bytes_bounds`.
    Range { bytes_bounds: bool },
}

pub(crate) mod private {
    pub trait Sealed {}
}

macro_rules! scalars {
    ($($(#[$doc:meta])* $name:ident = $layout:ident),*) => {$(
        $(#[$doc])*
        pub enum $name {}
        impl private::Sealed for $name {}
        impl SqlType for $name {}
        impl Scalar for $name {
            const LAYOUT: Layout = Layout::$layout;
        }
    )*};
}

scalars!(
    /// `bool`
    Bool = Plain,
    /// `int2`
    Int2 = Plain,
    /// `int4`
    Int4 = Plain,
    /// `int8`
    Int8 = Plain,
    /// `float4`
    Float4 = Plain,
    /// `float8`
    Float8 = Plain,
    /// `text` and `varchar`
    Text = Bytes,
    /// `bytea`
    Bytea = Bytes,
    /// `"char"`
    Char = Plain,
    /// `oid`
    Oid = Plain,
    /// `date`
    Date = Plain,
    /// `time`
    Time = Plain,
    /// `timetz`
    TimeTz = Bytes,
    /// `timestamp`
    Timestamp = Plain,
    /// `timestamptz`
    TimestampTz = Plain,
    /// `interval`
    Interval = Bytes,
    /// `uuid`
    Uuid = Bytes,
    /// `point`
    Point = Bytes,
    /// `box`
    Box = Bytes,
    /// `tid`
    Tid = Bytes,
    /// `cstring`
    Cstring = Bytes,
    /// `numeric`
    Numeric = Bytes,
    /// `json`
    Json = Bytes,
    /// `jsonb`
    Jsonb = Bytes,
    /// `inet`, as its text form
    Inet = Bytes
);

/// A range's subtype.
pub trait RangeSubtype: Scalar {}
impl RangeSubtype for Int4 {}
impl RangeSubtype for Int8 {}
impl RangeSubtype for Numeric {}
impl RangeSubtype for Date {}
impl RangeSubtype for Timestamp {}
impl RangeSubtype for TimestampTz {}

/// `int4range`, `int8range`, `numrange`, `daterange`, `tsrange`, `tstzrange`.
pub struct Range<E: RangeSubtype>(PhantomData<E>);
impl<E: RangeSubtype> private::Sealed for Range<E> {}
impl<E: RangeSubtype> SqlType for Range<E> {}
impl<E: RangeSubtype> Scalar for Range<E> {
    const LAYOUT: Layout = Layout::Range { bytes_bounds: matches!(E::LAYOUT, Layout::Bytes) };
}

/// A one-dimensional array of a scalar, elements possibly NULL.
pub struct Array<E: Scalar>(PhantomData<E>);
impl<E: Scalar> private::Sealed for Array<E> {}
impl<E: Scalar> SqlType for Array<E> {}

/// `anyelement`: a value of the type the call resolves (not an array element).
pub enum AnyElement {}
impl private::Sealed for AnyElement {}
impl SqlType for AnyElement {}

/// `anyarray`: an array of the type the call resolves.
pub enum AnyArray {}
impl private::Sealed for AnyArray {}
impl SqlType for AnyArray {}

/// `void` (results only).
pub enum Void {}
impl private::Sealed for Void {}
impl SqlType for Void {}
