// expect: uninstrumentable
// expanded: uninstrumentable
// The same with `while` and its condition passed as separate arguments.
macro_rules! spin {
    ($k:tt, $c:expr) => { $k $c { std::hint::spin_loop(); } };
}
pub fn f() -> Option<i32> {
    spin!(while, 1 + 1 == 2);
    Some(1)
}
