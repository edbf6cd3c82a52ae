//! Request values (SPI arguments and columns, trigger columns, `fn_call`)
//! for the types of docs/TYPES.md beyond the first ABI's: a value crosses
//! the channel in the same shape a function argument or result has, so the
//! types' own `FromArg`/`IntoResult` conversions serve both.
use crate::abi::{PlrustPayload, PlrustSlice, PlrustValue, PLRUST_SHAPE_ARRAY, PLRUST_SHAPE_BYTES};
use crate::convert::{bytes, elements, FromArg, IntoResult, OwnedValue};
use crate::datum::{
    AnyNumeric, Date, Inet, Interval, Json, JsonB, Range, Time, TimeWithTimeZone, Timestamp, TimestampWithTimeZone, Uuid,
};
use crate::pg_sys::{ItemPointerData, Oid, Point, BOX};
use crate::request_value::{mismatch, private::Sealed, Datum, FromDatum, IntoDatum, PgOid, Typed, Value};
use crate::sql;

/// A `Value` seen as the `PlrustValue` tree an argument would be; the
/// element blocks it points to are kept alongside.
struct Borrowed {
    root: PlrustValue,
    _blocks: Vec<Vec<PlrustValue>>,
}

impl Borrowed {
    fn new(v: &Value) -> Borrowed {
        let mut blocks = Vec::new();
        let root = raw(v, &mut blocks);
        Borrowed { root, _blocks: blocks }
    }
}

fn raw(v: &Value, blocks: &mut Vec<Vec<PlrustValue>>) -> PlrustValue {
    match v {
        Value::Null => PlrustValue::NULL,
        Value::Plain(b) => PlrustValue::new(PlrustPayload { i64: i64::from_le_bytes(*b) }),
        Value::Bytes(b) => PlrustValue::tagged(
            PlrustPayload { bytes: PlrustSlice { ptr: b.as_ptr().cast(), len: b.len() } },
            PLRUST_SHAPE_BYTES,
        ),
        Value::Array(items) => {
            let elems: Vec<PlrustValue> = items.iter().map(|i| raw(i, blocks)).collect();
            // Moving the Vec into `blocks` leaves its heap block where it is.
            let slice = PlrustSlice { ptr: elems.as_ptr().cast(), len: elems.len() };
            blocks.push(elems);
            PlrustValue::tagged(PlrustPayload { array: slice }, PLRUST_SHAPE_ARRAY)
        }
    }
}

/// # Safety
/// `v` is a complete value whose shape tags name the union members in use
/// (every runtime result constructor tags them).
unsafe fn owned(v: &PlrustValue) -> Value {
    if v.is_null != 0 {
        return Value::Null;
    }
    // SAFETY: the shape tag names the member (caller's contract).
    unsafe {
        match v.shape {
            PLRUST_SHAPE_BYTES => Value::Bytes(bytes(v.v.bytes).unwrap_or(&[]).to_vec()),
            PLRUST_SHAPE_ARRAY => Value::Array(elements(v.v.array).unwrap_or(&[]).iter().map(|e| owned(e)).collect()),
            _ => Value::Plain(v.v.i64.to_le_bytes()),
        }
    }
}

fn into_value(v: OwnedValue) -> Value {
    // SAFETY: an OwnedValue is complete and tagged; it is released on drop.
    unsafe { owned(&v.raw) }
}

macro_rules! via_abi {
    ($($rust:ty => $sql:ty = $oid:literal),* $(,)?) => {$(
        impl Sealed for $rust {}
        impl FromDatum for $rust {
            fn from_typed(v: &Typed<'_>) -> Result<Self, String> {
                if v.oid != $oid || v.as_text {
                    return Err(mismatch::<$rust>(v.oid));
                }
                let b = Borrowed::new(v.value);
                // SAFETY: the host sent a value of this type, whose shapes the
                // reader checked; its slices live as long as `b`.
                unsafe { <$rust as FromArg<'_, $sql>>::from_arg(&b.root) }
                    .map_err(|p| format!("a value of type OID {} {p}", v.oid))
            }
        }
        impl IntoDatum for $rust {
            fn into_datum(self) -> Option<Datum> {
                // SAFETY: the owned value is copied out and released here.
                Some(Datum(into_value(unsafe { <$rust as IntoResult<$sql>>::into_result(self) })))
            }
            fn type_oid() -> PgOid {
                PgOid::from($oid as u32)
            }
        }
        impl Sealed for Vec<$rust> {}
        impl IntoDatum for Vec<$rust> {
            fn into_datum(self) -> Option<Datum> {
                self.into_iter().map(Some).collect::<Vec<Option<$rust>>>().into_datum()
            }
            fn type_oid() -> PgOid {
                <Vec<Option<$rust>> as IntoDatum>::type_oid()
            }
        }
    )*};
}

via_abi!(
    i8 => sql::Char = 18,
    Oid => sql::Oid = 26,
    Date => sql::Date = 1082,
    Time => sql::Time = 1083,
    TimeWithTimeZone => sql::TimeTz = 1266,
    Timestamp => sql::Timestamp = 1114,
    TimestampWithTimeZone => sql::TimestampTz = 1184,
    Interval => sql::Interval = 1186,
    Uuid => sql::Uuid = 2950,
    Point => sql::Point = 600,
    BOX => sql::Box = 603,
    ItemPointerData => sql::Tid = 27,
    AnyNumeric => sql::Numeric = 1700,
    Json => sql::Json = 114,
    JsonB => sql::Jsonb = 3802,
    Inet => sql::Inet = 869,
    Range<i32> => sql::Range<sql::Int4> = 3904,
    Range<i64> => sql::Range<sql::Int8> = 3926,
    Range<AnyNumeric> => sql::Range<sql::Numeric> = 3906,
    Range<Date> => sql::Range<sql::Date> = 3912,
    Range<Timestamp> => sql::Range<sql::Timestamp> = 3908,
    Range<TimestampWithTimeZone> => sql::Range<sql::TimestampTz> = 3910,
);
