// expect: reserved-name
// expanded: reserved-name
// A local `core` module re-exports a user macro, so `core::body!` looks like
// a standard macro; the loop handed to it loses its checkpoint.
mod core {
    macro_rules! body {
        ($k:tt $b:block) => { $k {} };
    }
    pub(crate) use body;
}
pub fn f() -> Option<i32> {
    core::body!(loop { let _ = 1; });
    Some(1)
}
