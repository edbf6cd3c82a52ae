// context: fn-body
// args: a: Option<i32>, b: Option<i32>
// returns: i32
// An SQL function body as upstream PL/Rust writes it.
let (a, b) = match (a, b) {
    (Some(a), Some(b)) => (a, b),
    _ => return Ok(None),
};
let sum: i32 = [a, b].iter().map(|x| x * 2).sum();
if sum < 0 {
    return Err("negative".into());
}
let parsed: i32 = format!("{sum}").parse()?;
Ok(Some(parsed))
