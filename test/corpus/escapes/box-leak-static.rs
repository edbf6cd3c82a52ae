// expect: leak
// expanded: leak
use std::sync::OnceLock;

// Keep a `&'static` to leaked memory: it is never given back, and counts against plrust.memory_limit until the library is unloaded.
static KEEP: OnceLock<&'static str> = OnceLock::new();

pub fn f(s: &str) -> Option<String> {
    let leaked: &'static str = Box::leak(s.to_string().into_boxed_str());
    KEEP.get_or_init(|| leaked);
    KEEP.get().map(|s| s.to_string())
}
