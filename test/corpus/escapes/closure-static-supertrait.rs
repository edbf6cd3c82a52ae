// expect: outlives-bound
// expanded: outlives-bound
// A user trait with a 'static supertrait, implemented by std's closure-driven iterator.
use std::fmt::Display;
trait Forever: 'static {}
impl<T: Iterator + ?Sized> Forever for T where T: Sized {}
fn to_static<I: Iterator + Forever>(_: &I, x: I::Item) -> Box<dyn Display>
where
    I::Item: Display,
{
    Box::new(x)
}
pub fn f() -> Option<i32> {
    Some(1)
}
