// expect: forbidden-macro
use std::arch::asm;

pub fn read_pointer() -> Option<i64> {
    let x: i64;
    unsafe { asm!("mov {}, rsp", out(reg) x) };
    Some(x)
}
