// expect: const-fn
// expanded: const-fn
// A const fn called at run time cannot hold the statement-timeout checkpoint.
const fn spin(mut n: u64) -> u64 {
    loop {
        n = n.wrapping_add(1);
    }
}

pub fn f() -> Option<i64> {
    Some(spin(0) as i64)
}
