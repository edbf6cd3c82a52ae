// expect: forbidden-macro
pub fn trap() -> Option<i32> {
    unsafe { core::arch::asm!("ud2") };
    None
}
