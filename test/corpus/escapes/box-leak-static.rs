// expect: leak
// expanded: leak
use std::sync::OnceLock;

// Keep a `&'static` to memory that Postgres frees at the end of the call.
static KEEP: OnceLock<&'static str> = OnceLock::new();

pub fn f(s: &str) -> Option<String> {
    let leaked: &'static str = Box::leak(s.to_string().into_boxed_str());
    KEEP.get_or_init(|| leaked);
    KEEP.get().map(|s| s.to_string())
}
