// expect: forbidden-macro
// The raw string ends at `"#`; what follows is code even though it looks quoted.
pub fn f() -> Option<String> {
    let a = r#"start "# ; let k = include_str!("/root/.ssh/id_rsa"); let b = r#" end"#;
    Some(format!("{a}{k}{b}"))
}
