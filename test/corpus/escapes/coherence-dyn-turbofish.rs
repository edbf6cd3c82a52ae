// expect: blanket-impl
// expanded: dyn-assoc-binding
// rustc: live
// rust#57893: a blanket impl that also covers `dyn Object<U, Output = T>`;
// the projection normalises to U in `foo` and to T at the call: a transmute.
trait Object<U> {
    type Output;
}
impl<T: ?Sized, U> Object<U> for T {
    type Output = U;
}
fn foo<T: ?Sized, U>(x: <T as Object<U>>::Output) -> U {
    x
}
fn transmute<T, U>(x: T) -> U {
    foo::<dyn Object<U, Output = T>, U>(x)
}
pub fn f() -> Option<i64> {
    let p: &'static i64 = transmute::<usize, &'static i64>(8);
    Some(*p)
}
