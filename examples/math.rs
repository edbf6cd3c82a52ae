//! Ordinary Rust: every `pub fn` becomes a SQL function whose signature is
//! derived from its Rust signature. `Option<T>` arguments accept NULL; a
//! function whose arguments are all plain values is STRICT. Options go in a
//! `/// plrust:` doc-comment line. Private items are helpers.

/// plrust: immutable parallel-safe
pub fn hypotenuse(a: f64, b: f64) -> Option<f64> {
    Some((square(a) + square(b)).sqrt())
}

fn square(x: f64) -> f64 {
    x * x
}

/// The mean of the non-NULL elements; NULL for an empty array.
/// plrust: immutable name=array_mean
pub fn mean(xs: Vec<Option<f64>>) -> Option<f64> {
    let present: Vec<f64> = xs.into_iter().flatten().collect();
    if present.is_empty() {
        return None;
    }
    Some(present.iter().sum::<f64>() / present.len() as f64)
}

/// plrust: immutable
pub fn is_even(n: Option<i64>) -> Option<bool> {
    n.map(|v| v % 2 == 0)
}

/// plrust: immutable
pub fn fizzbuzz(n: i32) -> Result<Option<Vec<Option<String>>>, String> {
    if n < 0 || n > 10_000 {
        return Err(format!("n must be between 0 and 10000, got {n}"));
    }
    Ok(Some(
        (1..=n)
            .map(|i| {
                Some(match (i % 3, i % 5) {
                    (0, 0) => "FizzBuzz".to_string(),
                    (0, _) => "Fizz".to_string(),
                    (_, 0) => "Buzz".to_string(),
                    _ => i.to_string(),
                })
            })
            .collect(),
    ))
}

/// plrust: immutable
pub fn xor_bytes(data: &[u8], key: i16) -> Option<Vec<u8>> {
    let k = key as u8;
    Some(data.iter().map(|b| b ^ k).collect())
}
