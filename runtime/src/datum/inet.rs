//! `inet`: pgrx's `Inet(String)`, the text form PostgreSQL prints. A
//! returned value is read by PostgreSQL's own `inet_in`, so text that is no
//! address is PostgreSQL's own error, never a stored value.
use crate::abi::PlrustValue;
use crate::convert::{bytes, bytes_result, not_null, ArgProblem, FromArg, IntoResult, OwnedValue};
use crate::sql;
use core::fmt;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Inet(pub String);

impl core::ops::Deref for Inet {
    type Target = String;
    fn deref(&self) -> &String {
        &self.0
    }
}

impl core::ops::DerefMut for Inet {
    fn deref_mut(&mut self) -> &mut String {
        &mut self.0
    }
}

impl From<String> for Inet {
    fn from(s: String) -> Inet {
        Inet(s)
    }
}

impl From<&str> for Inet {
    fn from(s: &str) -> Inet {
        Inet(s.to_string())
    }
}

impl From<Inet> for String {
    fn from(i: Inet) -> String {
        i.0
    }
}

impl fmt::Display for Inet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'a> FromArg<'a, sql::Inet> for Inet {
    unsafe fn from_arg(v: &'a PlrustValue) -> Result<Self, ArgProblem> {
        not_null(v)?;
        // SAFETY: the signature says `bytes` is set, live for 'a.
        let b = unsafe { bytes(v.v.bytes)? };
        core::str::from_utf8(b).map(|s| Inet(s.to_string())).map_err(|_| "is not UTF-8 text")
    }
}

impl IntoResult<sql::Inet> for Inet {
    unsafe fn into_result(self) -> OwnedValue {
        bytes_result(self.0.as_bytes())
    }
}
