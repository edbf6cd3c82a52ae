// expect: lex-error
// Block comments nest: the inner `/*` needs its own `*/`, so this comment
// swallows the rest of the file, including the wrapper's closing brace.
pub fn f() -> Option<i32> { Some(1) }
/* outer /* inner */
