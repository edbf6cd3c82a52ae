//! Values exchanged with the host through requests (query arguments and
//! results): an owned, type-tagged copy of a flattened `PlrustValue` tree,
//! and the pgrx-shaped traits that turn Rust values into them and back.
use crate::pg_sys::Oid;
use crate::request::{protocol_error, PgError, Reader, Writer, SHAPE_ARRAY, SHAPE_BYTES, SHAPE_NULL, SHAPE_PLAIN};

/// A value tree as it crosses the channel.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Null,
    /// The 8-byte scalar member of `PlrustValue`, little-endian.
    Plain([u8; 8]),
    Bytes(Vec<u8>),
    Array(Vec<Value>),
}

impl Value {
    pub(crate) fn write(&self, w: &mut Writer) {
        match self {
            Value::Null => w.u8(SHAPE_NULL),
            Value::Plain(b) => {
                w.u8(SHAPE_PLAIN);
                w.raw(b);
            }
            Value::Bytes(b) => {
                w.u8(SHAPE_BYTES);
                w.bytes(b);
            }
            Value::Array(items) => {
                w.u8(SHAPE_ARRAY);
                w.u64(items.len() as u64);
                for i in items {
                    i.write(w);
                }
            }
        }
    }

    /// An array's elements may be arrays themselves (ranges, rows), to a
    /// bounded depth so that a hostile reply cannot exhaust the stack.
    pub(crate) fn read(r: &mut Reader<'_>, depth: u8) -> Result<Value, PgError> {
        Ok(match r.u8()? {
            SHAPE_NULL => Value::Null,
            SHAPE_PLAIN => Value::Plain(r.take(8)?.try_into().map_err(|_| protocol_error())?),
            SHAPE_BYTES => Value::Bytes(r.bytes()?.to_vec()),
            SHAPE_ARRAY if depth < MAX_DEPTH => {
                let n = usize::try_from(r.u64()?).map_err(|_| protocol_error())?;
                let mut items = Vec::with_capacity(n.min(1 << 16));
                for _ in 0..n {
                    items.push(Value::read(r, depth + 1)?);
                }
                Value::Array(items)
            }
            _ => return Err(protocol_error()),
        })
    }
}

/// Array of row of array of range: four levels, and some room.
const MAX_DEPTH: u8 = 8;

/// A type OID, as pgrx spells it: `PgBuiltInOids::INT4OID.oid()`, or
/// `PgOid::from(oid)` / `PgOid::Custom(oid)` for any other type (an enum,
/// a domain, a composite type), whose OID the host checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PgOid {
    InvalidOid,
    Custom(Oid),
    BuiltIn(PgBuiltInOids),
}

impl PgOid {
    /// The built-in variant for a built-in type's OID, `Custom` for another.
    pub fn from(oid: impl Into<Oid>) -> PgOid {
        let oid: Oid = oid.into();
        match oid.as_u32() {
            0 => PgOid::InvalidOid,
            n => PgBuiltInOids::from_u32(n).map_or(PgOid::Custom(oid), PgOid::BuiltIn),
        }
    }

    pub fn value(self) -> u32 {
        match self {
            PgOid::InvalidOid => 0,
            PgOid::Custom(oid) => oid.as_u32(),
            PgOid::BuiltIn(b) => b.value(),
        }
    }
}

macro_rules! builtin_oids {
    ($($name:ident = $oid:literal),* $(,)?) => {
        /// PostgreSQL's built-in type OIDs, by their catalog names.
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum PgBuiltInOids { $($name),* }

        impl PgBuiltInOids {
            pub fn oid(self) -> PgOid {
                PgOid::BuiltIn(self)
            }
            pub fn value(self) -> u32 {
                match self { $(PgBuiltInOids::$name => $oid),* }
            }
            fn from_u32(oid: u32) -> Option<PgBuiltInOids> {
                match oid { $($oid => Some(PgBuiltInOids::$name),)* _ => None }
            }
        }
    };
}

builtin_oids!(
    BOOLOID = 16,
    BYTEAOID = 17,
    INT8OID = 20,
    INT2OID = 21,
    INT4OID = 23,
    TEXTOID = 25,
    FLOAT4OID = 700,
    FLOAT8OID = 701,
    VARCHAROID = 1043,
    BOOLARRAYOID = 1000,
    BYTEAARRAYOID = 1001,
    INT2ARRAYOID = 1005,
    INT4ARRAYOID = 1007,
    TEXTARRAYOID = 1009,
    VARCHARARRAYOID = 1015,
    INT8ARRAYOID = 1016,
    FLOAT4ARRAYOID = 1021,
    FLOAT8ARRAYOID = 1022,
    CHAROID = 18,
    OIDOID = 26,
    DATEOID = 1082,
    TIMEOID = 1083,
    TIMETZOID = 1266,
    TIMESTAMPOID = 1114,
    TIMESTAMPTZOID = 1184,
    INTERVALOID = 1186,
    UUIDOID = 2950,
    POINTOID = 600,
    BOXOID = 603,
    TIDOID = 27,
    NUMERICOID = 1700,
    JSONOID = 114,
    JSONBOID = 3802,
    INT4RANGEOID = 3904,
    INT8RANGEOID = 3926,
    NUMRANGEOID = 3906,
    DATERANGEOID = 3912,
    TSRANGEOID = 3908,
    TSTZRANGEOID = 3910,
    NUMERICARRAYOID = 1231,
    DATEARRAYOID = 1182,
    TIMESTAMPTZARRAYOID = 1185,
    UUIDARRAYOID = 2951,
    JSONBARRAYOID = 3807,
    INETOID = 869,
    RECORDOID = 2249,
    RECORDARRAYOID = 2287,
);

pub(crate) const TEXTOID: u32 = 25;
pub(crate) const VARCHAROID: u32 = 1043;
const INETOID: u32 = 869;

pub(crate) fn element_of(array_oid: u32) -> Option<u32> {
    Some(match array_oid {
        1000 => 16,
        1001 => 17,
        1005 => 21,
        1007 => 23,
        1009 => 25,
        1015 => 1043,
        1016 => 20,
        1021 => 700,
        1022 => 701,
        1002 => 18,
        1028 => 26,
        1182 => 1082,
        1183 => 1083,
        1270 => 1266,
        1115 => 1114,
        1185 => 1184,
        1187 => 1186,
        2951 => 2950,
        1017 => 600,
        1020 => 603,
        1010 => 27,
        1231 => 1700,
        199 => 114,
        3807 => 3802,
        3905 => 3904,
        3927 => 3926,
        3907 => 3906,
        3913 => 3912,
        3909 => 3908,
        3911 => 3910,
        1041 => 869,
        2287 => 2249,
        _ => return None,
    })
}

fn array_of(elem_oid: u32) -> u32 {
    match elem_oid {
        16 => 1000,
        17 => 1001,
        21 => 1005,
        23 => 1007,
        25 => 1009,
        1043 => 1015,
        20 => 1016,
        700 => 1021,
        701 => 1022,
        18 => 1002,
        26 => 1028,
        1082 => 1182,
        1083 => 1183,
        1266 => 1270,
        1114 => 1115,
        1184 => 1185,
        1186 => 1187,
        2950 => 2951,
        600 => 1017,
        603 => 1020,
        27 => 1010,
        1700 => 1231,
        114 => 199,
        3802 => 3807,
        3904 => 3905,
        3926 => 3927,
        3906 => 3907,
        3912 => 3913,
        3908 => 3909,
        3910 => 3911,
        869 => 1041,
        2249 => 2287,
        _ => 0,
    }
}

/// A column of a query result or a row type, as the host describes it
/// (docs/ABI.md, ops 2, 4 and 7); only row types mark dropped columns.
pub(crate) struct Column {
    pub(crate) name: String,
    pub(crate) oid: u32,
    pub(crate) as_text: bool,
    pub(crate) dropped: bool,
}

impl Column {
    pub(crate) fn read_all(r: &mut Reader<'_>, with_dropped: bool) -> Result<Vec<Column>, PgError> {
        let n = r.u32()? as usize;
        let mut columns = Vec::with_capacity(n.min(1664));
        for _ in 0..n {
            let name = r.string()?;
            let oid = r.u32()?;
            let as_text = r.u8()? != 0;
            let dropped = with_dropped && r.u8()? != 0;
            columns.push(Column { name, oid, as_text, dropped });
        }
        Ok(columns)
    }
}

/// A value ready to be sent as a query argument (`42.into_datum()`).
#[derive(Clone, Debug, PartialEq)]
pub struct Datum(pub(crate) Value);

/// A column value as the host sent it: its type, and whether the host sent
/// the type's text form because PL/Rust has no conversion for it.
#[doc(hidden)]
pub struct Typed<'a> {
    pub(crate) value: &'a Value,
    pub(crate) oid: u32,
    pub(crate) as_text: bool,
}

pub(crate) mod private {
    pub trait Sealed {}
}

/// A Rust type a SQL value converts into (`get::<T>`, `value::<T>`).
/// Sealed: the conversions are the runtime's.
pub trait FromDatum: Sized + private::Sealed {
    #[doc(hidden)]
    fn from_typed(v: &Typed<'_>) -> Result<Self, String>;
    /// An array of this type that travelled as its text form.
    #[doc(hidden)]
    fn array_from_text(v: &Typed<'_>) -> Result<Vec<Option<Self>>, String> {
        Err(mismatch::<Vec<Option<Self>>>(v.oid))
    }
}

/// A Rust value that converts into a SQL value (`into_datum()`); `None`
/// is SQL NULL.
pub trait IntoDatum: private::Sealed {
    fn into_datum(self) -> Option<Datum>;
    /// The SQL type the value converts into.
    fn type_oid() -> PgOid
    where
        Self: Sized;
}

pub(crate) fn mismatch<T>(oid: u32) -> String {
    format!("a value of type OID {oid} cannot be read as Rust type {}", core::any::type_name::<T>())
}

macro_rules! plain {
    ($rust:ty, $oid:literal, $n:literal) => {
        impl private::Sealed for $rust {}
        impl FromDatum for $rust {
            fn from_typed(v: &Typed<'_>) -> Result<Self, String> {
                match (v.value, v.oid) {
                    (Value::Plain(b), $oid) if !v.as_text => {
                        let mut raw = [0u8; $n];
                        raw.copy_from_slice(&b[..$n]);
                        Ok(<$rust>::from_le_bytes(raw))
                    }
                    _ => Err(mismatch::<$rust>(v.oid)),
                }
            }
        }
        impl IntoDatum for $rust {
            fn into_datum(self) -> Option<Datum> {
                let mut b = [0u8; 8];
                b[..$n].copy_from_slice(&self.to_le_bytes());
                Some(Datum(Value::Plain(b)))
            }
            fn type_oid() -> PgOid {
                PgOid::from($oid as u32)
            }
        }
    };
}

plain!(i16, 21, 2);
plain!(i32, 23, 4);
plain!(i64, 20, 8);
plain!(f32, 700, 4);
plain!(f64, 701, 8);

impl private::Sealed for bool {}
impl FromDatum for bool {
    fn from_typed(v: &Typed<'_>) -> Result<Self, String> {
        match (v.value, v.oid) {
            (Value::Plain(b), 16) if !v.as_text => Ok(b[0] != 0),
            _ => Err(mismatch::<bool>(v.oid)),
        }
    }
}
impl IntoDatum for bool {
    fn into_datum(self) -> Option<Datum> {
        let mut b = [0u8; 8];
        b[0] = self as u8;
        Some(Datum(Value::Plain(b)))
    }
    fn type_oid() -> PgOid {
        PgOid::from(16u32)
    }
}

/// Text, varchar, and the text form of any type PL/Rust does not convert;
/// also inet, whose converted form is its text.
impl private::Sealed for String {}
impl FromDatum for String {
    fn from_typed(v: &Typed<'_>) -> Result<Self, String> {
        match v.value {
            Value::Bytes(b) if v.as_text || v.oid == TEXTOID || v.oid == VARCHAROID || v.oid == INETOID => {
                String::from_utf8(b.clone()).map_err(|_| "the host sent text that is not UTF-8".to_string())
            }
            _ => Err(mismatch::<String>(v.oid)),
        }
    }
}
impl IntoDatum for String {
    fn into_datum(self) -> Option<Datum> {
        Some(Datum(Value::Bytes(self.into_bytes())))
    }
    fn type_oid() -> PgOid {
        PgOid::from(TEXTOID)
    }
}
impl private::Sealed for &str {}
impl IntoDatum for &str {
    fn into_datum(self) -> Option<Datum> {
        Some(Datum(Value::Bytes(self.as_bytes().to_vec())))
    }
    fn type_oid() -> PgOid {
        PgOid::from(TEXTOID)
    }
}

impl private::Sealed for Vec<u8> {}
impl FromDatum for Vec<u8> {
    fn from_typed(v: &Typed<'_>) -> Result<Self, String> {
        match (v.value, v.oid) {
            (Value::Bytes(b), 17) if !v.as_text => Ok(b.clone()),
            _ => Err(mismatch::<Vec<u8>>(v.oid)),
        }
    }
}
impl IntoDatum for Vec<u8> {
    fn into_datum(self) -> Option<Datum> {
        Some(Datum(Value::Bytes(self)))
    }
    fn type_oid() -> PgOid {
        PgOid::from(17u32)
    }
}

/// Arrays: elements may be NULL.
impl<T: FromDatum> private::Sealed for Vec<Option<T>> {}
impl<T: FromDatum> FromDatum for Vec<Option<T>> {
    fn from_typed(v: &Typed<'_>) -> Result<Self, String> {
        if v.as_text {
            return T::array_from_text(v);
        }
        let (Value::Array(items), Some(elem)) = (v.value, element_of(v.oid)) else {
            return Err(mismatch::<Self>(v.oid));
        };
        items
            .iter()
            .map(|e| match e {
                Value::Null => Ok(None),
                e => T::from_typed(&Typed { value: e, oid: elem, as_text: false }).map(Some),
            })
            .collect()
    }
}
impl<T: FromDatum + IntoDatum> IntoDatum for Vec<Option<T>> {
    fn into_datum(self) -> Option<Datum> {
        let items = self.into_iter().map(|e| e.and_then(IntoDatum::into_datum).map_or(Value::Null, |d| d.0));
        Some(Datum(Value::Array(items.collect())))
    }
    fn type_oid() -> PgOid {
        PgOid::from(array_of(T::type_oid().value()))
    }
}

/// Arrays without NULL elements, as upstream passes them (`Arg::Value(vec![1, 2])`).
macro_rules! plain_arrays {
    ($($t:ty),*) => {$(
        impl private::Sealed for Vec<$t> {}
        impl IntoDatum for Vec<$t> {
            fn into_datum(self) -> Option<Datum> {
                self.into_iter().map(Some).collect::<Vec<Option<$t>>>().into_datum()
            }
            fn type_oid() -> PgOid {
                PgOid::from(array_of(<$t>::type_oid().value()))
            }
        }
    )*};
}

plain_arrays!(bool, i16, i32, i64, f32, f64, String);

impl<T: IntoDatum> private::Sealed for Option<T> {}
impl<T: IntoDatum> IntoDatum for Option<T> {
    fn into_datum(self) -> Option<Datum> {
        self.and_then(IntoDatum::into_datum)
    }
    fn type_oid() -> PgOid {
        T::type_oid()
    }
}
