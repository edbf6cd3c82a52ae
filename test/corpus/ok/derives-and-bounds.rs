// Derives of every std kind, generic structs, impl Iterator + 'a, Fn generics, Box<dyn Error> via ?.
use std::collections::HashMap;
use std::fmt;

#[derive(Debug, Clone, PartialEq, PartialOrd, Default)]
struct Wide {
    a: i32,
    b: i64,
    c: String,
    d: Vec<u8>,
    e: Option<f64>,
    f: bool,
    g: (u8, u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    A,
    B(i32),
    C { x: u8, y: u8 },
}

#[derive(Debug)]
struct Tuple6(u8, u8, u8, u8, u8, u8);

#[derive(Debug, Clone)]
struct Generic<T: Clone, U> {
    t: T,
    u: Vec<U>,
}

struct Matrix {
    rows: Vec<Vec<f64>>,
}

impl fmt::Display for Matrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in &self.rows {
            writeln!(f, "{:?}", r)?;
        }
        Ok(())
    }
}

fn evens<'a>(v: &'a [i32]) -> impl Iterator<Item = &'a i32> + 'a {
    v.iter().filter(|x| *x % 2 == 0)
}

fn apply<F: Fn(i32) -> i32>(f: F, x: i32) -> i32 {
    f(x)
}

fn boxed_err(s: &str) -> Result<i32, Box<dyn std::error::Error>> {
    let n: i32 = s.parse()?;
    if n < 0 {
        return Err("negative".into());
    }
    Ok(n)
}

pub fn derived(n: i32) -> Result<Option<String>, Box<dyn std::error::Error + Send + Sync>> {
    let w = Wide { a: n, ..Default::default() };
    let k = [Kind::A, Kind::B(n), Kind::C { x: 1, y: 2 }];
    let mut counts: HashMap<Kind, usize> = HashMap::new();
    for x in k.iter() {
        *counts.entry(*x).or_insert(0) += 1;
    }
    let mut sorted = k.to_vec();
    sorted.sort();
    let g = Generic { t: w.clone(), u: vec![Tuple6(1, 2, 3, 4, 5, 6)] };
    let m = Matrix { rows: vec![vec![1.0, 2.0], vec![3.0, 4.0]] };
    let ev: Vec<i32> = evens(&[1, 2, 3, 4]).copied().collect();
    let doubled = apply(|x| x * 2, n);
    let parsed = boxed_err("42").map_err(|e| e.to_string())?;
    assert!(w < Wide { a: n + 1, ..Default::default() });
    Ok(Some(format!("{g:?} {m} {ev:?} {doubled} {parsed} {:?} {}", sorted, counts.len())))
}
