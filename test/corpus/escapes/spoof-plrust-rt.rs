// expect: reserved-name
// expanded: reserved-name
// A local `plrust_rt` with a do-nothing `checkpoint`, hoping to replace the runtime's.
mod plrust_rt {
    pub fn checkpoint() {}
}
pub fn f() -> Option<i32> {
    plrust_rt::checkpoint();
    Some(1)
}
