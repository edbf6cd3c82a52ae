// expect: macro-splice
// expanded: dyn-fn-trait
// `dyn` and `Fn` reach the macro apart and meet in its expansion.
macro_rules! object {
    ($d:tt $t:ident) => { Box<$d $t(&u8) -> u8> };
}
pub fn f() -> Option<i32> {
    let g: object!(dyn Fn) = Box::new(|x| *x);
    Some(g(&1) as i32)
}
