// expect: dyn-assoc-binding
// expanded: dyn-assoc-binding
// rust#80800: the binding comes from a supertrait that equates two associated types.
trait Super {
    type A;
    type B;
}
trait Sub: Super<A = <Self as Super>::B> {}
fn foo<A, B, T: ?Sized>(x: T::A) -> B
where
    T: Sub<B = B>,
{
    x
}
fn transmute<A, B>(x: A) -> B {
    foo::<A, B, dyn Sub<A = A, B = B>>(x)
}
pub fn f() -> Option<i32> {
    let s: &'static [u8; 4096] = transmute::<&u8, &[u8; 4096]>(&0);
    Some(s[4095] as i32)
}
