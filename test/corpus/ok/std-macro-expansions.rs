// Std macros whose expansions use unsafe, #[thread_local] and closures (thread_local!, vec!, format!, assert!, matches!, write!), a #[default] variant, Box<dyn Trait>.
use std::collections::{BTreeMap, HashMap, HashSet};
use std::error::Error;
use std::fmt::{self, Display, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
struct Point {
    x: i64,
    y: i64,
}

#[derive(Debug, Default, Clone, PartialEq)]
enum Mode {
    #[default]
    Fast,
    Slow(u32),
}

struct Wrapper<T>(T);

impl<T: Display> Display for Wrapper<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}]", self.0)
    }
}

trait Describe {
    fn describe(&self) -> String;
}

impl Describe for Point {
    fn describe(&self) -> String {
        format!("({}, {})", self.x, self.y)
    }
}

thread_local! {
    static COUNTER: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

fn parse_all(xs: &[&str]) -> Result<Vec<i64>, Box<dyn Error>> {
    let mut out = Vec::new();
    for x in xs {
        out.push(x.trim().parse::<i64>()?);
    }
    Ok(out)
}

fn largest<T: PartialOrd + Copy>(xs: &[T]) -> Option<T> {
    xs.iter().copied().fold(None, |m, x| match m {
        Some(v) if v >= x => Some(v),
        _ => Some(x),
    })
}

fn shapes() -> Vec<Box<dyn Describe>> {
    vec![Box::new(Point { x: 1, y: 2 }), Box::new(Point::default())]
}

pub fn kitchen(input: &str) -> Result<Option<String>, Box<dyn Error + Send + Sync>> {
    let nums = parse_all(&input.split(',').collect::<Vec<_>>()).map_err(|e| e.to_string())?;
    assert!(nums.len() < 1000, "too many: {}", nums.len());
    debug_assert_eq!(nums.len(), nums.iter().count());
    let mut seen = HashSet::new();
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for n in &nums {
        seen.insert(*n);
        *counts.entry(*n).or_default() += 1;
    }
    let sorted: BTreeMap<_, _> = counts.into_iter().collect();
    let mut s = String::new();
    for (k, v) in &sorted {
        writeln!(s, "{k}={v}").map_err(|e| e.to_string())?;
    }
    let mode = if matches!(nums.first(), Some(0)) { Mode::Slow(3) } else { Mode::default() };
    let p = Point { x: largest(&nums).unwrap_or(0), y: seen.len() as i64 };
    COUNTER.with(|c| c.set(c.get() + 1));
    let described: Vec<String> = shapes().iter().map(|d| d.describe()).collect();
    let w = Wrapper(p.describe());
    if nums.is_empty() {
        unreachable!("split always yields one piece");
    }
    let label = concat!("line ", stringify!(here));
    let _ = (line!(), column!(), file!(), module_path!(), cfg!(target_os = "linux"));
    Ok(Some(format!("{s}{mode:?} {w} {} {label} {:>8.2}", described.join(";"), 1.5f64)))
}
