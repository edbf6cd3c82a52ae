// expect: blanket-impl
// expanded: blanket-impl
// rustc: live
// rust#100051: implied bounds from a projection in an impl header; the impl
// for `<&'b &'a () as Trait>::Type` (which is `()`) assumes 'a: 'b.
trait Trait {
    type Type;
}
impl<T> Trait for T {
    type Type = ();
}
trait Extend<'a, 'b> {
    fn extend(self, s: &'a str) -> &'b str;
}
impl<'a, 'b> Extend<'a, 'b> for <&'b &'a () as Trait>::Type
where
    for<'what, 'ever> &'what &'ever (): Trait,
{
    fn extend(self, s: &'a str) -> &'b str {
        s
    }
}
pub fn f() -> Option<String> {
    let y = <() as Extend<'_, '_>>::extend((), &String::from("freed at the semicolon"));
    Some(y.to_string())
}
