// expect: reserved-name
// expanded: reserved-name
// A user macro named like the standard `format_args!`, which the checker trusts.
macro_rules! format_args {
    ($($t:tt)*) => { 0 };
}
pub fn f() -> Option<i32> {
    Some(format_args!(loop {}))
}
