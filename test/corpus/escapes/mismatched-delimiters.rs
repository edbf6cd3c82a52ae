// expect: unbalanced-delimiters
pub fn f() -> Option<i32> {
    let v = vec![1, 2, 3);
    Some(v[0])
}
