// expect: forbidden-macro
// expanded: forbidden-macro
#[unsafe(naked)]
pub extern "C" fn raw() -> i32 {
    core::arch::naked_asm!("mov eax, 60", "syscall")
}
