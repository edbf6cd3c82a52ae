//! `use pgrx::prelude::*;`: the names upstream PL/Rust function bodies use —
//! the types, queries, logging and the value traits. SQL bodies get it
//! implicitly.
pub use crate::datum::{
    AnyNumeric, Array, Date, Interval, Json, JsonB, Numeric, Range, RangeBound, Time, TimeWithTimeZone, Timestamp,
    TimestampWithTimeZone, Uuid,
};
pub use crate::fn_call::{fn_call, Arg, FnCallArg, FnCallError};
pub use crate::log::{PgLogLevel, PgSqlErrorCode};
pub use crate::pg_sys;
pub use crate::pg_sys::{Oid, Point, BOX};
pub use crate::request::PgError;
pub use crate::request_value::{Datum, FromDatum, IntoDatum, PgBuiltInOids, PgOid};
pub use crate::spi::{Spi, SpiClient, SpiError, SpiHeapTupleData, SpiHeapTupleDataEntry, SpiTupleTable};
pub use crate::srf::{SetOfIterator, TableIterator};
pub use crate::trigger::{
    AllocatedByPostgres, AllocatedByRust, PgHeapTuple, PgTrigger, PgTriggerError, PgTriggerLevel, PgTriggerOperation,
    PgTriggerWhen, TryFromDatumError, WhoAllocated,
};
pub use crate::{composite_type, debug1, debug2, debug3, debug4, debug5, ereport, error, info, log, notice, warning};
