// expect: blanket-impl
// expanded: blanket-impl
// The same with the projection written in the impl header instead of an alias.
trait Trait<T> {
    type Assoc;
}
struct Hider;
trait Hide {
    type Hidden: ?Sized;
}
impl Hide for Hider {
    type Hidden = dyn Trait<u8, Assoc = u64>;
}
impl<T> Trait<T> for <Hider as Hide>::Hidden {
    type Assoc = &'static str;
}
fn go<T>(x: <<Hider as Hide>::Hidden as Trait<T>>::Assoc) -> &'static str {
    x
}
pub fn f() -> Option<String> {
    Some(go::<u8>(0x1000).to_string())
}
