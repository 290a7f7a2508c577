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
    is_null, merge_values, restrict_keys, set_keys, shape, text, validate_keys,
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
    let mut walker = Walker { schema, depth: 0 };
    walker.walk(Sides::Pair(Some(original), Some(patch)), None)
}

struct Walker<'s> {
    schema: &'s Schema,
    depth: usize,
}

/// Nesting deeper than any Kubernetes object; past it the walk stops. The stack grows on the
/// heap as needed below it, so callers on small thread stacks are safe too.
const MAX_DEPTH: usize = 2000;

/// Which side of the merge a visit kept as the node to continue with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kept {
    Dest,
    Origin,
}

/// The two sides of a node. `Same` is a node the patch adds or replaces: kyaml then merges
/// the patch's node with itself, so directives removed from one side are gone from both, and
/// one value stands for the two.
enum Sides {
    Pair(Option<Value>, Option<Value>),
    Same(Value),
}

impl Sides {
    fn dest(&self) -> Option<&Value> {
        match self {
            Sides::Pair(dest, _) => dest.as_ref(),
            Sides::Same(value) => Some(value),
        }
    }

    fn origin(&self) -> Option<&Value> {
        match self {
            Sides::Pair(_, origin) => origin.as_ref(),
            Sides::Same(value) => Some(value),
        }
    }
}

/// What a map visit decided (kyaml's `VisitMap`).
enum MapVisit {
    Remove,
    /// A null the object already had, which stays.
    KeepNull,
    Walk {
        map: Map<String, Value>,
        children: Children,
        kept: Kept,
    },
}

/// How the fields of a walked map pair up.
enum Children {
    /// Object fields with the patch's fields (the patch map, possibly empty).
    Pair(Map<String, Value>),
    /// The map is the patch's own: each field stands for both sides.
    Same,
}

impl Walker<'_> {
    fn type_schema(&self, sides: &Sides) -> Option<NodeId> {
        [sides.dest(), sides.origin()]
            .into_iter()
            .flatten()
            .find_map(|source| {
                let map = source.as_object()?;
                let kind = map.get("kind")?.as_str().filter(|k| !k.is_empty())?;
                let api_version = map.get("apiVersion")?.as_str().filter(|v| !v.is_empty())?;
                self.schema.for_type(api_version, kind)
            })
    }

    /// Walks one node; `None` when the node is to be removed.
    fn walk(&mut self, sides: Sides, schema: Option<NodeId>) -> Result<Option<Value>, SmpError> {
        Ok(self.walk_kept(sides, schema)?.0)
    }

    fn walk_kept(
        &mut self,
        sides: Sides,
        schema: Option<NodeId>,
    ) -> Result<(Option<Value>, Kept), SmpError> {
        if self.depth >= MAX_DEPTH {
            return Err(SmpError::TooDeep {
                path: String::new(),
                limit: MAX_DEPTH,
            });
        }
        self.depth += 1;
        let result = stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.walk_node(sides, schema));
        self.depth -= 1;
        result
    }

    fn walk_node(
        &mut self,
        sides: Sides,
        schema: Option<NodeId>,
    ) -> Result<(Option<Value>, Kept), SmpError> {
        let schema = schema.or_else(|| self.type_schema(&sides));
        let first = [sides.dest(), sides.origin()]
            .into_iter()
            .flatten()
            .find(|v| !v.is_null());
        let Some(first) = first else {
            return self.walk_map(sides, schema);
        };
        let expected = shape(first);
        for side in [sides.dest(), sides.origin()].into_iter().flatten() {
            if !side.is_null() && shape(side) != expected {
                return Err(SmpError::KindMismatch {
                    path: String::new(),
                    expected,
                    found: shape(side),
                });
            }
        }
        match first {
            Value::Object(_) => self.walk_map(sides, schema),
            Value::Array(_) => match schema {
                Some(schema) if self.schema.merges(schema) => {
                    Ok((self.walk_associative(sides, schema)?, Kept::Dest))
                }
                _ => Ok(keep_origin_or_dest(sides)),
            },
            _ => Ok(keep_origin_or_dest(sides)),
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
            path: String::new(),
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
            path: String::new(),
            value: value.clone(),
        })?;
        element_setter(list, None, &[DIRECTIVE.to_string()], &[value], "")?;
        Ok(directive)
    }

    fn visit_map(&mut self, sides: Sides) -> Result<MapVisit, SmpError> {
        let (dest, mut origin) = match sides {
            Sides::Same(value) => {
                if value.is_null() {
                    return Ok(MapVisit::Remove);
                }
                let mut origin = Some(value);
                if self.map_directive(&mut origin)? == Directive::Delete {
                    return Ok(MapVisit::Remove);
                }
                return Ok(match origin {
                    Some(Value::Object(map)) => MapVisit::Walk {
                        map,
                        children: Children::Same,
                        kept: Kept::Dest,
                    },
                    _ => MapVisit::Remove,
                });
            }
            Sides::Pair(dest, origin) => (dest, origin),
        };
        if is_null(dest.as_ref()) {
            let directive = self
                .map_directive(&mut origin)
                .unwrap_or(Directive::Unknown);
            if directive == Directive::Delete {
                return Ok(MapVisit::Remove);
            }
            if origin.is_none() && dest.is_some() {
                return Ok(MapVisit::KeepNull);
            }
            return Ok(match origin {
                Some(Value::Object(map)) => MapVisit::Walk {
                    map,
                    children: Children::Same,
                    kept: Kept::Origin,
                },
                _ => MapVisit::Remove,
            });
        }
        if matches!(origin, Some(Value::Null)) {
            return Ok(MapVisit::Remove);
        }
        let directive = self.map_directive(&mut origin)?;
        let origin = match origin {
            Some(Value::Object(map)) => Some(map),
            _ => None,
        };
        Ok(match (directive, origin, dest) {
            (Directive::Delete, _, _) => MapVisit::Remove,
            (Directive::Replace, Some(map), _) => MapVisit::Walk {
                map,
                children: Children::Same,
                kept: Kept::Origin,
            },
            (Directive::Replace, None, _) => MapVisit::Remove,
            (_, origin, Some(Value::Object(map))) => MapVisit::Walk {
                map,
                children: Children::Pair(origin.unwrap_or_default()),
                kept: Kept::Dest,
            },
            _ => MapVisit::Remove,
        })
    }

    fn walk_map(
        &mut self,
        sides: Sides,
        schema: Option<NodeId>,
    ) -> Result<(Option<Value>, Kept), SmpError> {
        let (mut map, children, kept) = match self.visit_map(sides)? {
            MapVisit::Remove => return Ok((None, Kept::Origin)),
            MapVisit::KeepNull => return Ok((Some(Value::Null), Kept::Dest)),
            MapVisit::Walk {
                map,
                children,
                kept,
            } => (map, children, kept),
        };
        let mut removed: Vec<String> = Vec::new();
        let mut patch = match children {
            Children::Pair(patch) => Some(patch),
            Children::Same => None,
        };
        for (name, value) in map.iter_mut() {
            let child_schema = schema.and_then(|s| self.schema.field(s, name));
            let current = std::mem::take(value);
            let sides = match &mut patch {
                Some(patch) => Sides::Pair(Some(current), patch.swap_remove(name)),
                None => Sides::Same(current),
            };
            let merged = self.walk(sides, child_schema).map_err(|e| e.within(name))?;
            match merged {
                Some(merged) => *value = merged,
                None => removed.push(name.clone()),
            }
        }
        for name in &removed {
            map.shift_remove(name);
        }
        if let Some(patch) = patch {
            let mut added: Vec<(String, Value)> = patch.into_iter().collect();
            added.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            for (name, value) in added {
                let child_schema = schema.and_then(|s| self.schema.field(s, &name));
                let merged = self
                    .walk(Sides::Pair(None, Some(value)), child_schema)
                    .map_err(|e| e.within(&name))?;
                if let Some(merged) = merged {
                    map.insert(name, merged);
                }
            }
        }
        Ok((Some(Value::Object(map)), kept))
    }

    fn walk_associative(
        &mut self,
        sides: Sides,
        schema: NodeId,
    ) -> Result<Option<Value>, SmpError> {
        // `same`: the object's list is the patch's own (added, replaced or inside an added
        // subtree), so lookups on "both sides" see the same, progressively merged, list.
        let (dest, origin, same) = match sides {
            Sides::Same(value) => {
                if value.is_null() {
                    return Ok(None);
                }
                let mut origin = Some(value);
                if self.list_directive(&mut origin)? == Directive::Delete {
                    return Ok(None);
                }
                match origin {
                    Some(Value::Array(list)) => (list, Vec::new(), true),
                    _ => return Ok(None),
                }
            }
            Sides::Pair(dest, mut origin) => {
                if is_null(dest.as_ref()) {
                    match origin {
                        Some(Value::Array(list)) => (list, Vec::new(), true),
                        _ => return Ok(None),
                    }
                } else {
                    if matches!(origin, Some(Value::Null)) {
                        return Ok(None);
                    }
                    match (self.list_directive(&mut origin)?, origin, dest) {
                        (Directive::Delete, _, _) => return Ok(None),
                        (Directive::Replace, Some(Value::Array(list)), _) => {
                            (list, Vec::new(), true)
                        }
                        (Directive::Replace, _, _) => return Ok(None),
                        (_, origin, Some(Value::Array(dest))) => {
                            let origin = match origin {
                                Some(Value::Array(list)) => list,
                                _ => Vec::new(),
                            };
                            (dest, origin, false)
                        }
                        _ => return Ok(None),
                    }
                }
            }
        };
        let keys = self.schema.merge_keys(schema).to_vec();
        let mut values_list: Vec<Vec<String>> = Vec::new();
        for source in [&origin, &dest] {
            for values in element_values_list(source, &keys) {
                if !values.is_empty() && !values_list.contains(&values) {
                    values_list.push(values);
                }
            }
        }
        let keys = if values_list.is_empty() && keys.is_empty() {
            for source in [&origin, &dest] {
                for item in source {
                    let value = vec![text(item)];
                    if !values_list.contains(&value) {
                        values_list.push(value);
                    }
                }
            }
            vec![String::new()]
        } else {
            keys
        };
        let list = List {
            dest,
            origin: &origin,
            same,
            element_schema: self.schema.elements(schema),
        };
        self.set_elements(values_list, &keys, list)
    }

    /// Merges list items by key (kyaml's `setAssociativeSequenceElements`).
    fn set_elements(
        &mut self,
        mut values_list: Vec<Vec<String>>,
        keys: &[String],
        list: List<'_>,
    ) -> Result<Option<Value>, SmpError> {
        let List {
            mut dest,
            origin,
            same,
            element_schema,
        } = list;
        let path = "";
        let mut added: Vec<Value> = Vec::new();
        if keys.len() > 1 {
            merge_values(&mut values_list);
        }
        let set = set_keys(&values_list, keys);
        let mut valid_keys: Vec<String> = Vec::new();
        for values in &values_list {
            if values.is_empty() {
                continue;
            }
            let valid_values;
            (valid_keys, valid_values) = restrict_keys(&set, values, keys);
            let (match_keys, match_values) = validate_keys(
                std::slice::from_ref(&valid_values),
                &valid_values,
                &valid_keys,
            );
            let dest_index = element_list(&dest, &match_keys, &match_values);
            let sides = if same {
                match dest_index {
                    Some(i) => Sides::Same(dest[i].clone()),
                    None => Sides::Pair(None, None),
                }
            } else {
                let origin_element =
                    element_list(origin, &match_keys, &match_values).map(|i| origin[i].clone());
                Sides::Pair(dest_index.map(|i| dest[i].clone()), origin_element)
            };
            let (merged, kept) = self
                .walk_kept(sides, element_schema)
                .map_err(|e| e.within(&item_label(&match_keys, &match_values)))?;
            let mut merged = match merged {
                Some(value) if !is_empty_map(Some(&value)) => value,
                _ => {
                    element_setter(&mut dest, None, &valid_keys, &valid_values, path)?;
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
                && (kept == Kept::Dest || same)
            {
                // kyaml merges an item into the object's own node, which the final pass
                // below re-reads: keep the merged item there too.
                dest[index] = merged.clone();
            }
            element_setter(&mut added, Some(merged), &valid_keys, &valid_values, path)?;
        }
        if !values_list.is_empty() {
            append_list_node(&mut added, dest, &valid_keys, path)?;
            dest = added;
        }
        Ok(Some(Value::Array(dest)))
    }
}

/// A keyed list being merged.
struct List<'o> {
    dest: Vec<Value>,
    origin: &'o [Value],
    same: bool,
    element_schema: Option<NodeId>,
}

fn item_label(keys: &[String], values: &[String]) -> String {
    let parts: Vec<String> = keys
        .iter()
        .zip(values)
        .map(|(k, v)| {
            if k.is_empty() {
                v.clone()
            } else {
                format!("{k}={v}")
            }
        })
        .collect();
    format!("[{}]", parts.join(","))
}

fn keep_origin_or_dest(sides: Sides) -> (Option<Value>, Kept) {
    match sides {
        Sides::Same(Value::Null) | Sides::Pair(_, Some(Value::Null)) => (None, Kept::Origin),
        Sides::Same(value) | Sides::Pair(_, Some(value)) => (Some(value), Kept::Origin),
        Sides::Pair(dest, None) => (dest, Kept::Dest),
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
    fn deep_nesting_works_on_small_stacks_and_absurd_nesting_is_an_error() {
        let nested = |depth: usize| {
            let mut deep = json!("leaf");
            for _ in 0..depth {
                deep = json!({ "a": deep });
            }
            deep
        };
        let run = move |depth: usize| {
            let deep = nested(depth);
            let original = json!({"kind": "Thing", "spec": deep.clone()});
            let patch = json!({"spec": deep});
            std::thread::Builder::new()
                .stack_size(256 << 10)
                .spawn(move || {
                    let result = merge_owned(original, patch, Schema::builtin());
                    let outcome = result.as_ref().map(|_| ()).map_err(Clone::clone);
                    (outcome, result.ok())
                })
                .unwrap()
                .join()
                .unwrap()
                .0
        };
        // Building, cloning and dropping the inputs recurses in serde_json: do that on a roomy
        // stack, and only the merge on a small one.
        std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn(move || {
                assert_eq!(run(500), Ok(()));
                assert!(matches!(run(2100), Err(SmpError::TooDeep { .. })));
            })
            .unwrap()
            .join()
            .unwrap();
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
