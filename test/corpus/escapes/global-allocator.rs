// expect: forbidden-attribute
use std::alloc::System;

#[global_allocator]
static ALLOC: System = System;

pub fn f() -> Option<i32> { Some(0) }
