// expect: macro-splice
// expanded: fn-trait-impl
// The Fn-family trait name is a macro argument.
struct W<F>(F);
trait Tr {
    type Out;
}
macro_rules! imp {
    ($b:ident) => {
        impl<R, F: $b() -> R> Tr for W<F> {
            type Out = R;
        }
    };
}
imp!(FnMut);
pub fn f() -> Option<i32> {
    Some(1)
}
