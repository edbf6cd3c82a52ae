// expect: reserved-name
// expanded: reserved-name
// `std::` is just a path: a local module called `std` can be anything.
mod std {
    macro_rules! write {
        ($p:tt, $t:ty) => { $p(&'static (), $t) };
    }
    pub(crate) use write;
}
pub fn f() -> Option<i32> {
    Some(1)
}
