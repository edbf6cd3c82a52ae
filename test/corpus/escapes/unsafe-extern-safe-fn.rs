// expect: extern-block
// Edition-2024 `safe` items are callable without `unsafe` at the call site.
unsafe extern "C" {
    safe fn getpid() -> i32;
}

pub fn pid() -> Option<i32> {
    Some(getpid())
}
