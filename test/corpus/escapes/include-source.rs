// expect: forbidden-macro
// Compile an arbitrary file from the build host as Rust code.
include!("/tmp/attacker-controlled.rs");

pub fn f() -> Option<i32> {
    Some(1)
}
