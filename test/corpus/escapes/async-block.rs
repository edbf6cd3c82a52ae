// expect: async
// expanded: async
pub async fn later() -> i32 {
    1
}
