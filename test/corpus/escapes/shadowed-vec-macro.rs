// expect: uninstrumentable
// expanded: uninstrumentable
// A user macro named like a std macro is still a user macro.
macro_rules! vec {
    ($k:ident $checked:block, $bare:block) => { $k $bare };
}

pub fn spin() -> Option<i32> {
    vec![loop {}, {}];
}
