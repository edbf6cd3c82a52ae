// expect: forbidden-macro
// expanded: forbidden-macro
// Path-qualified so that a checker matching only the bare name misses it.
pub fn shadow() -> Option<String> {
    Some(core::include_str!("/etc/shadow").into())
}
