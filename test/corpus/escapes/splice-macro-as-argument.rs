// expect: macro-splice
// expanded: forbidden-macro
// A macro name passed to another macro and invoked there.
macro_rules! apply {
    ($m:ident, $($a:tt)*) => { $m!($($a)*) };
}
pub fn f() -> Option<i32> {
    let s: &str = apply!(option_env, "PGPASSWORD").unwrap_or("");
    Some(s.len() as i32)
}
