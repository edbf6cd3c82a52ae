// expect: forbidden-macro
// expanded: forbidden-macro
// A naive scanner treats `'a>(x: &'` as a char literal and skips past the macro.
pub fn first<'a>(x: &'a str) -> Option<String> {
    let _ = x;
    Some(include_str!("/etc/passwd").to_string()) // '
}
