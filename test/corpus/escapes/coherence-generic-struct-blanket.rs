// expect: blanket-impl
// expanded: blanket-impl
// Blanket impl through a projection on a type parameter (`T::Item`).
trait Pick {
    type Out: ?Sized;
}
trait Tr<U> {
    type Assoc;
}
struct Dummy;
impl Pick for Dummy {
    type Out = str;
}
impl<T: Pick> Tr<u8> for T::Out {
    type Assoc = u8;
}
pub fn f() -> Option<i32> {
    Some(1)
}
