// expect: blanket-impl
// expanded: fn-trait-impl
// rustc: live
// rust#84366 as reported: the closure's type is 'static although it returns
// a borrow, so the borrow comes out as a 'static trait object.
use std::fmt::Display;
trait Trait {
    type Associated;
}
impl<R, F: Fn() -> R> Trait for F {
    type Associated = R;
}
fn to_static<T: Trait + 'static>(_: &T, x: T::Associated) -> Box<dyn Display>
where
    T::Associated: Display,
{
    Box::new(x)
}
fn displayable<'a>(s: &'a str) -> Box<dyn Display> {
    let f = || -> &'a str { "" };
    to_static(&f, s)
}
pub fn f() -> Option<String> {
    let d;
    {
        let s = String::from("freed before use");
        d = displayable(&s);
    }
    Some(d.to_string())
}
