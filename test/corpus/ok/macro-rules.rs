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

// Closures live in the transcriber: user macros may not be handed closures,
// loops or fns as arguments (they could strip the runaway-loop checkpoint).
macro_rules! scaled_sum {
    ($v:expr, $m:expr) => { $v.iter().map(|x| x * $m).sum::<i64>() };
}

pub fn demo(a: i32, b: i64) -> Option<i64> {
    let m = max_of!(square_i32(a) as i64, square_i64(b), 7);
    let s = scaled_sum!(vec![1i64, 2, 3], m);
    Some(s)
}
