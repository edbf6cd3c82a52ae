//! `json` and `jsonb` as `Json(serde_json::Value)` and `JsonB(serde_json::Value)`.
//! They travel as JSON text: PostgreSQL's json_out/jsonb_out one way,
//! json_in/jsonb_in the other, so what PostgreSQL stores is what it would
//! have parsed itself.
use core::fmt;

/// `json`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Json(pub serde_json::Value);

/// `jsonb`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JsonB(pub serde_json::Value);

impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Display for JsonB {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<serde_json::Value> for Json {
    fn from(v: serde_json::Value) -> Json {
        Json(v)
    }
}

impl From<serde_json::Value> for JsonB {
    fn from(v: serde_json::Value) -> JsonB {
        JsonB(v)
    }
}
