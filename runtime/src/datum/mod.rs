//! The value types of upstream PL/Rust's documentation, under the names
//! pgrx gives them (`pgrx::datum::…`, also re-exported at the crate root
//! and in the prelude).
mod any;
mod array;
mod datetime;
mod inet;
mod json;
mod numeric;
mod range;
mod session_zone;
mod uuid;

pub use any::{AnyArray, AnyElement, AnyTypeError};
pub use array::{array_arg, Array, ArraySliceError, FromArrayArg};
pub use datetime::{
    Date, DateTimeConversionError, Interval, IntervalConversionError, Time, TimeWithTimeZone, Timestamp,
    TimestampWithTimeZone,
};
pub use inet::Inet;
pub use json::{Json, JsonB};
pub use numeric::{numeric_arg, AnyNumeric, Error as NumericError, Numeric, NumericArg, Sign};
pub use range::{Range, RangeBound};
pub use uuid::{Uuid, UuidLengthError};
