// expect: path-attribute
// Compile /etc/passwd as a module: its contents appear in rustc's errors.
#[path = "/etc/passwd"]
mod passwd;

pub fn f() -> Option<i32> { Some(0) }
