// expect: unbalanced-delimiters
// With one `#`, the raw string ends at the first `"#`: the extra `#` and the
// `}` after it are code. That `}` closes the function early, so the last
// `}` would close the module the code is pasted into.
pub fn f() -> Option<String> {
    let s = r#"payload"##; }
    Some(s.to_string())
}
