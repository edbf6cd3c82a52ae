// expect: reserved-name
// expanded: reserved-name
// The module named `core` is written by a macro from an argument.
macro_rules! module {
    ($n:ident) => {
        mod $n {
            pub fn id(x: i32) -> i32 {
                x
            }
        }
    };
}
module!(core);
pub fn f() -> Option<i32> {
    Some(core::id(1))
}
