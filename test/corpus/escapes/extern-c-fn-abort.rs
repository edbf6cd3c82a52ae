// expect: extern-fn
// expanded: extern-fn
// A panic inside an `extern "C"` function cannot unwind: the process aborts
// (SIGABRT), taking the backend and every other session with it.
extern "C" fn boom(x: i32) -> i32 {
    if x > 0 { panic!("abort the backend") }
    x
}

pub fn call(x: i32) -> Option<i32> {
    Some(boom(x))
}
