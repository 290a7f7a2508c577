//! The bridge to strategic merge patch (crate kiln-smp), with the schema the build uses.

use serde_json::Value;

use crate::error::Result;

/// Merges `patch` into `original`; `None` when the patch deletes the whole object.
pub fn merge(original: &Value, patch: &Value) -> Result<Option<Value>> {
    if patch.get("$patch").and_then(Value::as_str) == Some("delete") {
        return Ok(None);
    }
    let mut out = original.clone();
    json_merge(&mut out, patch);
    Ok(Some(out))
}

fn json_merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if k.starts_with('$') {
                    continue;
                }
                if v.is_null() {
                    t.shift_remove(k);
                } else if let Some(existing) = t.get_mut(k) {
                    json_merge(existing, v);
                } else {
                    t.insert(k.clone(), v.clone());
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}
