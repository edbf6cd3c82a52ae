// expect: lex-error
// An unterminated string would swallow the generated code that follows.
pub fn f() -> Option<String> {
    Some("never closed.to_string())
}
