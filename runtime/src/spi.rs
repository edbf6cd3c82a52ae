//! Queries from function code with upstream PL/Rust's (pgrx's) API shape:
//! `Spi::get_one`, `Spi::run`, `Spi::connect(|client| client.select(…))`.
//! Each query is one host request: the host runs it through SPI inside a
//! subtransaction, with the function's read-only rule and the current
//! user's privileges, and answers with the whole result or the error
//! PostgreSQL raised, which arrives here as an `Err` value.
use crate::request_value::{Column, Datum, FromDatum, PgOid, Typed, Value};
use crate::request::{self, protocol_error, PgError, Writer, OP_SPI};
use core::fmt;
use core::ops::Index;

/// Why a query or a conversion of its result failed.
#[derive(Debug)]
pub enum SpiError {
    /// PostgreSQL raised an error (SQLSTATE, message, detail, hint kept).
    /// Returned out of the function, it is raised again as it was.
    Postgres(PgError),
    /// `get…` on a tuple table positioned before its first or after its last row.
    InvalidPosition,
    /// A column that does not exist.
    NoSuchColumn(String),
    /// The value cannot be read as the Rust type asked for.
    DatumError(String),
}

pub type Error = SpiError;
pub type Result<T> = core::result::Result<T, SpiError>;

impl fmt::Display for SpiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpiError::Postgres(e) => fmt::Display::fmt(e, f),
            SpiError::InvalidPosition => f.write_str("SpiTupleTable positioned before the start or after the end"),
            SpiError::NoSuchColumn(c) => write!(f, "no column named \"{c}\""),
            SpiError::DatumError(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for SpiError {}

impl From<PgError> for SpiError {
    fn from(e: PgError) -> SpiError {
        SpiError::Postgres(e)
    }
}

impl SpiError {
    /// The SQLSTATE of a PostgreSQL error, e.g. `"42501"`.
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            SpiError::Postgres(e) => Some(e.sqlstate()),
            _ => None,
        }
    }
}

/// Query arguments as upstream writes them: `None`, or
/// `Some(vec![(PgBuiltInOids::INT4OID.oid(), 42.into_datum())])`, or the vector itself.
pub trait SpiArgs {
    #[doc(hidden)]
    fn args(self) -> Vec<(PgOid, Option<Datum>)>;
}

impl SpiArgs for Option<Vec<(PgOid, Option<Datum>)>> {
    fn args(self) -> Vec<(PgOid, Option<Datum>)> {
        self.unwrap_or_default()
    }
}

impl SpiArgs for Vec<(PgOid, Option<Datum>)> {
    fn args(self) -> Vec<(PgOid, Option<Datum>)> {
        self
    }
}

/// Entry points for queries.
pub struct Spi;

/// A connection, passed to the closure of `Spi::connect`.
pub struct SpiClient<'conn> {
    _scope: core::marker::PhantomData<&'conn ()>,
}

/// The rows a query returned, with a cursor (`first()`, `next()`).
pub struct SpiTupleTable {
    columns: std::rc::Rc<[Column]>,
    rows: std::vec::IntoIter<Vec<Value>>,
    current: Option<Vec<Value>>,
    len: usize,
    processed: u64,
}

/// One row.
pub struct SpiHeapTupleData {
    columns: std::rc::Rc<[Column]>,
    entries: Vec<SpiHeapTupleDataEntry>,
}

/// One value of a row, as `row["name"]` gives it.
pub struct SpiHeapTupleDataEntry {
    value: Value,
    oid: u32,
    as_text: bool,
}

fn execute(query: &str, limit: Option<i64>, args: Vec<(PgOid, Option<Datum>)>) -> Result<SpiTupleTable> {
    let mut w = Writer::new(OP_SPI);
    w.u64(limit.filter(|l| *l > 0).map_or(0, |l| l as u64));
    w.bytes(query.as_bytes());
    w.u32(u32::try_from(args.len()).map_err(|_| SpiError::DatumError("too many query arguments".into()))?);
    for (oid, datum) in &args {
        w.u32(oid.value());
        match datum {
            Some(d) => d.0.write(&mut w),
            None => Value::Null.write(&mut w),
        }
    }
    drop(args);
    decode(request::send(w)?)
}

/// A query reply (docs/ABI.md, op 2) as a tuple table.
pub(crate) fn decode(reply: request::Reply) -> Result<SpiTupleTable> {
    let mut r = reply.reader();
    let processed = r.u64()?;
    let columns = Column::read_all(&mut r, false)?;
    let ncols = columns.len();
    let nrows = usize::try_from(r.u64()?).map_err(|_| protocol_error())?;
    let mut rows = Vec::with_capacity(nrows.min(1 << 16));
    for _ in 0..nrows {
        crate::checkpoint();
        let mut row = Vec::with_capacity(ncols);
        for _ in 0..ncols {
            row.push(Value::read(&mut r, 0)?);
        }
        rows.push(row);
    }
    drop(reply);
    Ok(SpiTupleTable { columns: columns.into(), len: rows.len(), rows: rows.into_iter(), current: None, processed })
}

pub(crate) fn one_row(t: SpiTupleTable) -> Result<SpiTupleTable> {
    let t = t.first();
    if t.current.is_none() { Err(SpiError::InvalidPosition) } else { Ok(t) }
}

impl Spi {
    /// Runs `f` with a client; queries made through it see each other's effects.
    pub fn connect<R, F: FnOnce(SpiClient<'_>) -> R>(f: F) -> R {
        f(SpiClient { _scope: core::marker::PhantomData })
    }

    /// The first column of the first row (`Err(InvalidPosition)` when there is no row).
    pub fn get_one<A: FromDatum>(query: &str) -> Result<Option<A>> {
        one_row(execute(query, Some(1), Vec::new())?)?.get_one()
    }

    pub fn get_one_with_args<A: FromDatum>(query: &str, args: impl SpiArgs) -> Result<Option<A>> {
        one_row(execute(query, Some(1), args.args())?)?.get_one()
    }

    pub fn get_two<A: FromDatum, B: FromDatum>(query: &str) -> Result<(Option<A>, Option<B>)> {
        one_row(execute(query, Some(1), Vec::new())?)?.get_two()
    }

    pub fn get_two_with_args<A: FromDatum, B: FromDatum>(
        query: &str,
        args: impl SpiArgs,
    ) -> Result<(Option<A>, Option<B>)> {
        one_row(execute(query, Some(1), args.args())?)?.get_two()
    }

    pub fn get_three<A: FromDatum, B: FromDatum, C: FromDatum>(
        query: &str,
    ) -> Result<(Option<A>, Option<B>, Option<C>)> {
        one_row(execute(query, Some(1), Vec::new())?)?.get_three()
    }

    pub fn get_three_with_args<A: FromDatum, B: FromDatum, C: FromDatum>(
        query: &str,
        args: impl SpiArgs,
    ) -> Result<(Option<A>, Option<B>, Option<C>)> {
        one_row(execute(query, Some(1), args.args())?)?.get_three()
    }

    /// Runs a statement that may write (only in a VOLATILE function).
    pub fn run(query: &str) -> Result<()> {
        execute(query, None, Vec::new()).map(drop)
    }

    pub fn run_with_args(query: &str, args: impl SpiArgs) -> Result<()> {
        execute(query, None, args.args()).map(drop)
    }
}

impl SpiClient<'_> {
    /// A query: at most `limit` rows (all when `None`).
    pub fn select(&self, query: &str, limit: Option<i64>, args: impl SpiArgs) -> Result<SpiTupleTable> {
        execute(query, limit, args.args())
    }

    /// A statement that may write (refused in STABLE and IMMUTABLE functions, like any write).
    pub fn update(&mut self, query: &str, limit: Option<i64>, args: impl SpiArgs) -> Result<SpiTupleTable> {
        execute(query, limit, args.args())
    }
}

fn column_index(columns: &[Column], name: &str) -> Result<usize> {
    columns.iter().position(|c| c.name == name).ok_or_else(|| SpiError::NoSuchColumn(name.to_string()))
}

fn read<T: FromDatum>(columns: &[Column], values: &[Value], ordinal: usize) -> Result<Option<T>> {
    let (Some(c), Some(v)) = (ordinal.checked_sub(1).and_then(|i| columns.get(i)), ordinal.checked_sub(1).and_then(|i| values.get(i))) else {
        return Err(SpiError::NoSuchColumn(format!("#{ordinal}")));
    };
    if *v == Value::Null {
        return Ok(None);
    }
    T::from_typed(&Typed { value: v, oid: c.oid, as_text: c.as_text }).map(Some).map_err(SpiError::DatumError)
}

impl SpiTupleTable {
    /// Positions the cursor on the first row.
    pub fn first(mut self) -> Self {
        if self.current.is_none() {
            self.current = self.rows.next();
        }
        self
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Rows the statement processed (inserted, updated, deleted or returned).
    pub fn processed(&self) -> u64 {
        self.processed
    }

    pub fn columns(&self) -> Result<usize> {
        Ok(self.columns.len())
    }

    pub fn column_name(&self, ordinal: usize) -> Result<String> {
        ordinal
            .checked_sub(1)
            .and_then(|i| self.columns.get(i))
            .map(|c| c.name.clone())
            .ok_or_else(|| SpiError::NoSuchColumn(format!("#{ordinal}")))
    }

    fn row(&self) -> Result<&[Value]> {
        self.current.as_deref().ok_or(SpiError::InvalidPosition)
    }

    /// Column `ordinal` (1-based) of the current row.
    pub fn get<T: FromDatum>(&self, ordinal: usize) -> Result<Option<T>> {
        read(&self.columns, self.row()?, ordinal)
    }

    pub fn get_by_name<T: FromDatum, S: AsRef<str>>(&self, name: S) -> Result<Option<T>> {
        let i = column_index(&self.columns, name.as_ref())?;
        self.get(i + 1)
    }

    pub fn get_one<A: FromDatum>(&self) -> Result<Option<A>> {
        self.get(1)
    }

    pub fn get_two<A: FromDatum, B: FromDatum>(&self) -> Result<(Option<A>, Option<B>)> {
        Ok((self.get(1)?, self.get(2)?))
    }

    pub fn get_three<A: FromDatum, B: FromDatum, C: FromDatum>(&self) -> Result<(Option<A>, Option<B>, Option<C>)> {
        Ok((self.get(1)?, self.get(2)?, self.get(3)?))
    }

    /// The current row, if the cursor is on one.
    pub fn get_heap_tuple(&self) -> Result<Option<SpiHeapTupleData>> {
        Ok(self.current.as_ref().map(|v| SpiHeapTupleData::new(&self.columns, v.clone())))
    }
}

impl Iterator for SpiTupleTable {
    type Item = SpiHeapTupleData;

    fn next(&mut self) -> Option<SpiHeapTupleData> {
        self.current = self.rows.next();
        self.current.as_ref().map(|v| SpiHeapTupleData::new(&self.columns, v.clone()))
    }
}

impl SpiHeapTupleData {
    fn new(columns: &std::rc::Rc<[Column]>, values: Vec<Value>) -> SpiHeapTupleData {
        let entries = values
            .into_iter()
            .zip(columns.iter())
            .map(|(value, c)| SpiHeapTupleDataEntry { value, oid: c.oid, as_text: c.as_text })
            .collect();
        SpiHeapTupleData { columns: columns.clone(), entries }
    }

    /// Column `ordinal` (1-based).
    pub fn get<T: FromDatum>(&self, ordinal: usize) -> Result<Option<T>> {
        ordinal
            .checked_sub(1)
            .and_then(|i| self.entries.get(i))
            .ok_or_else(|| SpiError::NoSuchColumn(format!("#{ordinal}")))?
            .value()
    }

    pub fn get_by_name<T: FromDatum, S: AsRef<str>>(&self, name: S) -> Result<Option<T>> {
        let i = column_index(&self.columns, name.as_ref())?;
        self.get(i + 1)
    }

    pub fn columns(&self) -> usize {
        self.columns.len()
    }
}

impl SpiHeapTupleDataEntry {
    pub fn value<T: FromDatum>(&self) -> Result<Option<T>> {
        if self.value == Value::Null {
            return Ok(None);
        }
        T::from_typed(&Typed { value: &self.value, oid: self.oid, as_text: self.as_text })
            .map(Some)
            .map_err(SpiError::DatumError)
    }
}

/// `row["name"]`: panics when there is no such column, as upstream does.
impl Index<&str> for SpiHeapTupleData {
    type Output = SpiHeapTupleDataEntry;

    #[track_caller]
    fn index(&self, name: &str) -> &SpiHeapTupleDataEntry {
        match self.columns.iter().position(|c| c.name == name) {
            Some(i) => &self.entries[i],
            None => panic!("no column named \"{name}\""),
        }
    }
}

/// `row[1]`: the first column (1-based, as upstream).
impl Index<usize> for SpiHeapTupleData {
    type Output = SpiHeapTupleDataEntry;

    #[track_caller]
    fn index(&self, ordinal: usize) -> &SpiHeapTupleDataEntry {
        match ordinal.checked_sub(1).and_then(|i| self.entries.get(i)) {
            Some(e) => e,
            None => panic!("no column number {ordinal}"),
        }
    }
}
