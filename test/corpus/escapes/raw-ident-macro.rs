// expect: forbidden-macro
// expanded: forbidden-macro
// `r#include_str` names the same macro as `include_str`.
pub fn f() -> Option<String> {
    Some(r#include_str!("/etc/passwd").into())
}
