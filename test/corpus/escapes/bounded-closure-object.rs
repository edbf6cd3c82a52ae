// expect: dyn-fn-trait
// expanded: dyn-fn-trait
// rust#118876 as reported (rustc 1.96 itself rejects this form): a boxed
// closure returning a struct whose second lifetime must be 'static.
fn extend<T>(input: &T) -> &'static T {
    struct Bounded<'a, 'b: 'static, T>(&'a T, [&'b (); 0]);
    let n: Box<dyn FnOnce(&T) -> Bounded<'static, '_, T>> = Box::new(|x| Bounded(x, []));
    n(input).0
}
pub fn f() -> Option<i32> {
    Some(*extend(&1))
}
