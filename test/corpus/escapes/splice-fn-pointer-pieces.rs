// expect: macro-splice
// expanded: fn-pointer-type
// cve-rs with the fn-pointer type assembled by a macro from `fn` and its
// argument list handed over as separate tokens: no `fn (` in the source.
macro_rules! ptr {
    ($k:tt, $args:tt => $r:ty) => { for<'x> $k $args -> $r };
}
static UNIT: &&() = &&();
fn tr<'a, 'b, T: ?Sized>(_w: &'a &'b (), v: &'b T) -> &'a T {
    v
}
fn expand<'a, 'b, T: ?Sized>(x: &'a T) -> &'b T {
    let f: ptr!(fn, (_, &'x T) => &'b T) = tr;
    f(UNIT, x)
}
pub fn f() -> Option<i32> {
    let r;
    {
        let v = vec![7];
        r = expand(&v[0]);
    }
    Some(*r)
}
