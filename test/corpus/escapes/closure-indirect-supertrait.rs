// expect: blanket-impl
// expanded: blanket-impl
// Upstream's indirect case: the associated type comes from a blanket impl
// of a supertrait, the closure impl only names the child trait.
trait GivesAssoc<A> {
    type Assoc;
}
impl<A> GivesAssoc<A> for A {
    type Assoc = A;
}
trait Child<T>
where
    Self: GivesAssoc<T>,
{
}
impl<R, F: Fn() -> R> Child<R> for F {}
pub fn f() -> Option<i32> {
    Some(1)
}
