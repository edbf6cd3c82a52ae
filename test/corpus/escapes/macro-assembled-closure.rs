// expect: uninstrumentable
// expanded: uninstrumentable
// The closure bars come from one closure, the body from elsewhere: the
// resulting closure has no checkpoint and std's loop calls it forever.
macro_rules! assemble {
    ($bar1:tt $x:ident $bar2:tt $checked:tt, $body:expr) => { $bar1 $x $bar2 $body };
}

pub fn spin() -> Option<i64> {
    Some(std::iter::repeat(0u8).map(assemble!(|x| 0, x as i64)).count() as i64)
}
