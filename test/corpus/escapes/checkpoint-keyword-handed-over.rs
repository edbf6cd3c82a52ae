// expect: uninstrumentable
// expanded: uninstrumentable
// `loop` reaches the macro as a bare token and the macro supplies the body:
// the loop only exists after expansion, without the statement-timeout checkpoint.
macro_rules! run {
    ($k:tt) => { $k { let _ = 1; } };
}
pub fn f() -> Option<i32> {
    run!(loop);
    Some(1)
}
