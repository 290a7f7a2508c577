//! Build metadata: where each object came from (`config.kubernetes.io/origin`) and which
//! transformers touched it (`alpha.config.kubernetes.io/transformations`), recorded the way
//! kustomize's `buildMetadata: [originAnnotations, transformerAnnotations]` prints them.
//!
//! Origins are kept beside each resource as a small mapping with kustomize's field order
//! (`path`, `repo`, `ref`, `configuredIn`, `configuredBy`) and only become annotations when the
//! top kustomization asks for them.

use serde_json::{Map, Value, json};

use crate::resource::ResMap;

/// Joins a path onto a directory the way Go's `filepath.Join` does: `.` and `..` segments are
/// resolved lexically, and an empty side is ignored.
pub fn join(dir: &str, path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let absolute = dir.starts_with('/') || (dir.is_empty() && path.starts_with('/'));
    for seg in dir.split('/').chain(path.split('/')) {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !absolute {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) if dir.is_empty() && path.is_empty() => String::new(),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// The origin of an object read from a file (`path` relative to the top kustomization).
pub fn from_path(path: &str) -> Value {
    json!({ "path": path })
}

/// The origin of an object made, or a change made, by a built-in generator or transformer that
/// a kustomization's own fields configure.
pub fn builtin(configured_in: &str, kind: &str) -> Value {
    json!({
        "configuredIn": configured_in,
        "configuredBy": {"apiVersion": "builtin", "kind": kind},
    })
}

/// The origin of an object made, or a change made, by a plugin configured by the document
/// `config`, itself read from `config_origin` (kustomize's `OriginFromCustomPlugin`).
pub fn from_plugin(config: &Value, config_origin: &Value) -> Value {
    let mut by = Map::new();
    for (key, path) in [
        ("apiVersion", &["apiVersion"][..]),
        ("kind", &["kind"]),
        ("name", &["metadata", "name"]),
        ("namespace", &["metadata", "namespace"]),
    ] {
        if let Some(v) = crate::resource::str_at(config, path).filter(|v| !v.is_empty()) {
            by.insert(key.into(), Value::String(v.into()));
        }
    }
    let mut out = Map::new();
    for key in ["repo", "ref"] {
        if let Some(v) = config_origin.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    if let Some(p) = config_origin.get("path") {
        out.insert("configuredIn".into(), p.clone());
    }
    out.insert("configuredBy".into(), Value::Object(by));
    Value::Object(out)
}

/// Records that the transformer with origin `by` ran over every resource of `m`: a resource
/// with no origin is taken to be made by it, the others list it among their transformations.
pub fn record_transformation(m: &mut ResMap, by: &Value) {
    for r in &mut m.resources {
        if r.origin.is_none() {
            r.origin = Some(by.clone());
        } else {
            r.transformations.push(by.clone());
        }
    }
}

/// The text of a `config.kubernetes.io/origin` annotation.
pub fn origin_text(origin: &Value) -> String {
    kiln_yaml::to_string(origin)
}

/// The text of an `alpha.config.kubernetes.io/transformations` annotation.
pub fn transformations_text(list: &[Value]) -> String {
    kiln_yaml::to_string(&Value::Array(list.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_cleans_like_go() {
        assert_eq!(join("", "service.yaml"), "service.yaml");
        assert_eq!(join("../base", "configmap.yaml"), "../base/configmap.yaml");
        assert_eq!(join("../base", "../other"), "../other");
        assert_eq!(join("a/b", "../../../c"), "../c");
        assert_eq!(join("./x/", "./y"), "x/y");
        assert_eq!(join("", ""), "");
        assert_eq!(join("a", ".."), ".");
    }

    #[test]
    fn transformation_text_is_a_yaml_list() {
        let t = transformations_text(&[builtin("kustomization.yaml", "PrefixTransformer")]);
        assert_eq!(
            t,
            "- configuredIn: kustomization.yaml\n  configuredBy:\n    apiVersion: builtin\n    kind: PrefixTransformer\n"
        );
    }
}
