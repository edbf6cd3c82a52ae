// expect: out-of-line-module
// Loads secrets.rs (or secrets/mod.rs) from wherever rustc runs.
mod secrets;

pub fn f() -> Option<i32> { Some(0) }
