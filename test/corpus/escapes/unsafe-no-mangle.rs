// expect: forbidden-attribute
#[unsafe(no_mangle)]
pub fn ExecutorStart_hook() -> i32 {
    0
}
