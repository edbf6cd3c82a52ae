// expect: forbidden-attribute
// expanded: forbidden-attribute
// Instructions the server's CPU may lack kill the backend with SIGILL.
#[target_feature(enable = "avx512f")]
fn fast() -> i32 {
    1
}

pub fn f() -> Option<i32> { Some(0) }
