// expect: forbidden-macro
// expanded: forbidden-macro
// A scanner that treats `\"` as an escaped quote without honouring `\\` keeps
// the string open past its real end and misses the macro.
pub fn f() -> Option<String> {
    let a = "\\"; let s = include_str!("/etc/passwd"); let b = "\\";
    Some(format!("{a}{s}{b}"))
}
