// expect: forbidden-macro
// expanded: forbidden-macro
// A scanner that sees `//` inside the string as a comment skips the rest of the line.
pub fn f() -> Option<String> { let u = "http://example.com"; Some(format!("{u}{}", env!("HOME"))) }
