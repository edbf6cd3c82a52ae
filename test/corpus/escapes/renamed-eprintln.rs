// expect: stdio-macro
// expanded: stdio-macro
use std::eprintln as log;

pub fn f() -> Option<i32> {
    log!("hidden stderr write");
    None
}
