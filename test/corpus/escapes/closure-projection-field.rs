// expect: projection-input
// expanded: projection-input
// The projection travels in a struct field; the struct's PhantomData implies the 'static bound.
use std::fmt::Display;
use std::marker::PhantomData;
struct Carry<I: Iterator> {
    item: I::Item,
    pin: PhantomData<&'static I>,
}
fn keep<I: Iterator>(c: Carry<I>) -> Box<dyn Display>
where
    I::Item: Display,
{
    Box::new(c.item)
}
pub fn f() -> Option<i32> {
    Some(1)
}
