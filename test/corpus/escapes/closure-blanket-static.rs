// expect: fn-trait-impl
// expanded: fn-trait-impl
// rust#84366: a closure type is 'static while its borrowed return type is
// not; the blanket impl projects the return type out as if it were 'static.
use std::cell::RefCell;
trait Launder {
    type Out;
    fn run(self) -> Self::Out;
}
impl<R, F: FnOnce() -> R> Launder for F {
    type Out = R;
    fn run(self) -> R {
        self()
    }
}
fn keep<T: Launder + 'static>(t: T) -> Box<T::Out>
where
    T::Out: 'static,
{
    Box::new(t.run())
}
thread_local! {
    static KEPT: RefCell<Vec<Box<dyn std::any::Any>>> = RefCell::new(Vec::new());
}
pub fn f(s: String) -> Option<i32> {
    let r: &str = &s;
    let b = keep(move || r);
    KEPT.with(|k| k.borrow_mut().push(b));
    Some(1)
}
