//! `use pgrx::prelude::*;`: the names upstream PL/Rust functions use.
pub use crate::datum::{
    AnyNumeric, Array, Date, Interval, Json, JsonB, Numeric, Range, RangeBound, Time, TimeWithTimeZone, Timestamp,
    TimestampWithTimeZone, Uuid,
};
pub use crate::pg_sys;
pub use crate::pg_sys::{Oid, Point, BOX};
