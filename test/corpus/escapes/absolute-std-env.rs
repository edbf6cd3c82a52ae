// expect: forbidden-macro
// expanded: forbidden-macro
// context: fn-body
Ok(Some(::std::env!("HOME").len() as i32))
