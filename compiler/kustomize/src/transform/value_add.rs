//! kustomize's built-in `ValueAddTransformer`: writes one value into a field of selected
//! objects, either replacing it or inserting it as a part of a file-path-like string
//! (`filePathPosition`); `metadata/namespace` targets set the namespace as the namespace
//! transformer does for a single object.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{KustomizeError, Result};
use crate::kustomization::Selector;
use crate::resource::{ResMap, Resource};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Target {
    selector: Option<Selector>,
    #[serde(rename = "fieldPath")]
    field_path: String,
    #[serde(rename = "filePathPosition")]
    file_path_position: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TargetsFile {
    targets: Vec<Target>,
}

/// A configured transformer.
pub struct ValueAdd {
    value: String,
    targets: Vec<Target>,
}

impl ValueAdd {
    /// Reads the plugin document; `targets_file` loads `targetFilePath`, `root_name` is the
    /// name of the kustomization directory (the value when none is given).
    pub fn configure(
        cfg: &Value,
        targets_file: impl FnOnce(&str) -> Result<String>,
        root_name: &str,
    ) -> Result<ValueAdd> {
        let bad = |msg: String| KustomizeError::build(format!("ValueAddTransformer: {msg}"));
        let mut value = cfg
            .get("value")
            .map(crate::resource::value_as_string)
            .unwrap_or_default()
            .trim()
            .to_string();
        if value.is_empty() {
            value = root_name.to_string();
        }
        let mut targets: Vec<Target> = match cfg.get("targets") {
            Some(t) if !t.is_null() => serde_json::from_value(t.clone())
                .map_err(|e| bad(format!("invalid targets: {e}")))?,
            _ => Vec::new(),
        };
        if let Some(path) = cfg
            .get("targetFilePath")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
        {
            let text = targets_file(path)?;
            let doc = if text.trim().is_empty() {
                Value::Null
            } else {
                kiln_yaml::from_str(&text).map_err(|e| bad(format!("{path}: {e}")))?
            };
            if !doc.is_null() {
                let file: TargetsFile =
                    serde_json::from_value(doc).map_err(|e| bad(format!("{path}: {e}")))?;
                targets.extend(file.targets);
            }
        }
        if targets.is_empty() {
            return Err(bad("must specify at least one target".into()));
        }
        for t in &targets {
            if t.field_path.is_empty() {
                return Err(bad("fieldPath cannot be empty".into()));
            }
            if t.file_path_position < 0 {
                return Err(bad(format!(
                    "value of FilePathPosition ({}) cannot be negative",
                    t.file_path_position
                )));
            }
        }
        Ok(ValueAdd { value, targets })
    }

    pub fn transform(&self, m: &mut ResMap) -> Result<()> {
        for t in &self.targets {
            let idx: Vec<usize> = match &t.selector {
                None => (0..m.resources.len()).collect(),
                Some(s) => crate::patch::select(m, s)?,
            };
            for i in idx {
                let r = &mut m.resources[i];
                if t.field_path == "metadata/namespace" {
                    set_namespace(r, &self.value);
                } else {
                    add_value(r, t, &self.value)?;
                }
            }
        }
        Ok(())
    }
}

/// The namespace filter on one object with no extra field specs: the object's own namespace
/// (unless cluster-scoped) and RoleBinding subjects named `default`.
fn set_namespace(r: &mut Resource, ns: &str) {
    let gvk = r.gvk();
    if !gvk.is_cluster_scoped() {
        r.set_namespace(ns);
    }
    if (gvk.kind == "RoleBinding" || gvk.kind == "ClusterRoleBinding")
        && let Some(Value::Array(subjects)) = r.obj.get_mut("subjects")
    {
        for s in subjects {
            if s.get("name").and_then(Value::as_str) == Some("default")
                && let Some(o) = s.as_object_mut()
            {
                o.insert("namespace".into(), Value::String(ns.into()));
            }
        }
    }
}

/// Splits a field path on `/`, where `\/` keeps a slash inside a field name.
fn split_fields(path: &str) -> Vec<String> {
    let mut fields: Vec<String> = Vec::new();
    for part in path.split('/') {
        match fields.last_mut() {
            Some(last) if last.ends_with('\\') => {
                last.pop();
                last.push('/');
                last.push_str(part);
            }
            _ => fields.push(part.to_string()),
        }
    }
    fields
}

fn add_value(r: &mut Resource, t: &Target, value: &str) -> Result<()> {
    let fields = split_fields(&t.field_path);
    let id = r.cur_id();
    let mut cur = &mut r.obj;
    for f in &fields {
        if cur.is_null() {
            *cur = Value::Object(Map::new());
        }
        let Value::Object(map) = cur else {
            return Err(KustomizeError::build(format!(
                "ValueAddTransformer: field path '{}' of {id} runs through a non-mapping",
                t.field_path
            )));
        };
        cur = map.entry(f.clone()).or_insert(Value::Null);
    }
    let old = match &*cur {
        Value::Null => String::new(),
        Value::Object(_) | Value::Array(_) => {
            return Err(KustomizeError::build(format!(
                "ValueAddTransformer: field '{}' of {id} is not a scalar",
                t.field_path
            )));
        }
        other => crate::resource::value_as_string(other),
    };
    let new = if t.file_path_position > 0 {
        insert_path_part(&old, (t.file_path_position - 1) as usize, value)
    } else {
        value.to_string()
    };
    *cur = Value::String(new);
    Ok(())
}

/// kyaml's `InsertPathPart`: inserts `part` as the `pos`-th segment of a slash-separated path
/// (an absolute path keeps its leading slash), then cleans the result like `filepath.Join`.
fn insert_path_part(path: &str, pos: usize, part: &str) -> String {
    if part.is_empty() {
        return path.to_string();
    }
    let mut parts: Vec<&str> = if path.is_empty() {
        Vec::new()
    } else {
        path.split('/').collect()
    };
    let absolute = parts.first() == Some(&"");
    let mut pos = pos.min(parts.len());
    if absolute && pos < parts.len() {
        pos += 1;
    }
    parts.insert(pos, part);
    let rest: Vec<&str> = if absolute { parts[1..].to_vec() } else { parts };
    let joined = crate::origin::join("", &rest.join("/"));
    if absolute {
        format!("/{}", joined.trim_start_matches('/'))
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_path_parts_like_kyaml() {
        assert_eq!(insert_path_part("projects/data", 1, "X"), "projects/X/data");
        assert_eq!(insert_path_part("a/b/c", 0, "X"), "X/a/b/c");
        assert_eq!(insert_path_part("/a/b/c", 0, "X"), "/X/a/b/c");
        assert_eq!(insert_path_part("a", 9, "X"), "a/X");
        assert_eq!(insert_path_part("", 0, "X"), "X");
    }

    #[test]
    fn escaped_slashes_stay_in_field_names() {
        assert_eq!(
            split_fields(r"metadata/annotations/a.io\/b"),
            vec!["metadata", "annotations", "a.io/b"]
        );
    }
}
