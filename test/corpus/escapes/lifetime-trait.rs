// expect: lifetime-trait
// expanded: lifetime-trait
// Implied bounds from a lifetime-parameterised trait (rust#25860 family).
trait Lengthen<'a, 'b, T: ?Sized> {
    fn lengthen(self, x: &'b T) -> &'a T;
}

impl<'a, 'b, T: ?Sized> Lengthen<'a, 'b, T> for &'a &'b () {
    fn lengthen(self, x: &'b T) -> &'a T {
        x
    }
}

pub fn f() -> Option<i32> { None }
