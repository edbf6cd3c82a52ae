// expect: dyn-impl
// expanded: dyn-impl
// An impl for a trait object of another trait, whose projection can disagree with the object's own.
trait Shape {
    type Unit;
}
trait Other {}
impl Shape for dyn Other {
    type Unit = &'static u8;
}
pub fn f() -> Option<i32> {
    Some(1)
}
