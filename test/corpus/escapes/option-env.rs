// expect: forbidden-macro
// expanded: forbidden-macro
pub fn aws() -> Option<String> {
    option_env!("AWS_SECRET_ACCESS_KEY").map(|s| s.to_string())
}
