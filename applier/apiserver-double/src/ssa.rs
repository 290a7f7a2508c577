//! Server-side apply and field ownership: merges an applied configuration into the live object,
//! computes conflicts per field path against other managers, and keeps `managedFields` the way
//! the API server does (an `Apply` entry per applier, `Update` entries for other writes).

use crate::fields::{self, FieldSet, Path, display_path};
use serde_json::{Map, Value, json};

/// One `managedFields` entry.
#[derive(Clone, Debug)]
pub struct ManagedEntry {
    pub manager: String,
    pub operation: String,
    pub api_version: String,
    pub time: String,
    pub subresource: Option<String>,
    pub fields: FieldSet,
}

impl ManagedEntry {
    fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("apiVersion".into(), json!(self.api_version));
        m.insert("fieldsType".into(), json!("FieldsV1"));
        m.insert("fieldsV1".into(), self.fields.to_fields_v1());
        m.insert("manager".into(), json!(self.manager));
        m.insert("operation".into(), json!(self.operation));
        if let Some(sub) = &self.subresource {
            m.insert("subresource".into(), json!(sub));
        }
        m.insert("time".into(), json!(self.time));
        Value::Object(m)
    }

    fn same_owner(&self, manager: &str, operation: &str, subresource: Option<&str>) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource.as_deref() == subresource
    }
}

pub fn read_entries(obj: &Value) -> Vec<ManagedEntry> {
    let Some(list) = obj
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    list.iter()
        .map(|e| ManagedEntry {
            manager: str_of(e, "manager"),
            operation: str_of(e, "operation"),
            api_version: str_of(e, "apiVersion"),
            time: str_of(e, "time"),
            subresource: e
                .get("subresource")
                .and_then(Value::as_str)
                .map(String::from),
            fields: FieldSet::from_fields_v1(e.get("fieldsV1").unwrap_or(&Value::Null)),
        })
        .collect()
}

fn str_of(v: &Value, k: &str) -> String {
    v.get(k)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

pub fn write_entries(obj: &mut Value, entries: &[ManagedEntry]) {
    let list: Vec<Value> = entries
        .iter()
        .filter(|e| !e.fields.is_empty())
        .map(ManagedEntry::to_value)
        .collect();
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        if list.is_empty() {
            meta.remove("managedFields");
        } else {
            meta.insert("managedFields".into(), Value::Array(list));
        }
    }
}

/// A field another manager owns with a different value.
#[derive(Clone, Debug)]
pub struct Conflict {
    pub manager: String,
    pub path: Path,
}

impl Conflict {
    pub fn field(&self) -> String {
        display_path(&self.path)
    }
}

pub struct ApplyRequest<'a> {
    pub live: Option<&'a Value>,
    pub config: &'a Value,
    pub manager: &'a str,
    pub force: bool,
    pub api_version: &'a str,
    pub now: &'a str,
    /// `Some("status")` when applying to the status subresource.
    pub subresource: Option<&'a str>,
}

/// Server-side apply. Returns the new object (managedFields updated) or the conflicts.
pub fn apply(req: ApplyRequest<'_>) -> Result<Value, Vec<Conflict>> {
    let mut entries = req.live.map(read_entries).unwrap_or_default();
    let new_set = if req.subresource == Some("status") {
        FieldSet::from_status(req.config)
    } else {
        FieldSet::from_object(req.config)
    };
    let mut obj = match req.live {
        Some(l) => l.clone(),
        None => json!({
            "apiVersion": req.config.get("apiVersion").cloned().unwrap_or(Value::Null),
            "kind": req.config.get("kind").cloned().unwrap_or(Value::Null),
            "metadata": {},
        }),
    };

    let mut conflicts = Vec::new();
    for path in new_set.leaves() {
        let wanted = fields::get(req.config, &path);
        if wanted == fields::get(&obj, &path) {
            continue;
        }
        for e in &entries {
            if e.same_owner(req.manager, "Apply", req.subresource) {
                continue;
            }
            if e.fields.contains(&path) {
                conflicts.push(Conflict {
                    manager: e.manager.clone(),
                    path: path.clone(),
                });
            }
        }
    }
    if !conflicts.is_empty() {
        if !req.force {
            return Err(conflicts);
        }
        for c in &conflicts {
            for e in entries.iter_mut() {
                if e.manager == c.manager {
                    e.fields.remove(&c.path);
                }
            }
        }
    }

    let old_set = entries
        .iter()
        .find(|e| e.same_owner(req.manager, "Apply", req.subresource))
        .map(|e| e.fields.clone())
        .unwrap_or_default();
    for path in old_set.members() {
        if new_set.contains(&path) {
            continue;
        }
        let owned_elsewhere = entries.iter().any(|e| {
            !e.same_owner(req.manager, "Apply", req.subresource) && e.fields.contains(&path)
        });
        if !owned_elsewhere {
            fields::remove(&mut obj, &path);
        }
    }

    let mut patch = req.config.clone();
    if let Some(p) = patch.as_object_mut() {
        if req.subresource == Some("status") {
            p.retain(|k, _| k == "status");
        } else {
            p.remove("status");
        }
        if let Some(meta) = p.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("managedFields");
            meta.remove("resourceVersion");
            meta.remove("uid");
            meta.remove("generation");
            meta.remove("creationTimestamp");
        }
    }
    fields::merge(&mut obj, &patch, "");

    match entries
        .iter_mut()
        .find(|e| e.same_owner(req.manager, "Apply", req.subresource))
    {
        Some(e) => {
            if e.fields != new_set || e.api_version != req.api_version {
                e.fields = new_set;
                e.time = req.now.to_string();
                e.api_version = req.api_version.to_string();
            }
        }
        None => entries.push(ManagedEntry {
            manager: req.manager.to_string(),
            operation: "Apply".into(),
            api_version: req.api_version.to_string(),
            time: req.now.to_string(),
            subresource: req.subresource.map(String::from),
            fields: new_set,
        }),
    }
    write_entries(&mut obj, &entries);
    Ok(obj)
}

/// Ownership after a non-apply write (create, update, merge patch): the writer owns every field
/// it changed, other managers lose those fields, and nobody owns fields that no longer exist.
pub fn record_update(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    api_version: &str,
    now: &str,
    subresource: Option<&str>,
) {
    let mut entries = old.map(read_entries).unwrap_or_default();
    let new_fields = if subresource == Some("status") {
        FieldSet::from_status(new)
    } else {
        FieldSet::from_object(new)
    };
    let changed: Vec<Path> = new_fields
        .leaves()
        .into_iter()
        .filter(|p| old.and_then(|o| fields::get(o, p)) != fields::get(new, p))
        .collect();
    for e in entries.iter_mut() {
        for path in e.fields.members() {
            if fields::get(new, &path).is_none() {
                e.fields.remove(&path);
            }
        }
        if !e.same_owner(manager, "Update", subresource) {
            for p in &changed {
                e.fields.remove(p);
            }
        }
    }
    if !changed.is_empty() {
        match entries
            .iter_mut()
            .find(|e| e.same_owner(manager, "Update", subresource))
        {
            Some(e) => {
                for p in &changed {
                    e.fields.insert(p);
                }
                e.time = now.to_string();
                e.api_version = api_version.to_string();
            }
            None => {
                let mut fields = FieldSet::default();
                for p in &changed {
                    fields.insert(p);
                }
                entries.push(ManagedEntry {
                    manager: manager.to_string(),
                    operation: "Update".into(),
                    api_version: api_version.to_string(),
                    time: now.to_string(),
                    subresource: subresource.map(String::from),
                    fields,
                });
            }
        }
    }
    write_entries(new, &entries);
}

/// The message the API server gives for apply conflicts.
pub fn conflict_message(conflicts: &[Conflict]) -> String {
    let n = conflicts.len();
    let plural = if n == 1 { "conflict" } else { "conflicts" };
    let parts: Vec<String> = conflicts
        .iter()
        .map(|c| format!("conflict with \"{}\": {}", c.manager, c.field()))
        .collect();
    format!("Apply failed with {n} {plural}: {}", parts.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm(data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "d"}, "data": data})
    }

    fn do_apply(
        live: Option<&Value>,
        cfg: &Value,
        manager: &str,
        force: bool,
    ) -> Result<Value, Vec<Conflict>> {
        apply(ApplyRequest {
            live,
            config: cfg,
            manager,
            force,
            api_version: "v1",
            now: "t",
            subresource: None,
        })
    }

    #[test]
    fn conflicting_value_from_other_manager_is_rejected_unless_forced() {
        let a = do_apply(None, &cm(json!({"k": "1"})), "a", false).unwrap();
        let shared = do_apply(Some(&a), &cm(json!({"k": "1"})), "b", false).unwrap();
        assert_eq!(
            read_entries(&shared).len(),
            2,
            "same value is shared ownership"
        );
        let err = do_apply(Some(&a), &cm(json!({"k": "2"})), "b", false).unwrap_err();
        assert_eq!(
            conflict_message(&err),
            "Apply failed with 1 conflict: conflict with \"a\": .data.k"
        );
        let forced = do_apply(Some(&a), &cm(json!({"k": "2"})), "b", true).unwrap();
        assert_eq!(forced["data"]["k"], "2");
        let entries = read_entries(&forced);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].manager, "b");
    }

    #[test]
    fn fields_dropped_from_config_are_removed_unless_owned_elsewhere() {
        let a = do_apply(None, &cm(json!({"x": "1", "y": "2"})), "a", false).unwrap();
        let b = do_apply(Some(&a), &cm(json!({"y": "2"})), "b", false).unwrap();
        let a2 = do_apply(Some(&b), &cm(json!({})), "a", false).unwrap();
        assert_eq!(a2["data"], json!({"y": "2"}));
    }
}
