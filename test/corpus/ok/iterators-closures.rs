// Iterators, expression and block closures, `impl Fn` parameters, match.
fn apply_twice(f: impl Fn(i64) -> i64, x: i64) -> i64 {
    f(f(x))
}

fn make_adder(n: i64) -> impl Fn(i64) -> i64 {
    move |x| x + n
}

fn classify(x: i64) -> &'static str {
    match x {
        i64::MIN..=-1 => "negative",
        0 => "zero",
        1 | 2 | 3 => "small",
        _ if x % 2 == 0 => "even",
        _ => "odd",
    }
}

pub fn stats(xs: Vec<Option<i64>>) -> Option<String> {
    let values: Vec<i64> = xs.iter().filter_map(|x| *x).collect();
    let evens = values.iter().filter(|&&v| v % 2 == 0).count();
    let doubled: Vec<i64> = values.iter().map(|v| {
        let d = v * 2;
        d
    }).collect();
    let mut sorted = doubled.clone();
    sorted.sort_by_key(|v| std::cmp::Reverse(*v));
    let labels: Vec<&str> = values.iter().map(|v| classify(*v)).collect();
    let bumped = apply_twice(make_adder(3), values.len() as i64);
    let any_big = values.iter().any(|v| *v > 100 || *v < -100);
    let flags = values.iter().fold(0u8, |acc, v| acc | (*v as u8 & 1));
    Some(format!("{evens} {sorted:?} {labels:?} {bumped} {any_big} {flags}"))
}
