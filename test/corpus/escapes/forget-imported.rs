// expect: mem-forget
// expanded: mem-forget
use std::mem::forget;

pub fn f() -> Option<i32> {
    let v = vec![1, 2, 3];
    forget(v);
    None
}
