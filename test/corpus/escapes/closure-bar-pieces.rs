// expect: uninstrumentable
// expanded: uninstrumentable
// context: fn-body
// Closure bars passed one at a time, to be glued together by a macro.
macro_rules! glue {
    (($a:tt) ($x:ident) ($b:tt) ($e:expr)) => { $a $x $b $e };
}
let f = glue!((|) (x) (|) (x + 1));
Ok(Some(std::iter::repeat(1).map(f).count() as i32))
