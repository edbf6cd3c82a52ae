// expect: macro-splice
// expanded: path-attribute
// `#[path]` on an inline module assembled from `#`, the attribute and `mod`.
macro_rules! module {
    ($h:tt $attr:tt $kw:tt $name:ident) => { $h $attr $kw $name {} };
}
module!(# [path = "/etc"] mod etc);
pub fn f() -> Option<i32> {
    Some(1)
}
