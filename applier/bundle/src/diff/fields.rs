//! Field-level differences between two versions of one object.
//!
//! Paths read like the Kubernetes field paths reviewers know: `spec.replicas`,
//! `metadata.annotations["app.kubernetes.io/name"]`, `spec.template.spec.containers[name=web].image`.
//! Lists whose items are all mappings with a unique string `name` are matched by name (the way
//! Kubernetes merges containers, env vars, ports, volumes); other lists are compared by index when
//! their lengths are equal and by longest common subsequence otherwise, so inserting one argument
//! shows one addition instead of a cascade of changes.

use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// What happened to one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FieldOp {
    Added,
    Removed,
    Changed,
    /// The same named items are present in a different order.
    Reordered,
}

/// A change at one path; `from`/`to` are absent for additions/removals respectively.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub path: String,
    pub op: FieldOp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<Value>,
}

/// The changes that turn `from` into `to`, in path order of traversal (keys sorted bytewise).
pub fn diff_values(from: &Value, to: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    walk(&mut out, String::new(), from, to);
    out
}

/// Largest list product compared by longest common subsequence; beyond it lists are compared
/// by index, to keep time bounded on huge lists.
const LCS_LIMIT: usize = 1 << 20;

fn walk(out: &mut Vec<FieldChange>, path: String, from: &Value, to: &Value) {
    if from == to {
        return;
    }
    match (from, to) {
        (Value::Object(a), Value::Object(b)) => walk_maps(out, &path, a, b),
        (Value::Array(a), Value::Array(b)) => {
            if let (Some(ka), Some(kb)) = (named_items(a), named_items(b)) {
                walk_named(out, &path, a, b, &ka, &kb);
            } else if a.len() == b.len() || a.len().saturating_mul(b.len()) > LCS_LIMIT {
                walk_indexed(out, &path, a, b);
            } else {
                walk_lcs(out, &path, a, b);
            }
        }
        _ => out.push(FieldChange {
            path: root(path),
            op: FieldOp::Changed,
            from: Some(from.clone()),
            to: Some(to.clone()),
        }),
    }
}

fn root(path: String) -> String {
    if path.is_empty() { ".".into() } else { path }
}

fn walk_maps(
    out: &mut Vec<FieldChange>,
    path: &str,
    a: &Map<String, Value>,
    b: &Map<String, Value>,
) {
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for key in keys {
        let child = key_path(path, key);
        match (a.get(key), b.get(key)) {
            (Some(x), Some(y)) => walk(out, child, x, y),
            (Some(x), None) => out.push(FieldChange {
                path: child,
                op: FieldOp::Removed,
                from: Some(x.clone()),
                to: None,
            }),
            (None, Some(y)) => out.push(FieldChange {
                path: child,
                op: FieldOp::Added,
                from: None,
                to: Some(y.clone()),
            }),
            (None, None) => {}
        }
    }
}

/// Appends `.key`, or `["key"]` when the key is not a simple identifier.
pub fn key_path(path: &str, key: &str) -> String {
    let simple = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'$');
    if simple {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    } else {
        format!(
            "{path}[{}]",
            serde_json::to_string(key).unwrap_or_else(|_| key.to_string())
        )
    }
}

/// For a list whose items are all mappings with a unique string `name`: name → index.
fn named_items(items: &[Value]) -> Option<BTreeMap<&str, usize>> {
    let mut names = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        let name = item.as_object()?.get("name")?.as_str()?;
        if names.insert(name, i).is_some() {
            return None;
        }
    }
    Some(names)
}

fn name_path(path: &str, name: &str) -> String {
    let simple = !name.is_empty()
        && !name.contains([']', '[', '"', '\n'])
        && !name.starts_with(' ')
        && !name.ends_with(' ');
    if simple {
        format!("{path}[name={name}]")
    } else {
        format!(
            "{path}[name={}]",
            serde_json::to_string(name).unwrap_or_default()
        )
    }
}

fn walk_named(
    out: &mut Vec<FieldChange>,
    path: &str,
    a: &[Value],
    b: &[Value],
    ka: &BTreeMap<&str, usize>,
    kb: &BTreeMap<&str, usize>,
) {
    // Items in `from` order first (removed or changed), then items only in `to`.
    for (i, item) in a.iter().enumerate() {
        let name = item["name"].as_str().unwrap_or_default();
        let child = name_path(path, name);
        match kb.get(name) {
            Some(&j) => walk(out, child, item, &b[j]),
            None => out.push(FieldChange {
                path: child,
                op: FieldOp::Removed,
                from: Some(a[i].clone()),
                to: None,
            }),
        }
    }
    for item in b {
        let name = item["name"].as_str().unwrap_or_default();
        if !ka.contains_key(name) {
            out.push(FieldChange {
                path: name_path(path, name),
                op: FieldOp::Added,
                from: None,
                to: Some(item.clone()),
            });
        }
    }
    let order_a: Vec<&str> = a
        .iter()
        .filter_map(|v| v["name"].as_str())
        .filter(|n| kb.contains_key(n))
        .collect();
    let order_b: Vec<&str> = b
        .iter()
        .filter_map(|v| v["name"].as_str())
        .filter(|n| ka.contains_key(n))
        .collect();
    if order_a != order_b {
        out.push(FieldChange {
            path: root(path.to_string()),
            op: FieldOp::Reordered,
            from: Some(order_a.into_iter().map(Value::from).collect()),
            to: Some(order_b.into_iter().map(Value::from).collect()),
        });
    }
}

fn walk_indexed(out: &mut Vec<FieldChange>, path: &str, a: &[Value], b: &[Value]) {
    for i in 0..a.len().max(b.len()) {
        let child = format!("{path}[{i}]");
        match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) => walk(out, child, x, y),
            (Some(x), None) => out.push(FieldChange {
                path: child,
                op: FieldOp::Removed,
                from: Some(x.clone()),
                to: None,
            }),
            (None, Some(y)) => out.push(FieldChange {
                path: child,
                op: FieldOp::Added,
                from: None,
                to: Some(y.clone()),
            }),
            (None, None) => {}
        }
    }
}

/// Aligns two lists by longest common subsequence: unmatched items of `a` are removals (indexed
/// in `a`), unmatched items of `b` additions (indexed in `b`).
fn walk_lcs(out: &mut Vec<FieldChange>, path: &str, a: &[Value], b: &[Value]) {
    let (n, m) = (a.len(), b.len());
    let mut table = vec![0u32; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            table[at(i, j)] = if a[i] == b[j] {
                table[at(i + 1, j + 1)] + 1
            } else {
                table[at(i + 1, j)].max(table[at(i, j + 1)])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            i += 1;
            j += 1;
        } else if j == m || (i < n && table[at(i + 1, j)] >= table[at(i, j + 1)]) {
            out.push(FieldChange {
                path: format!("{path}[{i}]"),
                op: FieldOp::Removed,
                from: Some(a[i].clone()),
                to: None,
            });
            i += 1;
        } else {
            out.push(FieldChange {
                path: format!("{path}[{j}]"),
                op: FieldOp::Added,
                from: None,
                to: Some(b[j].clone()),
            });
            j += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(changes: &[FieldChange]) -> Vec<String> {
        changes
            .iter()
            .map(|c| format!("{:?} {}", c.op, c.path))
            .collect()
    }

    #[test]
    fn containers_are_matched_by_name() {
        let a = json!({"spec": {"containers": [{"name": "web", "image": "a"}, {"name": "side", "image": "s"}]}});
        let b = json!({"spec": {"containers": [{"name": "side", "image": "s"}, {"name": "web", "image": "b"}]}});
        let changes = diff_values(&a, &b);
        assert_eq!(
            paths(&changes),
            [
                "Changed spec.containers[name=web].image",
                "Reordered spec.containers"
            ]
        );
        assert_eq!(changes[0].from, Some(json!("a")));
        assert_eq!(changes[0].to, Some(json!("b")));
    }

    #[test]
    fn odd_keys_are_quoted() {
        let a = json!({"metadata": {"annotations": {"app.kubernetes.io/name": "x"}}});
        let b = json!({"metadata": {"annotations": {}}});
        assert_eq!(
            paths(&diff_values(&a, &b)),
            ["Removed metadata.annotations[\"app.kubernetes.io/name\"]"]
        );
    }

    #[test]
    fn inserted_list_item_is_one_addition() {
        let a = json!({"args": ["a", "b", "c"]});
        let b = json!({"args": ["a", "x", "b", "c"]});
        assert_eq!(paths(&diff_values(&a, &b)), ["Added args[1]"]);
        let same_len = diff_values(&json!([1, 2]), &json!([1, 3]));
        assert_eq!(paths(&same_len), ["Changed [1]"]);
    }

    #[test]
    fn type_change_at_root_is_reported() {
        assert_eq!(paths(&diff_values(&json!(1), &json!("1"))), ["Changed ."]);
        assert!(diff_values(&json!({"a": [1]}), &json!({"a": [1]})).is_empty());
    }
}
