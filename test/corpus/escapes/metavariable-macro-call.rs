// expect: macro-splice
// expanded: macro-splice
// The forbidden macro's name only appears as an argument, never as `name!`.
macro_rules! call {
    ($m:ident, $arg:expr) => { $m!($arg) };
}

pub fn f() -> Option<String> {
    Some(call!(include_str, "/etc/passwd").to_string())
}
