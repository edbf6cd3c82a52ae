// expect: forbidden-macro
// Define a symbol in assembly that interposes on a libc function.
std::arch::global_asm!(".globl getenv", "getenv:", "xor eax, eax", "ret");

pub fn f() -> Option<i32> {
    Some(0)
}
