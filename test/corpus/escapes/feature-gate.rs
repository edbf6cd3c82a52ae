// expect: forbidden-attribute
// expanded: forbidden-attribute
#![feature(core_intrinsics)]

pub fn f() -> Option<i32> {
    Some(0)
}
