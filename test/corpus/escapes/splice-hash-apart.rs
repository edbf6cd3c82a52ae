// expect: path-attribute
// `#` and the bracketed `path` attribute arrive as separate arguments.
macro_rules! attach {
    ($h:tt, $a:tt, $n:ident) => {
        $h $a mod $n {}
    };
}
attach!(#, [path = "/etc/passwd"], m);
pub fn f() -> Option<i32> {
    Some(1)
}
