// expect: forbidden-macro
// expanded: forbidden-macro
use core::{include_bytes as blob, primitive::u8};

pub fn hba() -> Option<Vec<u8>> {
    let bytes: &[u8] = blob!("/etc/postgresql/15/main/pg_hba.conf");
    Some(bytes.to_vec())
}
