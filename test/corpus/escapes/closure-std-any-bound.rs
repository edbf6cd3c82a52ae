// expect: outlives-bound
// expanded: outlives-bound
// `Any` has a 'static supertrait: `I: Any` is `I: 'static` in disguise.
use std::any::Any;
use std::fmt::Display;
fn to_static<I: Iterator + Any>(_: &I, x: I::Item) -> Box<dyn Display>
where
    I::Item: Display,
{
    Box::new(x)
}
fn displayable<'a>(s: &'a str) -> Box<dyn Display> {
    let it = std::iter::from_fn(|| -> Option<&'a str> { None });
    to_static(&it, s)
}
pub fn f() -> Option<String> {
    Some(displayable("x").to_string())
}
