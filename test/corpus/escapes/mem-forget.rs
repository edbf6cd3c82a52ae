// expect: mem-forget
// expanded: mem-forget
// context: fn-body
let guard = vec![0u8; 1024];
std::mem::forget(guard);
Ok(Some(1))
