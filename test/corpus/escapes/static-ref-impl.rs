// expect: static-ref-impl
// expanded: static-ref-impl
trait Extend<T: ?Sized> {
    fn extend(&self, x: &T) -> &'static T;
}

impl<T: ?Sized> Extend<T> for &'static T {
    fn extend(&self, x: &T) -> &'static T {
        let _ = x;
        self
    }
}

pub fn f() -> Option<i32> { None }
