// expect: forbidden-macro
// context: fn-body
// The build environment often carries credentials.
Ok(Some(env!("PGPASSWORD").to_string()))
