// expect: dyn-generic-arg
// expanded: dyn-generic-arg
// The trait object hides behind a generic type alias; the turbofish names only the alias.
trait Object<U> {
    type Output;
}
impl<T: ?Sized, U> Object<U> for T {
    type Output = U;
}
type Obj<U, T> = dyn Object<U, Output = T>;
fn foo<T: ?Sized, U>(x: <T as Object<U>>::Output) -> U {
    x
}
fn transmute<T, U>(x: T) -> U {
    foo::<Obj<U, T>, U>(x)
}
pub fn f() -> Option<i32> {
    let v: Vec<u8> = transmute::<String, Vec<u8>>(String::from("x"));
    Some(v.len() as i32)
}
