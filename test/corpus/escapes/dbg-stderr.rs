// expect: stdio-macro
// expanded: stdio-macro
pub fn f(x: i32) -> Option<i32> {
    Some(dbg!(x) + 1)
}
