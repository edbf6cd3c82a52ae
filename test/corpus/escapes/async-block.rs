// expect: async
pub async fn later() -> i32 {
    1
}
