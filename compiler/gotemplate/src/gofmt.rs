//! Go's `fmt` formatting (placeholder for quoting and %v, completed next).

use crate::value::Value;

/// Go's `strconv.Quote`.
pub fn quote(s: &str) -> String {
    format!("{s:?}")
}

/// Go's `fmt.Sprint(v)`.
pub fn sprint_value(v: &Value) -> String {
    format!("{v:?}")
}
