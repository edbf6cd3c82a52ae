// expect: forbidden-attribute
#[link(name = "c")]
unsafe extern "C" {
    fn unlink(path: *const u8) -> i32;
}

pub fn f() -> Option<i32> { Some(0) }
