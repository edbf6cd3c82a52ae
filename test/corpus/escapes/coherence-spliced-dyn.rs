// expect: macro-splice
// expanded: dyn-assoc-binding
// The object type comes out of a macro that receives `dyn` as a token.
trait Object<U> {
    type Output;
}
impl<T: ?Sized, U> Object<U> for T {
    type Output = U;
}
macro_rules! object {
    ($d:tt $($rest:tt)*) => { $d $($rest)* };
}
fn foo<T: ?Sized, U>(x: <T as Object<U>>::Output) -> U {
    x
}
fn transmute<T, U>(x: T) -> U {
    foo::<object!(dyn Object<U, Output = T>), U>(x)
}
pub fn f() -> Option<i64> {
    Some(*transmute::<usize, &'static i64>(16))
}
