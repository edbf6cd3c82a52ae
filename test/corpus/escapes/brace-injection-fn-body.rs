// expect: unbalanced-delimiters
// context: fn-body
// Close the generated function body early and smuggle in an item.
Ok(Some(1))
}

pub fn smuggled() -> i32 {
    42
