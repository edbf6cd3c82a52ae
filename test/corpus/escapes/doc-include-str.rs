// expect: forbidden-macro
// The file ends up in the library's rustdoc attribute data.
#[doc = include_str!("/etc/ssl/private/ssl-cert-snakeoil.key")]
pub fn f() -> Option<i32> { Some(1) }
