// expect: out-of-line-module
// `mod x;` completed by a `;` handed to the macro: rustc would read a file
// while expanding, before any check of the expansion could run.
macro_rules! load {
    ($name:ident $end:tt) => {
        mod $name $end
    };
}
load!(secrets;);
pub fn f() -> Option<i32> {
    Some(1)
}
