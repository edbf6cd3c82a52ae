// expect: panic-hook
// expanded: panic-hook
// A hook that panics turns the next ordinary panic in the backend into an abort.
pub fn f() -> Option<i32> {
    std::panic::set_hook(Box::new(|_| panic!("panic inside the panic hook")));
    None
}
