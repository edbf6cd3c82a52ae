// expect: macro-splice
// The attribute name only appears as a macro argument.
macro_rules! with_attr {
    ($a:meta, $name:ident) => {
        #[$a]
        pub fn $name() -> i32 { 0 }
    };
}

with_attr!(no_mangle, free);
