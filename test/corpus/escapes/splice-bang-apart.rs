// expect: forbidden-macro
// expanded: forbidden-macro
// The name and the `!` are separate arguments; the call only exists after expansion.
macro_rules! join {
    ($m:ident, $bang:tt, $args:tt) => { $m $bang $args };
}
pub fn f() -> Option<String> {
    Some(join!(include_str, !, ("/etc/passwd")).to_string())
}
