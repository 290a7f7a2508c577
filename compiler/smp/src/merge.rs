//! The merge walk: applies a strategic merge patch to an object field by field, the way
//! kustomize v5 does it (kyaml's `merge2` walker with patch items placed first in merged lists).
//!
//! Rules, per node:
//! - maps merge recursively; a `null` in the patch deletes the field; nulls already in the
//!   object stay; `$patch: delete` removes the map, `$patch: replace` takes the patch's map;
//! - lists whose schema has a `merge` patch strategy merge their items by the merge keys
//!   (or by value for lists of scalars); patch items come first, in patch order, then the
//!   object's remaining items; a `{$patch: delete|replace}` item acts on the whole list,
//!   an item with `$patch: delete` removes the matching item;
//! - every other list, and every list of a type the schema does not know (CRDs), is replaced;
//! - other directive keys (`$setElementOrder/…`, `$retainKeys`, `$deleteFromPrimitiveList/…`)
//!   are not interpreted by kustomize and are merged as ordinary fields, as it does.

use serde_json::{Map, Value};

use crate::elements::{
    append_list_node, element_list, element_setter, element_values_list, ensure_key, is_empty_map,
    is_null, merge_values, shape, text, validate_keys,
};
use crate::error::SmpError;
use crate::schema::{NodeId, Schema};

const DIRECTIVE: &str = "$patch";

/// A `$patch` directive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Directive {
    Unknown,
    Replace,
    Delete,
    Merge,
}

impl Directive {
    fn parse(value: &str) -> Option<Directive> {
        match value {
            "replace" => Some(Directive::Replace),
            "delete" => Some(Directive::Delete),
            "merge" => Some(Directive::Merge),
            _ => None,
        }
    }
}

/// Applies `patch` to `original`. `Ok(None)` means the patch deleted the whole object
/// (`$patch: delete` at its top level). The merge schema is chosen by the object's
/// `apiVersion` and `kind` (then the patch's); unknown types merge maps and replace lists.
pub fn merge(original: &Value, patch: &Value, schema: &Schema) -> Result<Option<Value>, SmpError> {
    merge_owned(original.clone(), patch.clone(), schema)
}

/// [`merge`] taking its inputs by value, to spare the copies when the caller owns them.
pub fn merge_owned(
    original: Value,
    patch: Value,
    schema: &Schema,
) -> Result<Option<Value>, SmpError> {
    let mut walker = Walker {
        schema,
        path: Vec::new(),
    };
    walker.walk(Some(original), Some(patch), None, false)
}

struct Walker<'s> {
    schema: &'s Schema,
    path: Vec<String>,
}

/// Which side of the merge a visit kept as the node to continue with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kept {
    Dest,
    Origin,
}

impl Walker<'_> {
    fn path(&self) -> String {
        self.path.join(".")
    }

    fn type_schema(&self, sources: [Option<&Value>; 2]) -> Option<NodeId> {
        sources.into_iter().flatten().find_map(|source| {
            let map = source.as_object()?;
            let kind = map.get("kind")?.as_str().filter(|k| !k.is_empty())?;
            let api_version = map.get("apiVersion")?.as_str().filter(|v| !v.is_empty())?;
            self.schema.for_type(api_version, kind)
        })
    }

    /// Walks one node. `aliased` marks a walk where the object side is the patch's own node
    /// (a subtree the patch adds or replaces): directives removed from the patch side are
    /// then gone from the object side too. Returns `None` when the node is to be removed.
    fn walk(
        &mut self,
        dest: Option<Value>,
        origin: Option<Value>,
        schema: Option<NodeId>,
        aliased: bool,
    ) -> Result<Option<Value>, SmpError> {
        Ok(self.walk_kept(dest, origin, schema, aliased)?.0)
    }

    fn walk_kept(
        &mut self,
        dest: Option<Value>,
        origin: Option<Value>,
        schema: Option<NodeId>,
        aliased: bool,
    ) -> Result<(Option<Value>, Kept), SmpError> {
        let schema = schema.or_else(|| self.type_schema([dest.as_ref(), origin.as_ref()]));
        let first = [dest.as_ref(), origin.as_ref()]
            .into_iter()
            .flatten()
            .find(|v| !v.is_null());
        let Some(first) = first else {
            return self.walk_map(dest, origin, schema, aliased);
        };
        let expected = shape(first);
        for side in [dest.as_ref(), origin.as_ref()].into_iter().flatten() {
            if !side.is_null() && shape(side) != expected {
                return Err(SmpError::KindMismatch {
                    path: self.path(),
                    expected,
                    found: shape(side),
                });
            }
        }
        match first {
            Value::Object(_) => self.walk_map(dest, origin, schema, aliased),
            Value::Array(_) => {
                if schema.is_some_and(|s| self.schema.merges(s)) {
                    let schema = schema.expect("checked above");
                    Ok((
                        self.walk_associative(dest, origin, schema, aliased)?,
                        Kept::Dest,
                    ))
                } else {
                    Ok(keep_origin_or_dest(dest, origin))
                }
            }
            _ => Ok(keep_origin_or_dest(dest, origin)),
        }
    }

    fn map_directive(&self, origin: &mut Option<Value>) -> Result<Directive, SmpError> {
        let Some(Value::Object(map)) = origin else {
            return Ok(match origin {
                None => Directive::Merge,
                Some(_) => Directive::Unknown,
            });
        };
        let Some(value) = map.get(DIRECTIVE) else {
            return Ok(Directive::Merge);
        };
        let value = text(value);
        let directive = Directive::parse(&value).ok_or_else(|| SmpError::UnknownDirective {
            path: self.path(),
            value: value.clone(),
        })?;
        map.shift_remove(DIRECTIVE);
        Ok(directive)
    }

    fn list_directive(&self, origin: &mut Option<Value>) -> Result<Directive, SmpError> {
        let Some(Value::Array(list)) = origin else {
            return Ok(Directive::Merge);
        };
        let Some(item) = list
            .iter()
            .filter_map(Value::as_object)
            .find(|item| item.contains_key(DIRECTIVE))
        else {
            return Ok(Directive::Merge);
        };
        if item.len() > 1 {
            return Ok(Directive::Merge);
        }
        let value = text(&item[DIRECTIVE]);
        let directive = Directive::parse(&value).ok_or_else(|| SmpError::UnknownDirective {
            path: self.path(),
            value: value.clone(),
        })?;
        let path = self.path();
        element_setter(list, None, &[DIRECTIVE.to_string()], &[value], &path)?;
        Ok(directive)
    }

    fn walk_map(
        &mut self,
        dest: Option<Value>,
        mut origin: Option<Value>,
        schema: Option<NodeId>,
        aliased: bool,
    ) -> Result<(Option<Value>, Kept), SmpError> {
        let (mut dest, kept, children_aliased) = if is_null(dest.as_ref()) {
            let directive = self
                .map_directive(&mut origin)
                .unwrap_or(Directive::Unknown);
            if directive == Directive::Delete {
                return Ok((None, Kept::Origin));
            }
            if origin.is_none() && dest.is_some() {
                // A null the object already had stays.
                return Ok((Some(Value::Null), Kept::Dest));
            }
            match &origin {
                Some(Value::Object(map)) => (map.clone(), Kept::Origin, true),
                _ => return Ok((None, Kept::Origin)),
            }
        } else {
            if matches!(origin, Some(Value::Null)) {
                return Ok((None, Kept::Origin));
            }
            match self.map_directive(&mut origin)? {
                Directive::Delete => return Ok((None, Kept::Origin)),
                Directive::Replace => match &origin {
                    Some(Value::Object(map)) => (map.clone(), Kept::Origin, true),
                    _ => return Ok((None, Kept::Origin)),
                },
                _ if aliased => match &origin {
                    Some(Value::Object(map)) => (map.clone(), Kept::Dest, true),
                    _ => return Ok((None, Kept::Dest)),
                },
                _ => match dest {
                    Some(Value::Object(map)) => (map, Kept::Dest, false),
                    _ => return Ok((None, Kept::Dest)),
                },
            }
        };
        let mut origin = match origin {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        let mut names: Vec<String> = dest.keys().chain(origin.keys()).cloned().collect();
        names.sort_unstable();
        names.dedup();
        for name in names {
            let child_schema = schema.and_then(|s| self.schema.field(s, &name));
            let child_dest = dest.get_mut(&name).map(std::mem::take);
            let child_origin = origin.get_mut(&name).map(std::mem::take);
            self.path.push(name.clone());
            let merged = self.walk(child_dest, child_origin, child_schema, children_aliased)?;
            self.path.pop();
            match merged {
                Some(value) => {
                    dest.insert(name, value);
                }
                None => {
                    dest.shift_remove(&name);
                }
            }
        }
        Ok((Some(Value::Object(dest)), kept))
    }

    fn walk_associative(
        &mut self,
        dest: Option<Value>,
        mut origin: Option<Value>,
        schema: NodeId,
        aliased: bool,
    ) -> Result<Option<Value>, SmpError> {
        let (dest, aliased) = if is_null(dest.as_ref()) {
            match &origin {
                Some(Value::Array(list)) => (list.clone(), true),
                _ => return Ok(None),
            }
        } else {
            if matches!(origin, Some(Value::Null)) {
                return Ok(None);
            }
            match self.list_directive(&mut origin)? {
                Directive::Delete => return Ok(None),
                Directive::Replace => match &origin {
                    Some(Value::Array(list)) => (list.clone(), true),
                    _ => return Ok(None),
                },
                _ if aliased => match &origin {
                    Some(Value::Array(list)) => (list.clone(), true),
                    _ => return Ok(None),
                },
                _ => match dest {
                    Some(Value::Array(list)) => (list, false),
                    _ => return Ok(None),
                },
            }
        };
        let origin: Vec<Value> = match origin {
            Some(Value::Array(list)) => list,
            _ => Vec::new(),
        };
        let keys = self
            .schema
            .list_strategy(schema)
            .map(|s| s.keys)
            .unwrap_or_default();
        let sources: [&[Value]; 2] = [&origin, &dest];
        let mut values_list: Vec<Vec<String>> = Vec::new();
        for source in sources {
            for values in element_values_list(source, &keys) {
                if !values.is_empty() && !values_list.contains(&values) {
                    values_list.push(values);
                }
            }
        }
        let element_schema = self.schema.elements(schema);
        if !values_list.is_empty() || !keys.is_empty() {
            return self.set_elements(values_list, &keys, dest, &origin, element_schema, aliased);
        }
        let mut primitive: Vec<Vec<String>> = Vec::new();
        for source in sources {
            for item in source {
                let value = vec![text(item)];
                if !primitive.contains(&value) {
                    primitive.push(value);
                }
            }
        }
        self.set_elements(
            primitive,
            &[String::new()],
            dest,
            &origin,
            element_schema,
            aliased,
        )
    }

    fn set_elements(
        &mut self,
        mut values_list: Vec<Vec<String>>,
        keys: &[String],
        mut dest: Vec<Value>,
        origin: &[Value],
        element_schema: Option<NodeId>,
        aliased: bool,
    ) -> Result<Option<Value>, SmpError> {
        let path = self.path();
        let mut added: Vec<Value> = Vec::new();
        if keys.len() > 1 {
            merge_values(&mut values_list);
        }
        let mut valid_keys: Vec<String> = Vec::new();
        for values in &values_list {
            if values.is_empty() {
                continue;
            }
            let valid_values;
            (valid_keys, valid_values) = validate_keys(&values_list, values, keys);
            let (match_keys, match_values) = validate_keys(
                std::slice::from_ref(&valid_values),
                &valid_values,
                &valid_keys,
            );
            let dest_index = element_list(&dest, &match_keys, &match_values);
            let origin_element =
                element_list(origin, &match_keys, &match_values).map(|i| origin[i].clone());
            let dest_element = dest_index.map(|i| dest[i].clone());
            let label = match_keys
                .iter()
                .zip(&match_values)
                .map(|(k, v)| {
                    if k.is_empty() {
                        v.clone()
                    } else {
                        format!("{k}={v}")
                    }
                })
                .collect::<Vec<_>>()
                .join(",");
            self.path.push(format!("[{label}]"));
            let (merged, kept) =
                self.walk_kept(dest_element, origin_element, element_schema, aliased)?;
            self.path.pop();
            let mut merged = match merged {
                Some(value) if !is_empty_map(Some(&value)) => value,
                _ => {
                    element_setter(&mut dest, None, &valid_keys, &valid_values, &path)?;
                    continue;
                }
            };
            if let Value::Object(map) = &mut merged {
                for (key, value) in valid_keys.iter().zip(&valid_values) {
                    if !key.is_empty() {
                        ensure_key(map, key, value);
                    }
                }
            }
            if let Some(index) = dest_index
                && merged.is_object()
                && (kept == Kept::Dest || aliased)
            {
                // kyaml merges an item into the object's own node, which the final pass
                // below re-reads: keep the merged item there too.
                dest[index] = merged.clone();
            }
            element_setter(&mut added, Some(&merged), &valid_keys, &valid_values, &path)?;
        }
        if !values_list.is_empty() {
            append_list_node(&mut added, &dest, &valid_keys, &path)?;
            dest = added;
        }
        Ok(Some(Value::Array(dest)))
    }
}

fn keep_origin_or_dest(dest: Option<Value>, origin: Option<Value>) -> (Option<Value>, Kept) {
    match origin {
        Some(Value::Null) => (None, Kept::Origin),
        Some(value) => (Some(value), Kept::Origin),
        None => (dest, Kept::Dest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(spec: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec})
    }

    fn apply(original: Value, patch: Value) -> Value {
        merge(&original, &patch, Schema::builtin())
            .unwrap()
            .unwrap()
    }

    #[test]
    fn null_deletes_and_maps_merge() {
        let merged = apply(
            pod(json!({"nodeName": "a", "nodeSelector": {"x": "1", "y": "2"}})),
            pod(json!({"nodeName": null, "nodeSelector": {"y": null, "z": "3"}})),
        );
        assert_eq!(
            merged["spec"],
            json!({"nodeSelector": {"x": "1", "z": "3"}})
        );
    }

    #[test]
    fn map_directives() {
        let original = pod(json!({"securityContext": {"runAsUser": 1, "fsGroup": 2}}));
        let replaced = apply(
            original.clone(),
            pod(json!({"securityContext": {"$patch": "replace", "runAsGroup": 3}})),
        );
        assert_eq!(
            replaced["spec"]["securityContext"],
            json!({"runAsGroup": 3})
        );
        let deleted = apply(
            original,
            pod(json!({"securityContext": {"$patch": "delete"}})),
        );
        assert_eq!(deleted["spec"], json!({}));
    }

    #[test]
    fn keyed_lists_put_patch_items_first() {
        let merged = apply(
            pod(json!({"containers": [{"name": "a", "image": "a"}, {"name": "b", "image": "b"}]})),
            pod(json!({"containers": [{"name": "b", "image": "b2"}, {"name": "c", "image": "c"}]})),
        );
        assert_eq!(
            merged["spec"]["containers"],
            json!([{"name": "b", "image": "b2"}, {"name": "c", "image": "c"}, {"name": "a", "image": "a"}])
        );
    }

    #[test]
    fn list_item_and_whole_list_directives() {
        let original = pod(json!({"containers": [{"name": "a"}, {"name": "b"}]}));
        let item_deleted = apply(
            original.clone(),
            pod(json!({"containers": [{"name": "a", "$patch": "delete"}]})),
        );
        assert_eq!(item_deleted["spec"]["containers"], json!([{"name": "b"}]));
        let replaced = apply(
            original.clone(),
            pod(json!({"containers": [{"$patch": "replace"}, {"name": "z"}]})),
        );
        assert_eq!(replaced["spec"]["containers"], json!([{"name": "z"}]));
        let deleted = apply(original, pod(json!({"containers": [{"$patch": "delete"}]})));
        assert_eq!(deleted["spec"], json!({}));
    }

    #[test]
    fn primitive_merge_lists_union_values() {
        let original = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"finalizers": ["a", "b"]}});
        let patch = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"finalizers": ["c", "a"]}});
        assert_eq!(
            apply(original, patch)["metadata"]["finalizers"],
            json!(["c", "a", "b"])
        );
    }

    #[test]
    fn lists_without_merge_strategy_are_replaced() {
        let merged = apply(
            pod(
                json!({"tolerations": [{"key": "a"}], "containers": [{"name": "a", "args": ["x", "y"]}]}),
            ),
            pod(
                json!({"tolerations": [{"key": "b"}], "containers": [{"name": "a", "args": ["z"]}]}),
            ),
        );
        assert_eq!(merged["spec"]["tolerations"], json!([{"key": "b"}]));
        assert_eq!(merged["spec"]["containers"][0]["args"], json!(["z"]));
    }

    #[test]
    fn unknown_types_merge_maps_and_replace_lists() {
        let widget =
            |spec: Value| json!({"apiVersion": "example.com/v1", "kind": "Widget", "spec": spec});
        let merged = apply(
            widget(json!({"a": {"x": 1}, "items": [{"name": "a"}]})),
            widget(json!({"a": {"y": 2}, "items": [{"name": "b"}]})),
        );
        assert_eq!(
            merged["spec"],
            json!({"a": {"x": 1, "y": 2}, "items": [{"name": "b"}]})
        );
    }

    #[test]
    fn top_level_delete_removes_the_object() {
        let result = merge(
            &pod(json!({})),
            &json!({"$patch": "delete"}),
            Schema::builtin(),
        )
        .unwrap();
        assert_eq!(result, None);
    }

    #[test]
    fn errors_name_the_field() {
        let unknown = merge(
            &pod(json!({"securityContext": {}})),
            &pod(json!({"securityContext": {"$patch": "remove"}})),
            Schema::builtin(),
        )
        .unwrap_err();
        assert_eq!(
            unknown.to_string(),
            "unknown patch strategy 'remove' at `spec.securityContext`"
        );
        let mismatch = merge(
            &pod(json!({"containers": [{"name": "a"}]})),
            &pod(json!({"containers": {"name": "a"}})),
            Schema::builtin(),
        )
        .unwrap_err();
        assert_eq!(
            mismatch.to_string(),
            "wrong node kind at `spec.containers`: expected SequenceNode but got MappingNode"
        );
    }
}
