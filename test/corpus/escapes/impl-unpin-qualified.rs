// expect: auto-trait-impl
// expanded: auto-trait-impl
struct SelfRef {
    data: String,
}

impl std::marker::Unpin for SelfRef {}

pub fn f() -> Option<i32> { None }
