//! `anyelement` and `anyarray`: pgrx's `AnyElement` and `AnyArray`, without
//! a raw Datum. A value is the type the call resolved (its OID) and the value
//! in the form query arguments and columns travel in (docs/ABI.md, "Host
//! requests"), so reading it as a Rust type uses the same checked
//! conversions as a query column: asking for the wrong type is an error,
//! never a reinterpretation. A type PL/Rust does not convert arrives as its
//! text form, readable as `String`. Returned, the handler accepts only the
//! type the call resolved for its result.
use crate::abi::PlrustValue;
use crate::convert::{bytes, bytes_result, not_null, ArgProblem, FromArg, IntoResult, OwnedValue};
use crate::pg_sys::Oid;
use crate::request::{Reader, Writer};
use crate::request_value::{element_of, private::Sealed, FromDatum, IntoDatum, Typed, Value};
use crate::sql;
use core::fmt;

/// Why a polymorphic value cannot be read as the Rust type asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnyTypeError(String);

impl fmt::Display for AnyTypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AnyTypeError {}

/// The parts both types share.
#[derive(Debug, Clone, PartialEq)]
struct PolyValue {
    oid: u32,
    elem: u32,
    as_text: bool,
    value: Value,
}

impl PolyValue {
    fn read(v: &PlrustValue) -> Result<PolyValue, ArgProblem> {
        const MALFORMED: ArgProblem = "is not a polymorphic value as the handler sends one";
        not_null(v)?;
        // SAFETY: the signature says `bytes` is set, live while `v` is.
        let b = unsafe { bytes(v.v.bytes)? };
        let mut r = Reader::over(b);
        let oid = r.u32().map_err(|_| MALFORMED)?;
        let elem = r.u32().map_err(|_| MALFORMED)?;
        let as_text = match r.u8().map_err(|_| MALFORMED)? {
            0 => true,
            1 => false,
            _ => return Err(MALFORMED),
        };
        let value = Value::read(&mut r, 0).map_err(|_| MALFORMED)?;
        if !r.is_done() || matches!(value, Value::Null) {
            return Err(MALFORMED);
        }
        Ok(PolyValue { oid, elem, as_text, value })
    }

    fn new<T: IntoDatum>(v: T) -> Option<PolyValue> {
        let oid = T::type_oid().value();
        let value = v.into_datum()?.0;
        Some(PolyValue { oid, elem: element_of(oid).unwrap_or(0), as_text: false, value })
    }

    fn value<T: FromDatum>(&self) -> Result<T, AnyTypeError> {
        T::from_typed(&Typed { value: &self.value, oid: self.oid, as_text: self.as_text }).map_err(AnyTypeError)
    }

    /// The type OID, then the value as a query argument carries it.
    fn result(&self) -> OwnedValue {
        let mut w = Writer::value();
        w.u32(self.oid);
        self.value.write(&mut w);
        bytes_result(w.as_bytes())
    }
}

/// The methods and conversions both types share.
macro_rules! polymorphic {
    ($(#[$doc:meta])* $name:ident, $sql:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name(PolyValue);

        impl $name {
            /// The type the call resolved (for a query column: the column's type).
            pub fn oid(&self) -> Oid {
                Oid::from_u32(self.0.oid)
            }

            /// The value as `T`, or None when it is not a `T` (pgrx's
            /// signature; the value itself is never NULL: a NULL argument is
            /// `None` around it). It takes `self` so that `x.into::<i32>()`
            /// finds this method before `Into::into`; `value` borrows.
            pub fn into<T: FromDatum>(self) -> Option<T> {
                self.0.value().ok()
            }

            /// The value as `T`, or an error naming both types when it is not a `T`.
            pub fn value<T: FromDatum>(&self) -> Result<T, AnyTypeError> {
                self.0.value()
            }

            /// A value to return: its SQL type is `T`'s (`42_i32` is an
            /// int4, `vec![Some(1)]` an int4[]), which must be the type the
            /// call resolved for the result. None for NULL.
            pub fn new<T: IntoDatum>(value: T) -> Option<$name> {
                PolyValue::new(value).map($name)
            }
        }

        impl<'a> FromArg<'a, $sql> for $name {
            unsafe fn from_arg(v: &'a PlrustValue) -> Result<Self, ArgProblem> {
                PolyValue::read(v).map($name)
            }
        }

        impl IntoResult<$sql> for $name {
            unsafe fn into_result(self) -> OwnedValue {
                self.0.result()
            }
        }

        /// A query column of any type (`Spi::get_one::<AnyElement>`).
        impl Sealed for $name {}
        impl FromDatum for $name {
            fn from_typed(v: &Typed<'_>) -> Result<Self, String> {
                let elem = element_of(v.oid).unwrap_or(0);
                Ok($name(PolyValue { oid: v.oid, elem, as_text: v.as_text, value: v.value.clone() }))
            }
        }
    };
}

polymorphic!(
    /// An `anyelement` argument or result.
    AnyElement,
    sql::AnyElement
);
polymorphic!(
    /// An `anyarray` argument or result.
    AnyArray,
    sql::AnyArray
);

impl AnyArray {
    /// Its element type (`int4` for an `int4[]`).
    pub fn element_oid(&self) -> Oid {
        Oid::from_u32(self.0.elem)
    }

    /// The elements as `T`, NULL as None.
    pub fn iter<T: FromDatum>(&self) -> Result<std::vec::IntoIter<Option<T>>, AnyTypeError> {
        self.0.value::<Vec<Option<T>>>().map(Vec::into_iter)
    }
}
