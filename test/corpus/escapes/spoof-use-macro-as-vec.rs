// expect: reserved-name
// expanded: reserved-name
// A user macro brought in under the standard name `vec`.
mod m {
    macro_rules! splice {
        ($($t:tt)*) => { Vec::<u8>::new() };
    }
    pub(crate) use splice;
}
use m::splice as vec;
pub fn f() -> Option<i32> {
    let v = vec![0];
    Some(v.len() as i32)
}
