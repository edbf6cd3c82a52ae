// expect: fn-trait-impl
// expanded: fn-trait-impl
// Not a blanket impl: a wrapper struct generic over the closure, same projection.
struct Thunk<F>(F);
trait Yield {
    type Item;
    fn get(self) -> Self::Item;
}
impl<R, F: Fn() -> R> Yield for Thunk<F> {
    type Item = R;
    fn get(self) -> R {
        (self.0)()
    }
}
pub fn f() -> Option<i32> {
    Some(Thunk(|| 1).get())
}
