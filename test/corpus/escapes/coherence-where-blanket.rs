// expect: blanket-impl
// expanded: blanket-impl
// The blanket impl spelled with a where clause, and the object named by a qualified path.
trait Convert<U> {
    type Into;
}
impl<X, U> Convert<U> for X
where
    X: ?Sized,
{
    type Into = U;
}
fn pass<X: ?Sized, U>(v: <X as Convert<U>>::Into) -> U {
    v
}
fn cast<A, B>(a: A) -> B {
    pass::<<dyn Convert<B, Into = A> as Convert<B>>::Into, B>(a)
}
pub fn f() -> Option<i32> {
    let n: u32 = cast::<f32, u32>(1.0);
    Some(n as i32)
}
