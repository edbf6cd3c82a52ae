// expect: macro-splice
// expanded: fn-pointer-type
// A macro that writes a macro: the fn-pointer type is built by the second one.
macro_rules! make {
    ($name:ident, $d:tt) => {
        macro_rules! $name {
            ($d($d t:tt)*) => { $d($d t)* };
        }
    };
}
make!(ty, $);
static UNIT: &&() = &&();
fn tr<'a, 'b, T: ?Sized>(_w: &'a &'b (), v: &'b T) -> &'a T {
    v
}
pub fn f() -> Option<i32> {
    let g: ty!(for<'x> fn(&'static &'static (), &'x i32) -> &'static i32) = tr;
    let r = {
        let v = 7;
        g(UNIT, &v)
    };
    Some(*r)
}
