// expect: path-attribute
// expanded: path-attribute
#[cfg_attr(all(), path = "/proc/self/environ")]
mod environ {}

pub fn f() -> Option<i32> { Some(0) }
