#!/usr/bin/env run-cargo-script
// expect: shebang
pub fn f() -> Option<i32> { Some(1) }
