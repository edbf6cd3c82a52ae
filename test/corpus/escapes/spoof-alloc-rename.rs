// expect: reserved-name
// expanded: reserved-name
// A user module imported under the crate name `alloc`.
mod inner {
    macro_rules! vec_of {
        ($($t:tt)*) => { [$($t)*] };
    }
    pub(crate) use vec_of;
}
use inner as alloc;
pub fn f() -> Option<i32> {
    let a = alloc::vec_of!(1, 2, 3);
    Some(a.len() as i32)
}
