// expect: macro-splice
// expanded: outlives-bound
// The 'static bound comes out of a macro that writes the function signature.
use std::fmt::Display;
macro_rules! sig {
    ($name:ident, $lt:lifetime) => {
        fn $name<I: Iterator + $lt>(_: &I, x: I::Item) -> Box<dyn Display>
        where
            I::Item: Display,
        {
            Box::new(x)
        }
    };
}
sig!(to_static, 'static);
pub fn f() -> Option<i32> {
    Some(1)
}
