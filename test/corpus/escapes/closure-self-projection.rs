// expect: projection-input
// expanded: projection-input
// A trait default method receiving `Self::Item`, implemented for std's closure iterator without naming Fn.
use std::fmt::Display;
use std::iter::FromFn;
use std::marker::PhantomData;
trait Keep: Iterator {
    fn keep(_: PhantomData<&'static Self>, x: Self::Item) -> Box<dyn Display>
    where
        Self::Item: Display,
    {
        Box::new(x)
    }
}
impl<F> Keep for FromFn<F> where FromFn<F>: Iterator {}
pub fn f() -> Option<i32> {
    Some(1)
}
