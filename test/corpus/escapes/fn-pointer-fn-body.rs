// expect: fn-pointer-type
// expanded: fn-pointer-type
// context: fn-body
let f: fn(&'static str) -> usize = str::len;
Ok(Some(f("x") as i32))
