// expect: forbidden-attribute
// An unmangled symbol lands in the backend's global symbol namespace.
#[no_mangle]
pub fn pg_detoast_datum(x: i64) -> i64 {
    x
}
