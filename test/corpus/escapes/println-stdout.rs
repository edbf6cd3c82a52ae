// expect: stdio-macro
// expanded: stdio-macro
// context: fn-body
println!("writing into the postmaster's log stream");
Ok(Some(1))
