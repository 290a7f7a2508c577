//! Field sets: which paths of an object a field manager owns, in the `FieldsV1` shape that
//! `metadata.managedFields` carries. Server-side apply is computed on these sets.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// One step of a field path: a map key, or an associative list item named by its key fields.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathElement {
    Field(String),
    /// Canonical JSON of the key fields, e.g. `{"name":"web"}`.
    Key(String),
    /// Canonical JSON of a set-list value.
    Value(String),
}

impl PathElement {
    fn encode(&self) -> String {
        match self {
            PathElement::Field(f) => format!("f:{f}"),
            PathElement::Key(k) => format!("k:{k}"),
            PathElement::Value(v) => format!("v:{v}"),
        }
    }

    fn decode(s: &str) -> Option<Self> {
        let (kind, rest) = s.split_once(':')?;
        match kind {
            "f" => Some(PathElement::Field(rest.to_string())),
            "k" => Some(PathElement::Key(rest.to_string())),
            "v" => Some(PathElement::Value(rest.to_string())),
            _ => None,
        }
    }
}

/// Renders a path the way the API server names it in conflict messages: `.spec.replicas`,
/// `.spec.containers[name="web"].image`.
pub fn display_path(path: &[PathElement]) -> String {
    let mut out = String::new();
    for el in path {
        match el {
            PathElement::Field(f) => {
                out.push('.');
                out.push_str(f);
            }
            PathElement::Key(k) => {
                let parsed: Map<String, Value> = serde_json::from_str(k).unwrap_or_default();
                let inner: Vec<String> = parsed.iter().map(|(k, v)| format!("{k}={v}")).collect();
                out.push_str(&format!("[{}]", inner.join(",")));
            }
            PathElement::Value(v) => out.push_str(&format!("[={v}]")),
        }
    }
    out
}

pub type Path = Vec<PathElement>;

/// A set of field paths, as a tree. A node is a member when the path itself is owned.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FieldSet {
    pub member: bool,
    pub children: BTreeMap<PathElement, FieldSet>,
}

/// Top-level and metadata fields that identify an object rather than configure it.
const IDENTITY_FIELDS: &[&str] = &["apiVersion", "kind", "status"];
const METADATA_IDENTITY: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "managedFields",
    "selfLink",
];

/// The key fields of an associative list, for the built-in list fields the double knows.
pub fn list_keys(field: &str, items: &[Value]) -> Option<Vec<String>> {
    if items.is_empty() || !items.iter().all(Value::is_object) {
        return None;
    }
    let candidates: &[&str] = match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets" => &["name"],
        "volumeMounts" => &["mountPath"],
        "conditions" => &["type"],
        "ports" => {
            if items.iter().all(|i| i.get("containerPort").is_some()) {
                &["containerPort", "protocol"]
            } else {
                &["port", "protocol"]
            }
        }
        _ => return None,
    };
    let first = candidates[0];
    if !items.iter().all(|i| i.get(first).is_some()) {
        return None;
    }
    Some(candidates.iter().map(|s| s.to_string()).collect())
}

/// Canonical key of one list item: its key fields as sorted JSON.
pub fn item_key(item: &Value, keys: &[String]) -> String {
    let mut m = BTreeMap::new();
    for k in keys {
        if let Some(v) = item.get(k) {
            m.insert(k.clone(), v.clone());
        }
    }
    serde_json::to_string(&m).unwrap_or_default()
}

impl FieldSet {
    /// The fields an applied configuration (or a whole object) sets.
    pub fn from_object(obj: &Value) -> FieldSet {
        let mut set = FieldSet::default();
        if let Some(map) = obj.as_object() {
            for (k, v) in map {
                if IDENTITY_FIELDS.contains(&k.as_str()) {
                    continue;
                }
                if k == "metadata" {
                    let mut meta = FieldSet::default();
                    if let Some(m) = v.as_object() {
                        for (mk, mv) in m {
                            if METADATA_IDENTITY.contains(&mk.as_str()) {
                                continue;
                            }
                            let child = meta
                                .children
                                .entry(PathElement::Field(mk.clone()))
                                .or_default();
                            walk(mk, mv, child);
                        }
                    }
                    if !meta.children.is_empty() {
                        set.children
                            .insert(PathElement::Field("metadata".into()), meta);
                    }
                    continue;
                }
                let child = set
                    .children
                    .entry(PathElement::Field(k.clone()))
                    .or_default();
                walk(k, v, child);
            }
        }
        set
    }

    /// The fields under `status` only (for status subresource writes).
    pub fn from_status(obj: &Value) -> FieldSet {
        let mut set = FieldSet::default();
        if let Some(status) = obj.get("status") {
            let child = set
                .children
                .entry(PathElement::Field("status".into()))
                .or_default();
            walk("status", status, child);
        }
        set
    }

    pub fn is_empty(&self) -> bool {
        !self.member && self.children.values().all(FieldSet::is_empty)
    }

    pub fn insert(&mut self, path: &[PathElement]) {
        let mut node = self;
        for el in path {
            node = node.children.entry(el.clone()).or_default();
        }
        node.member = true;
    }

    pub fn contains(&self, path: &[PathElement]) -> bool {
        let mut node = self;
        for el in path {
            match node.children.get(el) {
                Some(n) => node = n,
                None => return false,
            }
        }
        node.member
    }

    pub fn remove(&mut self, path: &[PathElement]) {
        fn go(node: &mut FieldSet, path: &[PathElement]) {
            match path.split_first() {
                None => node.member = false,
                Some((first, rest)) => {
                    if let Some(child) = node.children.get_mut(first) {
                        go(child, rest);
                        if child.is_empty() {
                            node.children.remove(first);
                        }
                    }
                }
            }
        }
        go(self, path);
    }

    /// Every member path, parents before children.
    pub fn members(&self) -> Vec<Path> {
        fn go(node: &FieldSet, prefix: &mut Path, out: &mut Vec<Path>) {
            if node.member {
                out.push(prefix.clone());
            }
            for (el, child) in &node.children {
                prefix.push(el.clone());
                go(child, prefix, out);
                prefix.pop();
            }
        }
        let mut out = Vec::new();
        go(self, &mut Vec::new(), &mut out);
        out
    }

    /// Member paths that have no member children: the values a manager actually sets.
    pub fn leaves(&self) -> Vec<Path> {
        self.members()
            .into_iter()
            .filter(|p| {
                let mut node = self;
                for el in p {
                    node = &node.children[el];
                }
                node.children.values().all(FieldSet::is_empty)
            })
            .collect()
    }

    pub fn to_fields_v1(&self) -> Value {
        let mut map = Map::new();
        if self.member && !self.children.is_empty() {
            map.insert(".".into(), Value::Object(Map::new()));
        }
        for (el, child) in &self.children {
            if child.is_empty() {
                continue;
            }
            map.insert(el.encode(), child.to_fields_v1());
        }
        Value::Object(map)
    }

    pub fn from_fields_v1(value: &Value) -> FieldSet {
        let mut set = FieldSet::default();
        if let Some(map) = value.as_object() {
            if map.is_empty() {
                set.member = true;
            }
            for (k, v) in map {
                if k == "." {
                    set.member = true;
                    continue;
                }
                if let Some(el) = PathElement::decode(k) {
                    set.children.insert(el, FieldSet::from_fields_v1(v));
                }
            }
        }
        set
    }
}

fn walk(name: &str, value: &Value, node: &mut FieldSet) {
    match value {
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                let child = node
                    .children
                    .entry(PathElement::Field(k.clone()))
                    .or_default();
                walk(k, v, child);
            }
        }
        Value::Array(items) => match list_keys(name, items) {
            Some(keys) => {
                for item in items {
                    let child = node
                        .children
                        .entry(PathElement::Key(item_key(item, &keys)))
                        .or_default();
                    child.member = true;
                    if let Some(m) = item.as_object() {
                        for (k, v) in m {
                            let grandchild = child
                                .children
                                .entry(PathElement::Field(k.clone()))
                                .or_default();
                            walk(k, v, grandchild);
                        }
                    }
                }
            }
            None => node.member = true,
        },
        _ => node.member = true,
    }
}

/// The value at `path` in `obj`, if present.
pub fn get<'a>(obj: &'a Value, path: &[PathElement]) -> Option<&'a Value> {
    let mut cur = obj;
    let mut last_field = "";
    for el in path {
        cur = match el {
            PathElement::Field(f) => {
                last_field = f;
                cur.get(f)?
            }
            PathElement::Key(k) => find_item(cur.as_array()?, last_field, k)?,
            PathElement::Value(v) => {
                let want: Value = serde_json::from_str(v).ok()?;
                cur.as_array()?.iter().find(|i| **i == want)?
            }
        };
    }
    Some(cur)
}

fn find_item<'a>(items: &'a [Value], field: &str, key: &str) -> Option<&'a Value> {
    let keys = list_keys(field, items)?;
    items.iter().find(|i| item_key(i, &keys) == key)
}

/// Removes the value at `path` from `obj`; a missing path is not an error.
pub fn remove(obj: &mut Value, path: &[PathElement]) {
    let Some((last, parent_path)) = path.split_last() else {
        return;
    };
    let mut cur = obj;
    let mut last_field = String::new();
    for el in parent_path {
        let next = match el {
            PathElement::Field(f) => {
                last_field = f.clone();
                cur.get_mut(f)
            }
            PathElement::Key(k) => {
                let Some(items) = cur.as_array_mut() else {
                    return;
                };
                let Some(keys) = list_keys(&last_field, items) else {
                    return;
                };
                items.iter_mut().find(|i| item_key(i, &keys) == *k)
            }
            PathElement::Value(_) => None,
        };
        match next {
            Some(n) => cur = n,
            None => return,
        }
    }
    match last {
        PathElement::Field(f) => {
            if let Some(m) = cur.as_object_mut() {
                m.remove(f);
            }
        }
        PathElement::Key(k) => {
            if let Some(items) = cur.as_array_mut()
                && let Some(keys) = list_keys(&last_field, items)
            {
                items.retain(|i| item_key(i, &keys) != *k);
            }
        }
        PathElement::Value(v) => {
            if let (Some(items), Ok(want)) = (cur.as_array_mut(), serde_json::from_str::<Value>(v))
            {
                items.retain(|i| *i != want);
            }
        }
    }
}

/// Merges `patch` into `base` the way server-side apply does: maps merge, associative lists
/// merge item by item, everything else is replaced.
pub fn merge(base: &mut Value, patch: &Value, field: &str) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    b.remove(k);
                    continue;
                }
                match b.get_mut(k) {
                    Some(existing) => merge(existing, v, k),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Value::Array(b), Value::Array(p)) => match (list_keys(field, p), list_keys(field, b)) {
            (Some(keys), Some(_)) => {
                let mut out = Vec::with_capacity(p.len().max(b.len()));
                for item in p {
                    let key = item_key(item, &keys);
                    match b.iter().find(|i| item_key(i, &keys) == key) {
                        Some(existing) => {
                            let mut merged = existing.clone();
                            merge(&mut merged, item, "");
                            out.push(merged);
                        }
                        None => out.push(item.clone()),
                    }
                }
                for item in b.iter() {
                    let key = item_key(item, &keys);
                    if !p.iter().any(|i| item_key(i, &keys) == key) {
                        out.push(item.clone());
                    }
                }
                *b = out;
            }
            _ => *b = p.clone(),
        },
        (b, p) => *b = p.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_v1_round_trips_and_skips_identity() {
        let obj = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "a", "labels": {"app": "web"}},
            "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}}
        });
        let set = FieldSet::from_object(&obj);
        let v1 = set.to_fields_v1();
        assert_eq!(
            v1,
            json!({
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
                    "k:{\"name\":\"c\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}
            })
        );
        assert_eq!(FieldSet::from_fields_v1(&v1), set);
        let image = vec![
            PathElement::Field("spec".into()),
            PathElement::Field("template".into()),
            PathElement::Field("spec".into()),
            PathElement::Field("containers".into()),
            PathElement::Key("{\"name\":\"c\"}".into()),
            PathElement::Field("image".into()),
        ];
        assert!(set.contains(&image));
        assert_eq!(get(&obj, &image), Some(&json!("i")));
        assert_eq!(
            display_path(&image),
            ".spec.template.spec.containers[name=\"c\"].image"
        );
    }
}
