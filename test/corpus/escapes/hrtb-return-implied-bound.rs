// expect: higher-ranked
// expanded: higher-ranked
// The shape of rust#114936 (fixed in 1.7x): an implied bound smuggled in
// through the return type of a higher-ranked FnOnce bound.
fn whoops(s: String, f: impl for<'s> FnOnce(&'s str) -> (&'static str, [&'static &'s (); 0])) -> &'static str {
    f(&s).0
}
pub fn f() -> Option<String> {
    Some(whoops(String::from("x"), |s| ("", [])).to_string())
}
