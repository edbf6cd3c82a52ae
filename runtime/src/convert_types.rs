//! Conversions of the types docs/TYPES.md lists beyond the first ABI's
//! (bool, integers, floats, text, bytea): each travels as a plain value, a
//! byte slice or, for ranges, three values (docs/ABI.md, Values).
use crate::abi::{PlrustPayload, PlrustSlice, PlrustValue, PLRUST_SHAPE_ARRAY};
use crate::convert::{
    bytes, bytes_result, elements, not_null, out_of_memory, zeroed, ArgProblem, FromArg, IntoResult, OwnedValue, Shape,
};
use crate::datum::{
    AnyNumeric, Array, Date, Interval, Json, JsonB, Range, RangeBound, Time, TimeWithTimeZone, Timestamp, TimestampWithTimeZone, Uuid,
};
use crate::pg_sys::{ItemPointerData, Oid, Point, BOX};
use crate::sql::{self, RangeSubtype, Scalar};
use core::ffi::CStr;
use std::ffi::CString;

macro_rules! plain {
    ($rust:ty, $sql:ty, $field:ident, |$v:ident| $from:expr, |$s:ident| $into:expr) => {
        impl<'a> FromArg<'a, $sql> for $rust {
            unsafe fn from_arg(v: &'a PlrustValue) -> Result<Self, ArgProblem> {
                not_null(v)?;
                // SAFETY: the signature says this union member is set.
                let $v = unsafe { v.v.$field };
                Ok($from)
            }
        }
        impl IntoResult<$sql> for $rust {
            unsafe fn into_result(self) -> OwnedValue {
                let $s = self;
                OwnedValue::scalar(zeroed!($field, $into))
            }
        }
    };
}

plain!(i8, sql::Char, b, |v| v as i8, |s| s as u8);
plain!(Oid, sql::Oid, i32, |v| Oid::from_u32(v as u32), |s| s.as_u32() as i32);
plain!(Date, sql::Date, i32, |v| Date::from_raw(v), |s| s.to_pg_epoch_days());
plain!(Time, sql::Time, i64, |v| Time::from_raw(v), |s| s.to_microseconds());
plain!(Timestamp, sql::Timestamp, i64, |v| Timestamp::from_raw(v), |s| s.to_pg_epoch_microseconds());
plain!(TimestampWithTimeZone, sql::TimestampTz, i64, |v| TimestampWithTimeZone::from_raw(v), |s| s
    .to_pg_epoch_microseconds());

/// A fixed-size value in native byte order (both targets are little-endian).
fn fixed<'a, const N: usize>(v: &'a PlrustValue, what: ArgProblem) -> Result<[u8; N], ArgProblem> {
    not_null(v)?;
    // SAFETY: the signature says `bytes` is set, live while `v` is.
    let b = unsafe { bytes(v.v.bytes)? };
    b.try_into().map_err(|_| what)
}

fn f64_at(b: &[u8], i: usize) -> f64 {
    f64::from_ne_bytes(b[i..i + 8].try_into().unwrap_or([0; 8]))
}

macro_rules! fixed_bytes {
    ($rust:ty, $sql:ty, $n:literal, $what:literal, |$b:ident| $from:expr, |$s:ident| $into:expr) => {
        impl<'a> FromArg<'a, $sql> for $rust {
            unsafe fn from_arg(v: &'a PlrustValue) -> Result<Self, ArgProblem> {
                let $b = fixed::<$n>(v, $what)?;
                $from
            }
        }
        impl IntoResult<$sql> for $rust {
            unsafe fn into_result(self) -> OwnedValue {
                let $s = self;
                let out: [u8; $n] = $into;
                bytes_result(&out)
            }
        }
    };
}

fn cat<const N: usize>(parts: &[&[u8]]) -> [u8; N] {
    let mut out = [0u8; N];
    let mut at = 0;
    for p in parts {
        out[at..at + p.len()].copy_from_slice(p);
        at += p.len();
    }
    out
}

fixed_bytes!(Uuid, sql::Uuid, 16, "is not a 16-byte uuid", |b| Ok(Uuid::from_bytes(b)), |s| *s.as_bytes());
fixed_bytes!(
    TimeWithTimeZone,
    sql::TimeTz,
    12,
    "is not a 12-byte timetz",
    |b| TimeWithTimeZone::from_parts(i64::from_ne_bytes(b[..8].try_into().unwrap_or([0; 8])), i32::from_ne_bytes(b[8..].try_into().unwrap_or([0; 4])))
        .ok_or("is a timetz out of range"),
    |s| {
        let (t, z) = s.parts();
        cat(&[&t.to_ne_bytes(), &z.to_ne_bytes()])
    }
);
fixed_bytes!(
    Interval,
    sql::Interval,
    16,
    "is not a 16-byte interval",
    |b| Ok(Interval::from_raw(
        i64::from_ne_bytes(b[..8].try_into().unwrap_or([0; 8])),
        i32::from_ne_bytes(b[8..12].try_into().unwrap_or([0; 4])),
        i32::from_ne_bytes(b[12..].try_into().unwrap_or([0; 4])),
    )),
    |s| cat(&[&s.micros().to_ne_bytes(), &s.days().to_ne_bytes(), &s.months().to_ne_bytes()])
);
fixed_bytes!(Point, sql::Point, 16, "is not a 16-byte point", |b| Ok(Point { x: f64_at(&b, 0), y: f64_at(&b, 8) }), |s| cat(&[
    &s.x.to_ne_bytes(),
    &s.y.to_ne_bytes()
]));
fixed_bytes!(
    BOX,
    sql::Box,
    32,
    "is not a 32-byte box",
    |b| Ok(BOX { high: Point { x: f64_at(&b, 0), y: f64_at(&b, 8) }, low: Point { x: f64_at(&b, 16), y: f64_at(&b, 24) } }),
    |s| cat(&[&s.high.x.to_ne_bytes(), &s.high.y.to_ne_bytes(), &s.low.x.to_ne_bytes(), &s.low.y.to_ne_bytes()])
);
fixed_bytes!(
    ItemPointerData,
    sql::Tid,
    6,
    "is not a 6-byte tid",
    |b| {
        let h = |i: usize| u16::from_ne_bytes([b[i], b[i + 1]]);
        Ok(ItemPointerData { ip_blkid: crate::pg_sys::BlockIdData { bi_hi: h(0), bi_lo: h(2) }, ip_posid: h(4) })
    },
    |s| cat(&[&s.ip_blkid.bi_hi.to_ne_bytes(), &s.ip_blkid.bi_lo.to_ne_bytes(), &s.ip_posid.to_ne_bytes()])
);

impl<'a> FromArg<'a, sql::Cstring> for &'a CStr {
    unsafe fn from_arg(v: &'a PlrustValue) -> Result<Self, ArgProblem> {
        not_null(v)?;
        // SAFETY: the signature says `bytes` is set, live for 'a.
        let b = unsafe { bytes(v.v.bytes)? };
        CStr::from_bytes_with_nul(b).map_err(|_| "is not a NUL-terminated C string")
    }
}

impl IntoResult<sql::Cstring> for CString {
    unsafe fn into_result(self) -> OwnedValue {
        bytes_result(self.as_bytes_with_nul())
    }
}

impl<'a> FromArg<'a, sql::Numeric> for AnyNumeric {
    unsafe fn from_arg(v: &'a PlrustValue) -> Result<Self, ArgProblem> {
        not_null(v)?;
        // SAFETY: the signature says `bytes` is set, live for 'a.
        let b = unsafe { bytes(v.v.bytes)? };
        let text = core::str::from_utf8(b).map_err(|_| "is not a numeric's text")?;
        text.parse().map_err(|_| "is not a numeric's text")
    }
}

impl IntoResult<sql::Numeric> for AnyNumeric {
    unsafe fn into_result(self) -> OwnedValue {
        bytes_result(self.text().as_bytes())
    }
}

macro_rules! json {
    ($rust:ident, $sql:ty) => {
        impl<'a> FromArg<'a, $sql> for $rust {
            unsafe fn from_arg(v: &'a PlrustValue) -> Result<Self, ArgProblem> {
                not_null(v)?;
                // SAFETY: the signature says `bytes` is set, live for 'a.
                let b = unsafe { bytes(v.v.bytes)? };
                serde_json::from_slice(b)
                    .map($rust)
                    .map_err(|_| "is JSON that serde_json cannot represent (a number beyond f64, or nesting deeper than 128 levels)")
            }
        }
        impl IntoResult<$sql> for $rust {
            unsafe fn into_result(self) -> OwnedValue {
                bytes_result(self.0.to_string().as_bytes())
            }
        }
    };
}

json!(Json, sql::Json);
json!(JsonB, sql::Jsonb);

/// Range flags (the first of a range's three values).
const RANGE_EMPTY: u8 = 1;
const RANGE_LB_INC: u8 = 2;
const RANGE_UB_INC: u8 = 4;
const RANGE_LB_INF: u8 = 8;
const RANGE_UB_INF: u8 = 16;

impl<'a, S: RangeSubtype, T: FromArg<'a, S>> FromArg<'a, sql::Range<S>> for Range<T> {
    unsafe fn from_arg(v: &'a PlrustValue) -> Result<Self, ArgProblem> {
        not_null(v)?;
        // SAFETY: the signature says `array` is set, live for 'a.
        let e = unsafe { elements(v.v.array)? };
        let [flags, lower, upper] = e else { return Err("is not a range's three values") };
        not_null(flags)?;
        // SAFETY: the first value is the flags byte.
        let flags = unsafe { flags.v.b };
        if flags & RANGE_EMPTY != 0 {
            return Ok(Range::empty());
        }
        let bound = |b: &'a PlrustValue, inf: u8, inc: u8| -> Result<RangeBound<T>, ArgProblem> {
            if flags & inf != 0 {
                return Ok(RangeBound::Infinite);
            }
            // SAFETY: a finite bound is a value of S (caller's contract).
            let x = unsafe { T::from_arg(b)? };
            Ok(if flags & inc != 0 { RangeBound::Inclusive(x) } else { RangeBound::Exclusive(x) })
        };
        Ok(Range::new(bound(lower, RANGE_LB_INF, RANGE_LB_INC)?, bound(upper, RANGE_UB_INF, RANGE_UB_INC)?))
    }
}

impl<S: RangeSubtype, T: IntoResult<S>> IntoResult<sql::Range<S>> for Range<T> {
    unsafe fn into_result(self) -> OwnedValue {
        // SAFETY (bounds): only the wrapper gets here.
        let bound = |b: RangeBound<T>, inf: u8, inc: u8| -> (u8, OwnedValue) {
            match b {
                RangeBound::Infinite => (inf, OwnedValue::NULL),
                RangeBound::Inclusive(x) => (inc, unsafe { x.into_result() }),
                RangeBound::Exclusive(x) => (0, unsafe { x.into_result() }),
            }
        };
        let (flags, lower, upper) = match self.into_inner() {
            None => (RANGE_EMPTY, OwnedValue::NULL, OwnedValue::NULL),
            Some((l, u)) => {
                let (fl, lower) = bound(l, RANGE_LB_INF, RANGE_LB_INC);
                let (fu, upper) = bound(u, RANGE_UB_INF, RANGE_UB_INC);
                (fl | fu, lower, upper)
            }
        };
        let (size, align) = (3 * size_of::<PlrustValue>(), align_of::<PlrustValue>());
        let block = crate::host::alloc(size, align).cast::<PlrustValue>();
        if block.is_null() {
            // `lower` and `upper` are released as the panic unwinds.
            out_of_memory(size, align);
        }
        // SAFETY: a fresh block of three values.
        unsafe {
            block.write(PlrustValue::new(zeroed!(b, flags)));
            block.add(1).write(lower.into_raw());
            block.add(2).write(upper.into_raw());
        }
        OwnedValue {
            raw: PlrustValue::tagged(
                PlrustPayload { array: PlrustSlice { ptr: block.cast_const().cast(), len: 3 } },
                PLRUST_SHAPE_ARRAY,
            ),
            shape: Shape::Value(<sql::Range<S> as Scalar>::LAYOUT),
        }
    }
}

/// `Array<T>`: the elements are read once; text and bytea elements borrow
/// the argument, as `&str` and `&[u8]` do.
impl<'a, E: Scalar, T: FromArg<'a, E>> FromArg<'a, sql::Array<E>> for Array<'a, T> {
    unsafe fn from_arg(v: &'a PlrustValue) -> Result<Self, ArgProblem> {
        not_null(v)?;
        // SAFETY: the signature says `array` is set, live for 'a.
        let elems = unsafe { elements(v.v.array)? };
        let items: Result<Vec<Option<T>>, ArgProblem> =
            // SAFETY: each element follows the ABI for E (caller's contract).
            elems.iter().map(|e| unsafe { <Option<T> as FromArg<'a, E>>::from_arg(e) }).collect();
        Ok(Array::from(items?))
    }
}
