//! Canonical serialization: the one byte sequence each object and each manifest has.
//!
//! Digests are only meaningful if equal content always gives equal bytes, so both forms are
//! defined exactly here and in `FORMAT.md`:
//!
//! **Object files** are canonical YAML, produced by [`kiln_yaml::to_canonical_string`]:
//! UTF-8, keys sorted bytewise at every level, two-space indentation, sequences under a key not
//! indented, strings plain only when a YAML 1.1 (Go) or 1.2 decoder reads them back as the same
//! string (otherwise a literal block scalar for multi-line text, or double quotes with fixed
//! escapes), integers in decimal, floats in shortest round-trip form with a `.` and a signed
//! exponent, `null`/`true`/`false`, `{}`/`[]` for empty collections, no comments, no `---`, `\n`
//! line endings, and a final `\n`. Decoding the bytes with [`kiln_yaml::from_str`] gives back the
//! object exactly.
//!
//! **The manifest** (`bundle.json`) is canonical JSON: the value with object keys sorted bytewise
//! at every level, printed by `serde_json`'s pretty printer (two-space indentation, `": "` after
//! keys, strings escaped as `serde_json` does: `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`, other
//! control characters as `\u00XX`, everything else literal UTF-8), followed by one `\n`.

use crate::model::Manifest;
use serde::Serialize;
use serde_json::{Map, Value};

/// The canonical YAML bytes of an object.
pub fn object_bytes(object: &Value) -> Vec<u8> {
    kiln_yaml::to_canonical_string(object).into_bytes()
}

/// `value` with object keys sorted bytewise at every level.
pub fn sort_keys(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sort_keys(v)))
                    .collect::<Map<String, Value>>(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

/// The canonical JSON bytes of any serializable value.
pub fn json_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let value = serde_json::to_value(value)?;
    let mut bytes = serde_json::to_vec_pretty(&sort_keys(&value))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// The canonical JSON bytes of a manifest: the same bytes as [`json_bytes`], produced without an
/// intermediate value because the manifest types declare their fields in sorted order.
pub fn manifest_bytes(manifest: &Manifest) -> Result<Vec<u8>, serde_json::Error> {
    let mut bytes = serde_json::to_vec_pretty(manifest)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Serializes an optional free-form value with its keys sorted.
pub(crate) fn serialize_sorted<S: serde::Serializer>(
    value: &Option<Value>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    value.as_ref().map(sort_keys).serialize(serializer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_keys_are_sorted_at_every_level() {
        let bytes =
            json_bytes(&json!({"b": 1, "a": {"z": [{"y": 1, "x": 2}], "_": null}})).unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "{\n  \"a\": {\n    \"_\": null,\n    \"z\": [\n      {\n        \"x\": 2,\n        \"y\": 1\n      }\n    ]\n  },\n  \"b\": 1\n}\n"
        );
    }

    #[test]
    fn manifest_fields_are_declared_in_canonical_order() {
        use crate::{BundleSpec, ComponentSpec, Provenance, build};
        let spec = BundleSpec {
            project: "p".into(),
            target: "t".into(),
            compiler_version: "k".into(),
            components: vec![ComponentSpec {
                name: "c".into(),
                depends_on: vec![],
                tenancy: Default::default(),
                objects: vec![(
                    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "n"}}),
                    Provenance {
                        component: "c".into(),
                        source: Some("s".into()),
                        file: "f".into(),
                        line: 1,
                        producer: "manifests".into(),
                    },
                )],
            }],
            waves: vec![vec!["c".into()]],
            lock: Some(json!({"z": 1, "a": {"y": 2, "b": 3}})),
        };
        let manifest = build(&spec).unwrap().manifest;
        assert_eq!(
            manifest_bytes(&manifest).unwrap(),
            json_bytes(&manifest).unwrap()
        );
    }

    #[test]
    fn object_bytes_do_not_depend_on_key_order() {
        let a = json!({"kind": "A", "apiVersion": "v1", "metadata": {"name": "x", "labels": {"b": "1", "a": "2"}}});
        let b = json!({"metadata": {"labels": {"a": "2", "b": "1"}, "name": "x"}, "apiVersion": "v1", "kind": "A"});
        assert_eq!(object_bytes(&a), object_bytes(&b));
        assert_eq!(
            String::from_utf8(object_bytes(&a)).unwrap(),
            "apiVersion: v1\nkind: A\nmetadata:\n  labels:\n    a: \"2\"\n    b: \"1\"\n  name: x\n"
        );
    }
}
