// expect: forbidden-macro
// expanded: forbidden-macro
// Rename the macro so that no `include_str!` appears at the call site.
use std::include_str as read_config;

pub fn config() -> Option<String> {
    Some(read_config!("/etc/postgresql/15/main/pg_hba.conf").to_owned())
}
