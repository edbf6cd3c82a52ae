// expect: static-ref-impl
// expanded: static-ref-impl
// The `&'static` is hidden behind a type alias.
type Forever<T> = &'static T;

trait Stretch {
    fn stretch(self) -> usize;
}

impl<T> Stretch for Forever<T> {
    fn stretch(self) -> usize { 0 }
}

pub fn f() -> Option<i32> { None }
