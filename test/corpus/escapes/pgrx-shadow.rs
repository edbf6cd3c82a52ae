// expect: reserved-name
// expanded: reserved-name
// A module named `pgrx` would stand in for the runtime the generated crate names `pgrx`: `pgrx::AnyNumeric` would be the user's.
mod pgrx {
    pub mod prelude {
        pub struct AnyNumeric;
    }
}

use pgrx::prelude::*;

pub fn f() -> Option<i32> {
    let _n = AnyNumeric;
    Some(1)
}
