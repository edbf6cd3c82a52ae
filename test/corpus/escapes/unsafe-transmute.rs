// expect: unsafe
// context: fn-body
let p: &'static mut i32 = unsafe { std::mem::transmute(0x1000usize) };
*p = 1;
Ok(Some(*p))
