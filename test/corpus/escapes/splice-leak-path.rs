// expect: leak
// expanded: leak
// `Box`, `leak` and the value reach the macro as separate arguments.
macro_rules! call {
    ($t:ident, $m:ident, $v:expr) => { $t::$m($v) };
}
pub fn f() -> Option<i32> {
    let r: &'static mut Vec<u8> = call!(Box, leak, Box::new(vec![0u8; 1 << 20]));
    Some(r.len() as i32)
}
