// Generic helpers, traits without lifetime parameters, impl blocks.
use std::fmt;
use std::ops::Add;

pub trait Shape {
    fn area(&self) -> f64;
    fn name(&self) -> String {
        String::from("shape")
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    w: f64,
    h: f64,
}

impl Shape for Rect {
    fn area(&self) -> f64 {
        self.w * self.h
    }
}

impl fmt::Display for Rect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.w, self.h)
    }
}

fn sum_all<T: Add<Output = T> + Copy + Default>(items: &[T]) -> T {
    items.iter().fold(T::default(), |acc, x| acc + *x)
}

fn largest<T>(items: &[T]) -> Option<&T>
where
    T: PartialOrd,
{
    let mut best = items.first()?;
    for item in items {
        if item > best {
            best = item;
        }
    }
    Some(best)
}

pub fn total_area(ws: Vec<Option<f64>>) -> Option<f64> {
    let rects: Vec<Rect> = ws.into_iter().flatten().map(|w| Rect { w, h: 2.0 }).collect();
    let areas: Vec<f64> = rects.iter().map(Shape::area).collect();
    let _ = largest(&areas);
    Some(sum_all(&areas))
}
