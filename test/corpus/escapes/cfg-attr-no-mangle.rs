// expect: forbidden-attribute
#[cfg_attr(not(test), no_mangle)]
pub fn malloc_hook() -> i32 {
    0
}
