//! SQL types as Rust types, so that the wrapper can ask the compiler to
//! check that a user function's parameter and return types fit the SQL
//! signature (`i32: FromArg<Int4>` holds, `i64: FromArg<Int4>` does not).
use core::marker::PhantomData;

/// A SQL type known to the ABI. Sealed: user code cannot add one.
pub trait SqlType: private::Sealed {}
/// A SQL type that can be an array element.
pub trait Scalar: SqlType {
    /// Whether a value of this type points to a buffer (text, bytea).
    #[doc(hidden)]
    const HAS_BUFFER: bool;
}

pub(crate) mod private {
    pub trait Sealed {}
}

macro_rules! scalars {
    ($($(#[$doc:meta])* $name:ident = $buffer:literal),*) => {$(
        $(#[$doc])*
        pub enum $name {}
        impl private::Sealed for $name {}
        impl SqlType for $name {}
        impl Scalar for $name {
            const HAS_BUFFER: bool = $buffer;
        }
    )*};
}

scalars!(
    /// `bool`
    Bool = false,
    /// `int2`
    Int2 = false,
    /// `int4`
    Int4 = false,
    /// `int8`
    Int8 = false,
    /// `float4`
    Float4 = false,
    /// `float8`
    Float8 = false,
    /// `text` and `varchar`
    Text = true,
    /// `bytea`
    Bytea = true
);

/// A one-dimensional array of a scalar, elements possibly NULL.
pub struct Array<E: Scalar>(PhantomData<E>);
impl<E: Scalar> private::Sealed for Array<E> {}
impl<E: Scalar> SqlType for Array<E> {}

/// `void` (results only).
pub enum Void {}
impl private::Sealed for Void {}
impl SqlType for Void {}
