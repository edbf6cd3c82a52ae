// expect: auto-trait-impl
// expanded: auto-trait-impl
use std::panic::UnwindSafe as Fine;
use std::cell::RefCell;

struct Shared(RefCell<Vec<u8>>);
impl Fine for Shared {}

pub fn f() -> Option<i32> { None }
