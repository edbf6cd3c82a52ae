// expect: outlives-bound
// expanded: outlives-bound
// rustc: live
// rust#84366 with std's own impl: `FromFn<F>` is an Iterator whose Item is
// the closure's return type; with `I: 'static` the compiler takes `I::Item`
// to be 'static too, and a borrowed `&str` leaves as a `Box<dyn Display>`.
// No user impl, no fn pointer, no trait object with a binding.
use std::fmt::Display;
fn to_static<I: Iterator + 'static>(_: &I, x: I::Item) -> Box<dyn Display>
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
    let d;
    {
        let s = String::from("freed before use");
        d = displayable(&s);
    }
    Some(d.to_string())
}
