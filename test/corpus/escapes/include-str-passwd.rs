// expect: forbidden-macro
// expanded: forbidden-macro
// Read the server's password file at compile time and return it as the result.
pub fn leak_passwd() -> Option<String> {
    Some(include_str!("/etc/passwd").to_string())
}
