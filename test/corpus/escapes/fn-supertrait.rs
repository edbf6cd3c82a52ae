// expect: dyn-fn-trait
// expanded: dyn-fn-trait
// No `dyn Fn` is written: the subtrait's objects are Fn objects in disguise.
trait Expand<T: 'static>: for<'x> Fn(&'x T) -> &'static T {}
impl<T: 'static, F: for<'x> Fn(&'x T) -> &'static T> Expand<T> for F {}

fn apply(f: &dyn Expand<u8>, x: &u8) -> u8 {
    *f(x)
}

pub fn g() -> Option<i32> {
    let _ = apply;
    None
}
