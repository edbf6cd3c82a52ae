// expect: leak
// expanded: leak
// context: fn-body
let s: &'static mut str = String::from("x").leak();
Ok(Some(s.len() as i32))
