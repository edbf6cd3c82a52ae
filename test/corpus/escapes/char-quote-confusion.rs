// expect: forbidden-macro
// expanded: forbidden-macro
// A naive scanner starts a string at the `"` inside the char literal and
// believes the include_str! call sits inside that string.
pub fn f() -> Option<String> {
    let open = '"';
    let secret = include_str!("/etc/passwd");
    let close = '"';
    Some(format!("{open}{secret}{close}"))
}
