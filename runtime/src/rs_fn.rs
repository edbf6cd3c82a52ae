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
