//! The validation rules the double enforces (a small, real subset of the API server's), so that
//! invalid objects fail with 422 `Invalid` and field causes as they would on a cluster.

use crate::resources::ResourceDef;
use crate::status::ApiError;
use serde_json::{Value, json};

struct Cause {
    field: String,
    reason: &'static str,
    message: String,
}

fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

fn is_label_value(s: &str) -> bool {
    s.is_empty()
        || (s.len() <= 63
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.ends_with(|c: char| c.is_ascii_alphanumeric()))
}

/// Validates an object about to be stored.
pub fn validate(def: &ResourceDef, obj: &Value) -> Result<(), ApiError> {
    let mut causes = Vec::new();
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if name.is_empty() {
        causes.push(Cause {
            field: "metadata.name".into(),
            reason: "FieldValueRequired",
            message: "Required value: name or generateName is required".into(),
        });
    } else if !is_dns_subdomain(name) {
        causes.push(Cause {
            field: "metadata.name".into(),
            reason: "FieldValueInvalid",
            message: format!(
                "Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
            ),
        });
    }
    if let Some(labels) = obj.pointer("/metadata/labels").and_then(Value::as_object) {
        for (k, v) in labels {
            match v.as_str() {
                Some(s) if is_label_value(s) => {}
                _ => causes.push(Cause {
                    field: "metadata.labels".to_string(),
                    reason: "FieldValueInvalid",
                    message: format!("Invalid value: {v}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.' (label {k:?})"),
                }),
            }
        }
    }
    match (def.group.as_str(), def.kind.as_str()) {
        ("", "ConfigMap") | ("", "Secret") => {
            for field in ["data", "stringData"] {
                if let Some(data) = obj.get(field).and_then(Value::as_object) {
                    for (k, v) in data {
                        if !v.is_string() {
                            causes.push(Cause {
                                field: format!("{field}[{k}]"),
                                reason: "FieldValueTypeInvalid",
                                message: format!("Invalid value: {v}: must be a string"),
                            });
                        }
                    }
                }
            }
        }
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") => {
            let selector = obj
                .pointer("/spec/selector/matchLabels")
                .and_then(Value::as_object);
            let labels = obj
                .pointer("/spec/template/metadata/labels")
                .and_then(Value::as_object);
            match selector {
                None => causes.push(Cause {
                    field: "spec.selector".into(),
                    reason: "FieldValueRequired",
                    message: "Required value".into(),
                }),
                Some(sel) => {
                    let matches = sel
                        .iter()
                        .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v));
                    if !matches {
                        causes.push(Cause {
                            field: "spec.template.metadata.labels".into(),
                            reason: "FieldValueInvalid",
                            message: format!(
                                "Invalid value: {}: `selector` does not match template `labels`",
                                json!(labels)
                            ),
                        });
                    }
                }
            }
            pod_spec(
                obj.pointer("/spec/template/spec"),
                "spec.template.spec",
                &mut causes,
            );
        }
        ("batch", "Job") => pod_spec(
            obj.pointer("/spec/template/spec"),
            "spec.template.spec",
            &mut causes,
        ),
        ("", "Service") => {
            for (i, p) in obj
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let ok = p
                    .get("port")
                    .and_then(Value::as_i64)
                    .is_some_and(|n| (1..=65535).contains(&n));
                if !ok {
                    causes.push(Cause {
                        field: format!("spec.ports[{i}].port"),
                        reason: "FieldValueInvalid",
                        message: format!(
                            "Invalid value: {}: must be between 1 and 65535, inclusive",
                            p.get("port").unwrap_or(&Value::Null)
                        ),
                    });
                }
            }
        }
        _ => {}
    }
    if causes.is_empty() {
        return Ok(());
    }
    let summary: Vec<String> = causes
        .iter()
        .map(|c| format!("{}: {}", c.field, c.message))
        .collect();
    let message = format!(
        "{} \"{}\" is invalid: {}",
        def.qualified_kind(),
        name,
        if summary.len() == 1 {
            summary[0].clone()
        } else {
            format!("[{}]", summary.join(", "))
        }
    );
    let causes: Vec<Value> = causes
        .iter()
        .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
        .collect();
    Err(ApiError::new(
        422,
        "Invalid",
        message,
        Some(json!({"name": name, "group": def.group, "kind": def.kind, "causes": causes})),
    ))
}

fn pod_spec(spec: Option<&Value>, at: &str, causes: &mut Vec<Cause>) {
    let containers = spec
        .and_then(|s| s.get("containers"))
        .and_then(Value::as_array);
    match containers {
        None => causes.push(Cause {
            field: format!("{at}.containers"),
            reason: "FieldValueRequired",
            message: "Required value".into(),
        }),
        Some(cs) => {
            for (i, c) in cs.iter().enumerate() {
                for f in ["name", "image"] {
                    if c.get(f).and_then(Value::as_str).is_none_or(str::is_empty) {
                        causes.push(Cause {
                            field: format!("{at}.containers[{i}].{f}"),
                            reason: "FieldValueRequired",
                            message: "Required value".into(),
                        });
                    }
                }
            }
        }
    }
}
