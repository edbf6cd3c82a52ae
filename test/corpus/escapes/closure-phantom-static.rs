// expect: projection-input
// expanded: projection-input
// rustc: live
// rust#84366, std only and with no outlives bound written: `PhantomData<&'static I>`
// in the signature implies `I: 'static`, and so `I::Item: 'static` for the
// borrowed value handed in as `I::Item`.
use std::fmt::Display;
use std::marker::PhantomData;
fn marker<I>(_: &I) -> PhantomData<&'static I> {
    PhantomData
}
fn to_static<I: Iterator>(_: PhantomData<&'static I>, x: I::Item) -> Box<dyn Display>
where
    I::Item: Display,
{
    Box::new(x)
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
