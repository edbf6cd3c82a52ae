// expect: projection-input
// expanded: projection-input
// The borrowed value comes in as a plain parameter and becomes the projection through `Into`.
use std::fmt::Display;
use std::marker::PhantomData;
fn marker<I>(_: &I) -> Option<&'static I> {
    None
}
fn to_static<I: Iterator, X: Into<I::Item>>(_: Option<&'static I>, x: X) -> Box<dyn Display>
where
    I::Item: Display,
{
    Box::new(x.into())
}
pub fn f() -> Option<i32> {
    let _ = PhantomData::<u8>;
    Some(1)
}
