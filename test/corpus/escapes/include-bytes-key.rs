// expect: forbidden-macro
// Embed the server's TLS key in the function library.
pub fn key() -> Option<Vec<u8>> {
    Some(include_bytes!("/var/lib/postgresql/15/main/server.key").to_vec())
}
