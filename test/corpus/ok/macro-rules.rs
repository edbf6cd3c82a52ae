// macro_rules with repetitions; loops and closures inside transcribers.
macro_rules! square_fns {
    ($($name:ident => $t:ty),* $(,)?) => {
        $(
            fn $name(x: $t) -> $t {
                let mut acc = 0 as $t;
                for _ in 0..x {
                    acc += x;
                }
                acc
            }
        )*
    };
}

square_fns!(square_i32 => i32, square_i64 => i64);

macro_rules! max_of {
    ($x:expr) => { $x };
    ($x:expr, $($rest:expr),+) => {{
        let a = $x;
        let b = max_of!($($rest),+);
        if a > b { a } else { b }
    }};
}

macro_rules! sum_with {
    ($v:expr, $f:expr) => { $v.iter().map($f).sum::<i64>() };
}

pub fn demo(a: i32, b: i64) -> Option<i64> {
    let m = max_of!(square_i32(a) as i64, square_i64(b), 7);
    let s = sum_with!(vec![1i64, 2, 3], |x: &i64| x * m);
    Some(s)
}
