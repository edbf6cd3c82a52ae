// expect: dyn-generic-arg
// expanded: dyn-generic-arg
// rustc: live
// rust#152783: `impl Trait for dyn Trait` through an associated-type alias; no macro, no blanket impl.
type Src = Vec<u8>;
type Dst = String;
trait Trait<T> {
    type Assoc;
}
struct Dummy;
trait DummyTrait {
    type DummyAssoc: ?Sized;
}
impl DummyTrait for Dummy {
    type DummyAssoc = dyn Trait<i32, Assoc = Src>;
}
type Alias = <Dummy as DummyTrait>::DummyAssoc;
impl<T> Trait<T> for Alias {
    type Assoc = Dst;
}
fn foo<T>(x: <Alias as Trait<T>>::Assoc) -> Dst {
    x
}
pub fn f() -> Option<String> {
    Some(foo::<i32>(vec![0xff, 0xfe]))
}
