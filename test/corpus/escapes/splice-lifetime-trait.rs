// expect: macro-splice
// expanded: lifetime-trait
// A lifetime-parameterised trait declared by a macro from pieces.
macro_rules! declare {
    ($kw:tt $name:ident $lt:lifetime) => {
        $kw $name<$lt> {
            fn get(&self) -> &$lt str;
        }
    };
}
declare!(trait Holder 'a);
pub fn f() -> Option<i32> {
    Some(1)
}
