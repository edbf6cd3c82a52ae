// expect: outlives-bound
// expanded: outlives-bound
// The same through `Map` (Item = the closure's return type) and a where clause.
use std::fmt::Debug;
fn keep<I>(_: &I, x: I::Item) -> Box<dyn Debug>
where
    I: Iterator + 'static,
    I::Item: Debug,
{
    Box::new(x)
}
fn debuggable<'a>(v: &'a Vec<u8>) -> Box<dyn Debug> {
    let it = std::iter::empty::<u8>().map(|_| -> &'a Vec<u8> { unreachable!() });
    keep(&it, v)
}
pub fn f() -> Option<String> {
    let d = debuggable(&vec![1, 2, 3]);
    Some(format!("{d:?}"))
}
