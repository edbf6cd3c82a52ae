//! `fn_call`: calling a SQL function of any language by name, as upstream
//! PL/Rust documents it. The host runs `SELECT name($1::t1, …)` (op 6), so
//! PostgreSQL picks the overload by the argument types, fills in trailing
//! DEFAULT arguments and checks the caller's EXECUTE privilege.
use crate::request_value::{FromDatum, IntoDatum, Value};
use crate::request::{self, PgError, Writer, OP_FN_CALL};
use crate::spi::{self, SpiError};
use core::fmt;

/// One argument: SQL NULL, the parameter's DEFAULT (trailing arguments
/// only), or a value.
pub enum Arg<T> {
    Null,
    Default,
    Value(T),
}

mod private {
    pub trait Sealed {}
}

/// An `Arg` of any type, for `&[&dyn FnCallArg]`. Sealed.
pub trait FnCallArg: private::Sealed {
    #[doc(hidden)]
    fn write(&self, w: &mut Writer);
}

impl<T> private::Sealed for Arg<T> {}
impl<T: IntoDatum + Clone> FnCallArg for Arg<T> {
    fn write(&self, w: &mut Writer) {
        let oid = T::type_oid().value();
        match self {
            Arg::Default => {
                w.u8(1);
                w.u32(oid);
            }
            Arg::Null => {
                w.u8(0);
                w.u32(oid);
                Value::Null.write(w);
            }
            Arg::Value(v) => {
                w.u8(0);
                w.u32(oid);
                v.clone().into_datum().map_or(Value::Null, |d| d.0).write(w);
            }
        }
    }
}

/// Why the call failed; when PostgreSQL raised the error, returning it
/// from the function raises it again with its SQLSTATE.
#[derive(Debug)]
pub enum FnCallError {
    InvalidIdentifier(String),
    UndefinedFunction,
    AmbiguousFunction,
    IncompatibleReturnType(String),
    Postgres(PgError),
}

impl fmt::Display for FnCallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FnCallError::InvalidIdentifier(name) => write!(f, "Invalid identifier: `{name}`"),
            FnCallError::UndefinedFunction => f.write_str("The specified function does not exist"),
            FnCallError::AmbiguousFunction => f.write_str(
                "The specified function exists, but has overloaded versions which are ambiguous given the argument types provided",
            ),
            FnCallError::IncompatibleReturnType(why) => f.write_str(why),
            FnCallError::Postgres(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl std::error::Error for FnCallError {}

/// Calls `fname` (possibly schema-qualified) with `args`.
pub fn fn_call<R: FromDatum>(fname: &str, args: &[&dyn FnCallArg]) -> Result<Option<R>, FnCallError> {
    let mut w = Writer::new(OP_FN_CALL);
    w.bytes(fname.as_bytes());
    w.u32(args.len() as u32);
    for a in args {
        a.write(&mut w);
    }
    let reply = request::send(w).map_err(|e| match e.sqlstate() {
        "42883" => FnCallError::UndefinedFunction,
        "42725" => FnCallError::AmbiguousFunction,
        "42602" | "42601" => FnCallError::InvalidIdentifier(fname.to_string()),
        _ => FnCallError::Postgres(e),
    })?;
    let table = spi::decode(reply).and_then(spi::one_row).map_err(spi_error)?;
    table.get_one::<R>().map_err(spi_error)
}

fn spi_error(e: SpiError) -> FnCallError {
    match e {
        SpiError::Postgres(e) => FnCallError::Postgres(e),
        other => FnCallError::IncompatibleReturnType(other.to_string()),
    }
}
