// expect: auto-trait-impl
use std::rc::Rc;

struct Smuggle(Rc<Vec<u8>>);
unsafe impl Send for Smuggle {}
unsafe impl Sync for Smuggle {}

pub fn f() -> Option<i32> { None }
