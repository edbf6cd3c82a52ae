//! What a `.rs` file's own signature may use beyond the value types: pgrx's
//! `composite_type!` in type position, and the conversion of a `char`
//! parameter, which the code generated around a `.rs` function calls
//! (src/functions/rs-file.ts).
use crate::trigger::{AllocatedByRust, PgHeapTuple};

/// A named composite type in a signature, as pgrx spells it:
/// `composite_type!("pair")` or `composite_type!('a, "pair")`. The name is
/// read by plrust from the source to write the SQL signature; in Rust every
/// composite type is the same `PgHeapTuple`, checked by the host against the
/// declared type when a row is returned.
#[macro_export]
macro_rules! composite_type {
    ($lt:lifetime, $name:literal) => {
        $crate::rs_fn::CompositeType<$lt>
    };
    ($name:literal) => {
        $crate::rs_fn::CompositeType<'static>
    };
}

/// What `composite_type!` expands to: a row the function owns.
pub type CompositeType<'a> = PgHeapTuple<'a, AllocatedByRust>;

/// A `char` parameter from its varchar argument: exactly one character, or
/// an error naming the argument.
#[doc(hidden)]
pub fn char_arg(s: &str, name: &str) -> Result<char, String> {
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(c),
        _ => Err(format!(
            "argument `{name}` has {} characters, but the function's parameter is a char: pass exactly one character",
            s.chars().count()
        )),
    }
}

/// The SQL body's type for a `composite_type!` argument or result: a row.
/// When the type named is no composite type at all (an enum, a domain),
/// PostgreSQL passes another Rust type and rustc reports this trait's
/// message at the generated call rather than a bare type mismatch.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "composite_type!(…) names a SQL type that is not a composite type: PostgreSQL passes it as `{Self}`",
    label = "not a row",
    note = "name a composite type (CREATE TYPE name AS (…), or a table) in composite_type!, or use the Rust type of `{Self}`"
)]
pub trait SqlRow<R>: Sized {
    fn from_row(row: R) -> Self;
}

impl<'a> SqlRow<CompositeType<'a>> for CompositeType<'a> {
    fn from_row(row: CompositeType<'a>) -> Self {
        row
    }
}

impl<'a> SqlRow<Vec<Option<CompositeType<'a>>>> for Vec<Option<CompositeType<'a>>> {
    fn from_row(rows: Vec<Option<CompositeType<'a>>>) -> Self {
        rows
    }
}

/// A `composite_type!` argument: what the SQL body received, checked to be rows.
#[doc(hidden)]
pub fn composite_arg<R, T: SqlRow<R>>(v: T) -> T {
    v
}

/// A `composite_type!` result (a row or an array of rows) as the SQL body's result type.
#[doc(hidden)]
pub fn composite_result<R, T: SqlRow<R>>(v: R) -> T {
    T::from_row(v)
}
