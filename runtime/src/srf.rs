//! Set-returning functions: `RETURNS SETOF T` with `SetOfIterator<'a,
//! Option<T>>` and `RETURNS TABLE (…)` with `TableIterator<'a, (Option<A>,
//! …)>`, as upstream PL/Rust writes them. The wrapper drains the iterator
//! inside the call, checkpoint per row, and hands rows to the host in
//! batches of about 256 kB (docs/ABI.md, op 3); the host stores them in a
//! tuplestore, which spills to disk past work_mem. So a set of any size
//! needs a bounded amount of the function's memory.
use crate::convert::{IntoResult, Outcome, OwnedValue};
use crate::request::{self, Writer, OP_ROWS};
use crate::sql::{private::Sealed, SqlType};
use core::fmt::Display;
use core::marker::PhantomData;

const BATCH_BYTES: usize = 256 * 1024;

/// `SETOF S` (results only).
pub struct SetOf<S: SqlType>(PhantomData<S>);
impl<S: SqlType> Sealed for SetOf<S> {}
impl<S: SqlType> SqlType for SetOf<S> {}

/// `TABLE (…)` with the column types `C`, a tuple (results only).
pub struct Table<C>(PhantomData<C>);

/// The rows of a `RETURNS SETOF` function; `None` items are NULL rows.
pub struct SetOfIterator<'a, T> {
    iter: Box<dyn Iterator<Item = T> + 'a>,
}

/// The rows of a `RETURNS TABLE` function: tuples of `Option`s, one per column.
pub struct TableIterator<'a, T> {
    iter: Box<dyn Iterator<Item = T> + 'a>,
}

macro_rules! iterator_type {
    ($name:ident) => {
        impl<'a, T> $name<'a, T> {
            pub fn new<I>(iter: I) -> Self
            where
                I: IntoIterator<Item = T>,
                I::IntoIter: 'a,
            {
                $name { iter: Box::new(iter.into_iter()) }
            }

            pub fn empty() -> Self
            where
                T: 'a,
            {
                $name { iter: Box::new(core::iter::empty()) }
            }

            pub fn once(value: T) -> Self
            where
                T: 'a,
            {
                $name { iter: Box::new(core::iter::once(value)) }
            }
        }

        impl<T> Iterator for $name<'_, T> {
            type Item = T;
            fn next(&mut self) -> Option<T> {
                self.iter.next()
            }
        }
    };
}

iterator_type!(SetOfIterator);
iterator_type!(TableIterator);

fn batch(columns: u32) -> Writer {
    let mut w = Writer::new(OP_ROWS);
    w.u32(columns);
    w
}

/// Sends the rows of `rows`, each written by `write`; the result value is NULL.
fn drain<T>(columns: u32, rows: impl Iterator<Item = T>, mut write: impl FnMut(T, &mut Writer)) -> Result<OwnedValue, String> {
    let empty = batch(columns).len();
    let mut w = batch(columns);
    for row in rows {
        crate::checkpoint();
        write(row, &mut w);
        if w.len() >= BATCH_BYTES {
            request::send(core::mem::replace(&mut w, batch(columns))).map_err(|e| e.to_string())?;
        }
    }
    if w.len() > empty {
        request::send(w).map_err(|e| e.to_string())?;
    }
    Ok(OwnedValue::NULL)
}

fn owned<S: SqlType, T: IntoResult<S>>(v: Option<T>) -> OwnedValue {
    match v {
        // SAFETY: only the wrapper's outcome conversion gets here, and the
        // value is copied into the message and released at once.
        Some(t) => unsafe { t.into_result() },
        None => OwnedValue::NULL,
    }
}

fn set_rows<S: SqlType, T: IntoResult<S>>(it: Option<SetOfIterator<'_, Option<T>>>) -> Result<OwnedValue, String> {
    match it {
        None => Ok(OwnedValue::NULL),
        Some(rows) => drain(1, rows, |row, w| owned::<S, T>(row).write_flat(w)),
    }
}

impl<S: SqlType, T: IntoResult<S>> Outcome<SetOf<S>> for Option<SetOfIterator<'_, Option<T>>> {
    unsafe fn into_outcome(self) -> Result<OwnedValue, String> {
        set_rows::<S, T>(self)
    }
}

impl<S: SqlType, T: IntoResult<S>, E: Display> Outcome<SetOf<S>> for Result<Option<SetOfIterator<'_, Option<T>>>, E> {
    unsafe fn into_outcome(self) -> Result<OwnedValue, String> {
        set_rows::<S, T>(self.map_err(|e| e.to_string())?)
    }
}

mod private {
    pub trait Sealed {}
}

/// A row of `TABLE (…)` columns `C`. Sealed: tuples of up to 12 `Option`s.
pub trait TableRow<C>: Sized + private::Sealed {
    #[doc(hidden)]
    const COLUMNS: u32;
    #[doc(hidden)]
    fn write(self, w: &mut Writer);
}

fn table_rows<C, R: TableRow<C>>(it: Option<TableIterator<'_, R>>) -> Result<OwnedValue, String> {
    match it {
        None => Ok(OwnedValue::NULL),
        Some(rows) => drain(R::COLUMNS, rows, |row, w| row.write(w)),
    }
}

macro_rules! tables {
    ($( $n:literal: ($($S:ident $T:ident $i:tt),+) )*) => {$(
        impl<$($S: SqlType),+> Sealed for Table<($($S,)+)> {}
        impl<$($S: SqlType),+> SqlType for Table<($($S,)+)> {}
        impl<$($T),+> private::Sealed for ($(Option<$T>,)+) {}
        impl<$($S: SqlType, $T: IntoResult<$S>),+> TableRow<($($S,)+)> for ($(Option<$T>,)+) {
            const COLUMNS: u32 = $n;
            fn write(self, w: &mut Writer) {
                $( owned::<$S, $T>(self.$i).write_flat(w); )+
            }
        }
        impl<$($S: SqlType),+, R: TableRow<($($S,)+)>> Outcome<Table<($($S,)+)>> for Option<TableIterator<'_, R>> {
            unsafe fn into_outcome(self) -> Result<OwnedValue, String> {
                table_rows(self)
            }
        }
        impl<$($S: SqlType),+, R: TableRow<($($S,)+)>, E: Display> Outcome<Table<($($S,)+)>>
            for Result<Option<TableIterator<'_, R>>, E>
        {
            unsafe fn into_outcome(self) -> Result<OwnedValue, String> {
                table_rows(self.map_err(|e| e.to_string())?)
            }
        }
    )*};
}

tables!(
    1: (S0 T0 0)
    2: (S0 T0 0, S1 T1 1)
    3: (S0 T0 0, S1 T1 1, S2 T2 2)
    4: (S0 T0 0, S1 T1 1, S2 T2 2, S3 T3 3)
    5: (S0 T0 0, S1 T1 1, S2 T2 2, S3 T3 3, S4 T4 4)
    6: (S0 T0 0, S1 T1 1, S2 T2 2, S3 T3 3, S4 T4 4, S5 T5 5)
    7: (S0 T0 0, S1 T1 1, S2 T2 2, S3 T3 3, S4 T4 4, S5 T5 5, S6 T6 6)
    8: (S0 T0 0, S1 T1 1, S2 T2 2, S3 T3 3, S4 T4 4, S5 T5 5, S6 T6 6, S7 T7 7)
    9: (S0 T0 0, S1 T1 1, S2 T2 2, S3 T3 3, S4 T4 4, S5 T5 5, S6 T6 6, S7 T7 7, S8 T8 8)
    10: (S0 T0 0, S1 T1 1, S2 T2 2, S3 T3 3, S4 T4 4, S5 T5 5, S6 T6 6, S7 T7 7, S8 T8 8, S9 T9 9)
    11: (S0 T0 0, S1 T1 1, S2 T2 2, S3 T3 3, S4 T4 4, S5 T5 5, S6 T6 6, S7 T7 7, S8 T8 8, S9 T9 9, S10 T10 10)
    12: (S0 T0 0, S1 T1 1, S2 T2 2, S3 T3 3, S4 T4 4, S5 T5 5, S6 T6 6, S7 T7 7, S8 T8 8, S9 T9 9, S10 T10 10, S11 T11 11)
);
