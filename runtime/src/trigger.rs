//! Trigger functions (`RETURNS trigger`) with upstream PL/Rust's (pgrx's)
//! binding: `trigger: &PgTrigger` with `new()`/`old()` rows as
//! `PgHeapTuple`s, `op()`, `when()`, `level()`, `name()`, `table_name()`,
//! `table_schema()`, `extra_args()`. The wrapper asks the host for the
//! trigger's data (op 4) before the call and hands the returned row back
//! (op 5); the host checks it has the trigger relation's row type and
//! builds the tuple PostgreSQL gets.
use crate::convert::{Outcome, OwnedValue};
use crate::request_value::{Column, IntoDatum, Typed, Value, TEXTOID, VARCHAROID};
use crate::request::{self, PgError, Reader, Writer, OP_TRIGGER, OP_TRIGGER_RETURN};
use crate::sql::{private::Sealed, SqlType};
use core::fmt;
use core::marker::PhantomData;
use std::rc::Rc;

/// `trigger` (results only).
pub enum Trigger {}
impl Sealed for Trigger {}
impl SqlType for Trigger {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PgTriggerOperation {
    Insert,
    Update,
    Delete,
    Truncate,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PgTriggerWhen {
    Before,
    After,
    InsteadOf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PgTriggerLevel {
    Row,
    Statement,
}

/// Why trigger data could not be read.
#[derive(Debug)]
pub struct PgTriggerError(String);

impl fmt::Display for PgTriggerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for PgTriggerError {}

/// A value of a row could not be read or written as the Rust type asked for.
#[derive(Debug)]
pub struct TryFromDatumError(String);

impl fmt::Display for TryFromDatumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for TryFromDatumError {}

pub(crate) struct RowType {
    pub(crate) oid: u32,
    pub(crate) columns: Vec<Column>,
}

impl RowType {
    /// A row type as the host sends it (docs/ABI.md, "Host requests": OP_TRIGGER, OP_TYPE).
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<RowType, PgError> {
        let oid = r.u32()?;
        Ok(RowType { oid, columns: Column::read_all(r, true)? })
    }

    pub(crate) fn columns_len(&self) -> usize {
        self.columns.len()
    }

    pub(crate) fn columns_len_nulls(&self) -> Vec<Value> {
        self.columns.iter().map(|_| Value::Null).collect()
    }
}

mod private {
    pub trait Sealed {}
}

/// Who owns a row's memory, in upstream's terms. Here every row is a copy
/// the function owns; the markers keep upstream's spellings (`into_owned()`,
/// `PgHeapTuple<'_, AllocatedByRust>`) compiling.
pub trait WhoAllocated: private::Sealed {}
pub struct AllocatedByPostgres;
pub struct AllocatedByRust;
impl private::Sealed for AllocatedByPostgres {}
impl private::Sealed for AllocatedByRust {}
impl WhoAllocated for AllocatedByPostgres {}
impl WhoAllocated for AllocatedByRust {}

/// A row of a table (a copy: changing it changes nothing until it is returned).
pub struct PgHeapTuple<'a, A: WhoAllocated = AllocatedByRust> {
    pub(crate) ty: Rc<RowType>,
    pub(crate) values: Vec<Value>,
    pub(crate) _marker: PhantomData<(&'a (), A)>,
}

impl<'a, A: WhoAllocated> PgHeapTuple<'a, A> {
    /// The same row, owned by the function so that `set_by_name` may change it.
    pub fn into_owned(self) -> PgHeapTuple<'a, AllocatedByRust> {
        PgHeapTuple { ty: self.ty, values: self.values, _marker: PhantomData }
    }

    fn index(&self, name: &str) -> Result<usize, TryFromDatumError> {
        self.ty
            .columns
            .iter()
            .position(|c| !c.dropped && c.name == name)
            .ok_or_else(|| TryFromDatumError(format!("no column named \"{name}\"")))
    }

    fn checked(&self, attno: usize) -> Result<usize, TryFromDatumError> {
        match attno.checked_sub(1) {
            Some(i) if i < self.ty.columns.len() && !self.ty.columns[i].dropped => Ok(i),
            _ => Err(TryFromDatumError(format!("no column number {attno}"))),
        }
    }

    fn read<T: crate::request_value::FromDatum>(&self, i: usize) -> Result<Option<T>, TryFromDatumError> {
        let c = &self.ty.columns[i];
        match &self.values[i] {
            Value::Null => Ok(None),
            v => T::from_typed(&Typed { value: v, oid: c.oid, as_text: c.as_text })
                .map(Some)
                .map_err(|e| TryFromDatumError(format!("column \"{}\": {e}", c.name))),
        }
    }

    pub fn get_by_name<T: crate::request_value::FromDatum>(&self, name: &str) -> Result<Option<T>, TryFromDatumError> {
        self.read(self.index(name)?)
    }

    /// Column `attno`, 1-based (a `usize` or a `NonZeroUsize`, as upstream writes it).
    pub fn get_by_index<T: crate::request_value::FromDatum>(&self, attno: impl Into<usize>) -> Result<Option<T>, TryFromDatumError> {
        self.read(self.checked(attno.into())?)
    }

    /// The number of columns.
    pub fn len(&self) -> usize {
        self.ty.columns.iter().filter(|c| !c.dropped).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<'a> PgHeapTuple<'a, AllocatedByRust> {
    fn write<T: IntoDatum>(&mut self, i: usize, value: T) -> Result<(), TryFromDatumError> {
        let c = &self.ty.columns[i];
        let Some(datum) = value.into_datum() else {
            self.values[i] = Value::Null;
            return Ok(());
        };
        let given = T::type_oid().value();
        // text and varchar (and their arrays) have one representation
        let text_like = |o: u32| o == TEXTOID || o == VARCHAROID;
        let text_array = |o: u32| o == 1009 || o == 1015;
        // inet travels as its text too, which inet_in checks
        let inet = |o: u32| o == 869;
        let fits = if c.as_text {
            given == TEXTOID
        } else {
            given == c.oid
                || (text_like(given) && (text_like(c.oid) || inet(c.oid)))
                || (text_array(given) && text_array(c.oid))
        };
        if !fits && c.as_text && given == crate::request_value::PgBuiltInOids::RECORDOID.value() {
            // a row into a field of a composite type, which holds the row's text
            if let Value::Bytes(row) = &datum.0 {
                let text = crate::composite::row_as_field_text(c.oid, row)
                    .map_err(|e| TryFromDatumError(format!("column \"{}\": {e}", c.name)))?;
                self.values[i] = Value::Bytes(text);
                return Ok(());
            }
        }
        if !fits {
            return Err(TryFromDatumError(format!(
                "column \"{}\" has type OID {}; a Rust {} (type OID {given}) cannot be stored in it",
                c.name,
                c.oid,
                core::any::type_name::<T>()
            )));
        }
        self.values[i] = datum.0;
        Ok(())
    }

    pub fn set_by_name<T: IntoDatum>(&mut self, name: &str, value: T) -> Result<(), TryFromDatumError> {
        let i = self.index(name)?;
        self.write(i, value)
    }

    pub fn set_by_index<T: IntoDatum>(&mut self, attno: impl Into<usize>, value: T) -> Result<(), TryFromDatumError> {
        let i = self.checked(attno.into())?;
        self.write(i, value)
    }
}

/// The trigger's data, as `trigger` in a trigger function's body.
pub struct PgTrigger<'a> {
    name: String,
    table_name: String,
    table_schema: String,
    when: PgTriggerWhen,
    level: PgTriggerLevel,
    op: PgTriggerOperation,
    args: Vec<String>,
    ty: Rc<RowType>,
    new: Option<Vec<Value>>,
    old: Option<Vec<Value>>,
    _marker: PhantomData<&'a ()>,
}

impl<'a> PgTrigger<'a> {
    /// Rows are copies the function owns: it may change and return them, or
    /// return `None` without naming an allocation type (`Ok(None)` compiles).
    fn row(&self, values: &Option<Vec<Value>>) -> Option<PgHeapTuple<'a>> {
        values.as_ref().map(|v| PgHeapTuple { ty: self.ty.clone(), values: v.clone(), _marker: PhantomData })
    }

    /// The new row (INSERT and UPDATE row triggers).
    pub fn new(&self) -> Option<PgHeapTuple<'a>> {
        self.row(&self.new)
    }

    /// The old row (UPDATE and DELETE row triggers).
    pub fn old(&self) -> Option<PgHeapTuple<'a>> {
        self.row(&self.old)
    }

    /// The row the operation is about: the new one, or the old one for DELETE.
    pub fn current(&self) -> Option<PgHeapTuple<'a>> {
        self.new().or_else(|| self.old())
    }

    pub fn op(&self) -> Result<PgTriggerOperation, PgTriggerError> {
        Ok(self.op)
    }

    pub fn when(&self) -> Result<PgTriggerWhen, PgTriggerError> {
        Ok(self.when)
    }

    pub fn level(&self) -> PgTriggerLevel {
        self.level
    }

    pub fn name(&self) -> Result<&str, PgTriggerError> {
        Ok(&self.name)
    }

    pub fn table_name(&self) -> Result<String, PgTriggerError> {
        Ok(self.table_name.clone())
    }

    pub fn table_schema(&self) -> Result<String, PgTriggerError> {
        Ok(self.table_schema.clone())
    }

    /// The arguments of CREATE TRIGGER … EXECUTE FUNCTION f('a', 'b').
    pub fn extra_args(&self) -> Result<Vec<String>, PgTriggerError> {
        Ok(self.args.clone())
    }
}

pub(crate) fn read_row(r: &mut Reader<'_>, n: usize) -> Result<Option<Vec<Value>>, PgError> {
    if r.u8()? == 0 {
        return Ok(None);
    }
    (0..n).map(|_| Value::read(r, 0)).collect::<Result<Vec<_>, _>>().map(Some)
}

fn fetch_trigger() -> Result<PgTrigger<'static>, PgError> {
    let reply = request::send(Writer::new(OP_TRIGGER))?;
    let mut r = reply.reader();
    let bad = request::protocol_error;
    let name = r.string()?;
    let table_name = r.string()?;
    let table_schema = r.string()?;
    let when = match r.u8()? {
        0 => PgTriggerWhen::Before,
        1 => PgTriggerWhen::After,
        2 => PgTriggerWhen::InsteadOf,
        _ => return Err(bad()),
    };
    let level = if r.u8()? == 0 { PgTriggerLevel::Row } else { PgTriggerLevel::Statement };
    let op = match r.u8()? {
        0 => PgTriggerOperation::Insert,
        1 => PgTriggerOperation::Update,
        2 => PgTriggerOperation::Delete,
        3 => PgTriggerOperation::Truncate,
        _ => return Err(bad()),
    };
    let nargs = r.u32()? as usize;
    let args = (0..nargs).map(|_| r.string()).collect::<Result<Vec<_>, _>>()?;
    let ty = Rc::new(RowType::read(&mut r)?);
    let new = read_row(&mut r, ty.columns.len())?;
    let old = read_row(&mut r, ty.columns.len())?;
    Ok(PgTrigger { name, table_name, table_schema, when, level, op, args, ty, new, old, _marker: PhantomData })
}

/// The trigger data for the wrapper of a trigger function.
///
/// # Safety
/// Only the wrapper calls this, inside `plrust_call`.
#[doc(hidden)]
pub unsafe fn trigger() -> Result<PgTrigger<'static>, crate::wrapper::Failure> {
    fetch_trigger().map_err(|e| crate::wrapper::Failure::Returned(e.to_string()))
}

fn send_row<A: WhoAllocated>(row: Option<PgHeapTuple<'_, A>>) -> Result<OwnedValue, String> {
    let mut w = Writer::new(OP_TRIGGER_RETURN);
    match row {
        None => w.u8(0),
        Some(row) => {
            w.u8(1);
            w.u32(row.ty.oid);
            w.u32(row.values.len() as u32);
            for v in &row.values {
                v.write(&mut w);
            }
        }
    }
    request::send(w).map_err(|e| e.to_string())?;
    Ok(OwnedValue::NULL)
}

impl<A: WhoAllocated> Outcome<Trigger> for Option<PgHeapTuple<'_, A>> {
    unsafe fn into_outcome(self) -> Result<OwnedValue, String> {
        send_row(self)
    }
}

impl<A: WhoAllocated, E: fmt::Display> Outcome<Trigger> for Result<Option<PgHeapTuple<'_, A>>, E> {
    unsafe fn into_outcome(self) -> Result<OwnedValue, String> {
        send_row(self.map_err(|e| e.to_string())?)
    }
}
