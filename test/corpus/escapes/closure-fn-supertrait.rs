// expect: dyn-fn-trait
// expanded: dyn-fn-trait
// The Fn bound laundered through a user trait with an Fn supertrait.
trait Producer<R>: Fn() -> R {}
impl<R, F: Fn() -> R> Producer<R> for F {}
struct W<P>(P);
trait Tr {
    type Out;
}
impl<R, P: Producer<R>> Tr for W<P> {
    type Out = R;
}
pub fn f() -> Option<i32> {
    Some(1)
}
