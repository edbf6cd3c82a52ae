//! `uuid`: 16 bytes.
use core::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Uuid([u8; 16]);

/// A byte slice that is not 16 bytes long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UuidLengthError(pub usize);

impl fmt::Display for UuidLengthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a uuid is 16 bytes, not {}", self.0)
    }
}

impl std::error::Error for UuidLengthError {}

impl Uuid {
    pub const fn from_bytes(b: [u8; 16]) -> Uuid {
        Uuid(b)
    }

    pub fn from_slice(b: &[u8]) -> Result<Uuid, UuidLengthError> {
        <[u8; 16]>::try_from(b).map(Uuid).map_err(|_| UuidLengthError(b.len()))
    }

    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl core::ops::Deref for Uuid {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl core::str::FromStr for Uuid {
    type Err = &'static str;
    /// The forms `uuid_in` accepts most often: 32 hex digits, optionally
    /// hyphenated after groups of four and in braces.
    fn from_str(s: &str) -> Result<Uuid, &'static str> {
        let s = s.strip_prefix('{').and_then(|r| r.strip_suffix('}')).unwrap_or(s);
        let mut out = [0u8; 16];
        let mut n = 0;
        let mut hyphen_ok = false;
        for c in s.chars() {
            if c == '-' && hyphen_ok && n % 4 == 0 {
                hyphen_ok = false;
                continue;
            }
            let d = c.to_digit(16).ok_or("invalid input syntax for type uuid")? as u8;
            if n >= 32 {
                return Err("invalid input syntax for type uuid");
            }
            out[n / 2] |= if n % 2 == 0 { d << 4 } else { d };
            n += 1;
            hyphen_ok = true;
        }
        if n == 32 && hyphen_ok { Ok(Uuid(out)) } else { Err("invalid input syntax for type uuid") }
    }
}

impl fmt::Display for Uuid {
    /// PostgreSQL's form: lower-case, hyphenated 8-4-4-4-12.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::LowerHex for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
