//! Named composite types (CREATE TYPE … AS (…), a table's row type) as
//! arguments and results: `PgHeapTuple`, as upstream PL/Rust spells them.
//! A row travels as bytes (docs/ABI.md, "Composite types"): the host checks
//! a returned row against the declared type, field by field.
use crate::abi::PlrustValue;
use crate::convert::{bytes, bytes_result, not_null, ArgProblem, FromArg, IntoResult, OwnedValue};
use crate::request::{self, PgError, Reader, Writer, OP_TYPE};
use crate::request_value::Value;
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

fn read_arg(b: &[u8]) -> Result<(RowType, Vec<Value>), PgError> {
    let mut r = Reader::over(b);
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
        let (ty, values) = read_arg(b).map_err(|_| "malformed row")?;
        Ok(PgHeapTuple { ty: Rc::new(ty), values, _marker: PhantomData })
    }
}

impl<A: WhoAllocated> IntoResult<Composite> for PgHeapTuple<'_, A> {
    unsafe fn into_result(self) -> OwnedValue {
        let mut w = Writer::value();
        w.u32(self.ty.oid);
        w.u32(self.values.len() as u32);
        for v in &self.values {
            v.write(&mut w);
        }
        bytes_result(w.as_bytes())
    }
}
