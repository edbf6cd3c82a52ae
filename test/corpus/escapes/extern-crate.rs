// expect: extern-crate
// Pull in a crate that is not the restricted std.
extern crate libc;

pub fn uid() -> Option<i64> {
    Some(unsafe { libc::getuid() } as i64)
}
