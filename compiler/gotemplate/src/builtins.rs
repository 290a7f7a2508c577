//! Go's predefined template functions.

pub(crate) fn is_builtin(name: &str) -> bool {
    matches!(
        name,
        "and" | "or" | "not" | "len" | "index" | "slice" | "print" | "printf" | "println" | "eq"
            | "ne" | "lt" | "le" | "gt" | "ge" | "html" | "js" | "urlquery" | "call"
    )
}
