// expect: forbidden-attribute
#[export_name = "pg_finfo_plrust_call_handler"]
pub fn hijack() -> i32 {
    1
}
