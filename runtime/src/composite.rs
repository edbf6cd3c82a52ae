//! Named composite types (CREATE TYPE … AS (…), a table's row type) as
//! arguments and results: `PgHeapTuple`, as upstream PL/Rust spells them.
//! A row travels as bytes (docs/ABI.md, "Composite types"): the host checks
//! a returned row against the declared type, field by field.
use crate::abi::PlrustValue;
use crate::convert::{bytes, bytes_result, not_null, ArgProblem, FromArg, IntoResult, OwnedValue};
use crate::request::{self, PgError, Reader, Writer, OP_ROW, OP_ROW_TEXT, OP_TYPE};
use crate::request_value::{mismatch, private as datum, Datum, FromDatum, IntoDatum, PgBuiltInOids, PgOid, Typed, Value};
use crate::sql::{private::Sealed, Layout, Scalar, SqlType};
use crate::trigger::{read_row, AllocatedByRust, PgHeapTuple, RowType, WhoAllocated};
use core::marker::PhantomData;
use std::rc::Rc;

/// A named composite type (the wrapper's marker; which one is checked by the host).
pub enum Composite {}
impl Sealed for Composite {}
impl SqlType for Composite {}
/// Arrays of rows: each element is a row's bytes.
impl Scalar for Composite {
    const LAYOUT: Layout = Layout::Bytes;
}

impl<'a> PgHeapTuple<'a, AllocatedByRust> {
    /// A row of the composite type `name` (as SQL spells it: `pair`,
    /// `myschema.pair`) with every field NULL.
    pub fn new_composite_type(name: &str) -> Result<PgHeapTuple<'a, AllocatedByRust>, PgError> {
        let mut w = Writer::new(OP_TYPE);
        w.bytes(name.as_bytes());
        let reply = request::send(w)?;
        let mut r = reply.reader();
        let ty = RowType::read(&mut r)?;
        if !r.is_done() {
            return Err(request::protocol_error());
        }
        let values = ty.columns_len_nulls();
        Ok(PgHeapTuple { ty: Rc::new(ty), values, _marker: PhantomData })
    }
}

fn read_arg(mut r: Reader<'_>) -> Result<(RowType, Vec<Value>), PgError> {
    let ty = RowType::read(&mut r)?;
    let values = read_row(&mut r, ty.columns_len())?.ok_or_else(request::protocol_error)?;
    if !r.is_done() {
        return Err(request::protocol_error());
    }
    Ok((ty, values))
}

impl<'a, 'b, A: WhoAllocated> FromArg<'a, Composite> for PgHeapTuple<'b, A> {
    unsafe fn from_arg(v: &'a PlrustValue) -> Result<Self, ArgProblem> {
        not_null(v)?;
        // SAFETY: the signature says a composite argument's `bytes` is set, live for 'a.
        let b = unsafe { bytes(v.v.bytes) }?;
        let (ty, values) = read_arg(Reader::over(b)).map_err(|_| "malformed row")?;
        Ok(PgHeapTuple { ty: Rc::new(ty), values, _marker: PhantomData })
    }
}

/// A row as the host reads one back (docs/ABI.md, "Composite types"): its
/// type's OID, the number of columns, their types as the host described
/// them (so that a row built before ALTER TYPE is refused), the values.
fn row_bytes<A: WhoAllocated>(row: &PgHeapTuple<'_, A>) -> Writer {
    let mut w = Writer::value();
    w.u32(row.ty.oid);
    w.u32(row.values.len() as u32);
    for c in &row.ty.columns {
        w.u32(c.oid);
    }
    for v in &row.values {
        v.write(&mut w);
    }
    w
}

impl<A: WhoAllocated> IntoResult<Composite> for PgHeapTuple<'_, A> {
    unsafe fn into_result(self) -> OwnedValue {
        bytes_result(row_bytes(&self).as_bytes())
    }
}

impl<A: WhoAllocated> Clone for PgHeapTuple<'_, A> {
    fn clone(&self) -> Self {
        PgHeapTuple { ty: self.ty.clone(), values: self.values.clone(), _marker: PhantomData }
    }
}

impl<A: WhoAllocated> datum::Sealed for PgHeapTuple<'_, A> {}

/// A value that travelled as its text form, parsed by the host into the
/// type's shape (one request, docs/ABI.md op 8).
fn parse_text<T>(v: &Typed<'_>) -> Result<Value, String> {
    let (Value::Bytes(text), true) = (v.value, v.as_text) else {
        return Err(mismatch::<T>(v.oid));
    };
    let mut w = Writer::new(OP_ROW);
    w.u32(v.oid);
    w.bytes(text);
    let reply = request::send(w).map_err(|e| e.to_string())?;
    let mut r = reply.reader();
    let value = Value::read(&mut r, 0).map_err(|e| e.to_string())?;
    if !r.is_done() {
        return Err(request::protocol_error().to_string());
    }
    Ok(value)
}

fn row_of<'a, A: WhoAllocated>(v: &Value, oid: u32) -> Result<PgHeapTuple<'a, A>, String> {
    let Value::Bytes(b) = v else {
        return Err(mismatch::<PgHeapTuple<'a, A>>(oid));
    };
    let (ty, values) = read_arg(Reader::over(b)).map_err(|e| e.to_string())?;
    Ok(PgHeapTuple { ty: Rc::new(ty), values, _marker: PhantomData })
}

/// A composite column of a query or a composite field of a row, and arrays
/// of them: they travel as text, which the host parses into rows.
impl<A: WhoAllocated> FromDatum for PgHeapTuple<'_, A> {
    fn from_typed(v: &Typed<'_>) -> Result<Self, String> {
        row_of(&parse_text::<Self>(v)?, v.oid)
    }

    fn array_from_text(v: &Typed<'_>) -> Result<Vec<Option<Self>>, String> {
        match parse_text::<Vec<Option<Self>>>(v)? {
            Value::Array(items) => items
                .iter()
                .map(|e| if *e == Value::Null { Ok(None) } else { row_of(e, v.oid).map(Some) })
                .collect(),
            _ => Err(mismatch::<Vec<Option<Self>>>(v.oid)),
        }
    }
}

/// A row (as `into_datum` gives it) as the text a field of composite type
/// `oid` holds: the host checks its type and prints it (docs/ABI.md op 9).
pub(crate) fn row_as_field_text(oid: u32, row: &[u8]) -> Result<Vec<u8>, String> {
    let mut w = Writer::new(OP_ROW_TEXT);
    w.u32(oid);
    w.bytes(row);
    let reply = request::send(w).map_err(|e| e.to_string())?;
    let mut r = reply.reader();
    let text = r.bytes().map_err(|e| e.to_string())?.to_vec();
    if !r.is_done() {
        return Err(request::protocol_error().to_string());
    }
    Ok(text)
}

/// A query or `fn_call` argument. The row knows its type, so the argument
/// may be given as `PgBuiltInOids::RECORDOID` (what `type_oid()` says): the
/// host takes the row's own type. Given as a composite type's or a domain's
/// OID, the host checks that the row has that type.
impl<A: WhoAllocated> IntoDatum for PgHeapTuple<'_, A> {
    fn into_datum(self) -> Option<Datum> {
        Some(Datum(Value::Bytes(row_bytes(&self).as_bytes().to_vec())))
    }
    fn type_oid() -> PgOid {
        PgBuiltInOids::RECORDOID.oid()
    }
}

impl<A: WhoAllocated> datum::Sealed for Vec<PgHeapTuple<'_, A>> {}
impl<A: WhoAllocated> IntoDatum for Vec<PgHeapTuple<'_, A>> {
    fn into_datum(self) -> Option<Datum> {
        self.into_iter().map(Some).collect::<Vec<Option<PgHeapTuple<'_, A>>>>().into_datum()
    }
    fn type_oid() -> PgOid {
        PgBuiltInOids::RECORDARRAYOID.oid()
    }
}
