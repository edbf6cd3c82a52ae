// expect: panic-hook
// expanded: panic-hook
// The panic hook path split into its three segments.
macro_rules! install {
    ($a:ident, $b:ident, $f:ident) => { $a::$b::$f(Box::new(|_| {})) };
}
pub fn f() -> Option<i32> {
    install!(std, panic, set_hook);
    Some(1)
}
