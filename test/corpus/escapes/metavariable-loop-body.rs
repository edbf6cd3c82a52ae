// expect: uninstrumentable
// expanded: uninstrumentable
// The loop body comes from a macro argument, so there are no braces at the
// `loop` to put the statement-timeout checkpoint in.
macro_rules! forever {
    ($body:block) => { loop $body };
}

pub fn f() -> Option<i32> {
    forever!({ let _ = 1; });
}
