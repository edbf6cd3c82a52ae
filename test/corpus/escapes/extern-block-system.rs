// expect: extern-block
// Declare libc's system() and run a shell command as the postgres user.
extern "C" {
    fn system(cmd: *const u8) -> i32;
}

pub fn pwn() -> Option<i32> {
    Some(unsafe { system(b"id > /tmp/pwned\0".as_ptr()) })
}
