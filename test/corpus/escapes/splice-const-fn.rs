// expect: macro-splice
// expanded: const-fn
// A `const fn` (no checkpoint can be placed in it) assembled from `const` and a body.
macro_rules! qualified {
    ($q:tt $name:ident $body:block) => { $q fn $name() -> u64 $body };
}
qualified!(const spin { let mut i = 0u64; while i < u64::MAX { i += 1; } i });
pub fn f() -> Option<i64> {
    Some(spin() as i64)
}
