// expect: fn-trait-impl
// expanded: fn-trait-impl
// The Fn bound moved to a where clause.
trait Out {
    type R;
}
impl<F, R> Out for F
where
    F: FnOnce() -> R,
{
    type R = R;
}
pub fn f() -> Option<i32> {
    Some(1)
}
