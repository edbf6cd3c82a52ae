// expect: projection-input
// expanded: projection-input
// rustc: live
// rust#84366 with no projection among the callee's inputs: a user trait
// returns `I::Item`, implemented for a plain `&'a str` whose impl knows
// `Item = &'a str`; the callee only sees `M: Make<I>` and `I: 'static`
// (implied by `PhantomData<&'static I>`).
use std::fmt::Display;
use std::marker::PhantomData;
trait Make<I: Iterator> {
    fn make(self) -> I::Item;
}
impl<'a, I: Iterator<Item = &'a str>> Make<I> for &'a str {
    fn make(self) -> I::Item {
        self
    }
}
fn marker<I>(_: &I) -> PhantomData<&'static I> {
    PhantomData
}
fn to_static<I: Iterator, M: Make<I>>(_: PhantomData<&'static I>, m: M) -> Box<dyn Display>
where
    I::Item: Display,
{
    Box::new(m.make())
}
fn displayable<'a>(s: &'a str) -> Box<dyn Display> {
    let it = std::iter::from_fn(|| None);
    to_static(marker(&it), s)
}
pub fn f() -> Option<String> {
    let d;
    {
        let s = String::from("freed before use");
        d = displayable(&s);
    }
    Some(d.to_string())
}
