// expect: macro-splice
// expanded: dyn-generic-arg
// The associated type that names the object is written by a macro from pieces.
trait Trait<T> {
    type Assoc;
}
struct Dummy;
trait DummyTrait {
    type DummyAssoc: ?Sized;
}
macro_rules! assoc {
    ($ty:ident, $d:tt, $($rest:tt)*) => {
        impl DummyTrait for Dummy {
            type $ty = $d $($rest)*;
        }
    };
}
assoc!(DummyAssoc, dyn, Trait<i32, Assoc = Vec<u8>>);
type Alias = <Dummy as DummyTrait>::DummyAssoc;
impl<T> Trait<T> for Alias {
    type Assoc = String;
}
pub fn f() -> Option<i32> {
    Some(1)
}
