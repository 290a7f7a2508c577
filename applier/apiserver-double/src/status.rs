//! Errors shaped as `Status` objects, with the reasons and codes the API server uses.

use serde_json::{Value, json};

/// An API error: HTTP code plus the `Status` body.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: u16,
    pub body: Value,
}

impl ApiError {
    pub fn new(
        code: u16,
        reason: &str,
        message: impl Into<String>,
        details: Option<Value>,
    ) -> Self {
        let mut body = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message.into(),
            "reason": reason,
            "code": code,
        });
        if let Some(d) = details {
            body["details"] = d;
        }
        ApiError { code, body }
    }

    pub fn not_found(group: &str, plural: &str, name: &str) -> Self {
        let qualified = if group.is_empty() {
            plural.to_string()
        } else {
            format!("{plural}.{group}")
        };
        ApiError::new(
            404,
            "NotFound",
            format!("{qualified} \"{name}\" not found"),
            Some(json!({"name": name, "group": group, "kind": plural})),
        )
    }

    pub fn path_not_found() -> Self {
        ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
            Some(json!({})),
        )
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(400, "BadRequest", message, None)
    }

    pub fn conflict(group: &str, plural: &str, name: &str, message: impl Into<String>) -> Self {
        ApiError::new(
            409,
            "Conflict",
            message,
            Some(json!({"name": name, "group": group, "kind": plural})),
        )
    }

    pub fn already_exists(group: &str, plural: &str, name: &str) -> Self {
        let qualified = if group.is_empty() {
            plural.to_string()
        } else {
            format!("{plural}.{group}")
        };
        ApiError::new(
            409,
            "AlreadyExists",
            format!("{qualified} \"{name}\" already exists"),
            Some(json!({"name": name, "group": group, "kind": plural})),
        )
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(403, "Forbidden", message, None)
    }
}

/// The success `Status` returned by some deletes.
pub fn success(group: &str, plural: &str, name: &str, uid: &str) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {"name": name, "group": group, "kind": plural, "uid": uid},
    })
}
