// expect: unbalanced-delimiters
// Close the user module, define an exported symbol outside the checked
// region, then reopen a module so the wrapper's closing brace still matches.
pub fn innocent() -> Option<i32> { Some(1) }
}

#[no_mangle]
pub extern "C" fn _PG_init() {}

mod reopened {
