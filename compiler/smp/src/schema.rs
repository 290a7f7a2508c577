//! Merge metadata read from OpenAPI v2 definitions: which lists merge by key, with which keys,
//! and how to step from a type to the schema of its fields and list items.
//!
//! The built-in schema is the Kubernetes v1.21 API, the version kustomize v5 compiles in,
//! reduced by `scripts/gen-metadata.py` to `data/k8s-v1.21-merge-schema.json`. A custom
//! document (a kustomization's `openapi:` field) is read with the same code and, as in
//! kustomize, replaces the built-in schema instead of extending it.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

use crate::error::SmpError;

const BUILTIN: &str = include_str!("../data/k8s-v1.21-merge-schema.json");

/// Index of a schema node inside a [`Schema`].
pub type NodeId = usize;

/// Merge-relevant view of one OpenAPI schema object.
#[derive(Debug, Default, Clone)]
struct Node {
    /// `None`: the property exists but its `$ref` names no definition (no schema, as in kyaml).
    properties: HashMap<String, Option<NodeId>>,
    additional: Option<NodeId>,
    items: Option<NodeId>,
    is_array: bool,
    strategy: Option<String>,
    merge_key: Option<String>,
    list_map_keys: Option<Vec<String>>,
    /// Merge keys as [`Schema::merge_keys`] returns them.
    keys: Vec<String>,
}

/// A parsed set of OpenAPI definitions indexed for strategic merge.
#[derive(Debug, Default, Clone)]
pub struct Schema {
    nodes: Vec<Node>,
    by_type: HashMap<(String, String), NodeId>,
}

/// What a list field's schema says about merging it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListStrategy {
    /// The raw `x-kubernetes-patch-strategy` value, e.g. `merge` or `merge,retainKeys`.
    pub strategy: String,
    /// Merge keys: `x-kubernetes-list-map-keys` when present, else the patch merge key.
    pub keys: Vec<String>,
}

impl Schema {
    /// The Kubernetes v1.21 merge metadata, as kustomize v5 uses it.
    pub fn builtin() -> &'static Schema {
        static BUILTIN_SCHEMA: OnceLock<Schema> = OnceLock::new();
        BUILTIN_SCHEMA.get_or_init(|| {
            let doc: Value =
                serde_json::from_str(BUILTIN).expect("embedded merge schema is valid JSON");
            Schema::with_openapi(&doc).expect("embedded merge schema is a valid OpenAPI document")
        })
    }

    /// A schema with no types: every list replaces and maps merge, as for unknown CRDs.
    pub fn empty() -> Schema {
        Schema::default()
    }

    /// Reads an OpenAPI v2 document (`{"definitions": {...}}`), such as the file named by a
    /// kustomization's `openapi: {path: ...}`. Like kustomize, the result holds only these
    /// definitions: built-in types it does not define merge as unknown types.
    pub fn with_openapi(doc: &Value) -> Result<Schema, SmpError> {
        let definitions = doc
            .get("definitions")
            .and_then(Value::as_object)
            .ok_or_else(|| SmpError::InvalidOpenApi {
                reason: "the document has no `definitions` object".into(),
            })?;
        let mut builder = Builder::default();
        for name in definitions.keys() {
            let id = builder.schema.nodes.len();
            builder.schema.nodes.push(Node::default());
            builder.defs.insert(name.clone(), id);
        }
        for (name, body) in definitions {
            let id = builder.defs[name];
            if body.get("$ref").is_none() {
                let node = builder.parse_inline(body, &format!("definitions.{name}"))?;
                builder.schema.nodes[id] = node;
            }
            if let Some(gvks) = body
                .get("x-kubernetes-group-version-kind")
                .and_then(Value::as_array)
            {
                for gvk in gvks {
                    if let Some(key) = type_key(gvk) {
                        builder.schema.by_type.insert(key, id);
                    }
                }
            }
        }
        builder.resolve_aliases(definitions)?;
        Ok(builder.schema)
    }

    /// A custom document together with the built-in definitions, the built-in ones winning
    /// where both define a name or a type. kustomize ends up with this union when the
    /// `openapi: {path}` comes from a base or component rather than the top kustomization
    /// (it then loads its built-in schema as well); with `openapi` on the top kustomization it
    /// uses the custom document alone ([`Schema::with_openapi`]).
    pub fn with_openapi_and_builtin(doc: &Value) -> Result<Schema, SmpError> {
        let custom = doc
            .get("definitions")
            .and_then(Value::as_object)
            .ok_or_else(|| SmpError::InvalidOpenApi {
                reason: "the document has no `definitions` object".into(),
            })?;
        let builtin: Value =
            serde_json::from_str(BUILTIN).expect("embedded merge schema is valid JSON");
        let mut definitions = custom.clone();
        if let Some(Value::Object(builtin)) = builtin.get("definitions") {
            for (name, body) in builtin {
                definitions.insert(name.clone(), body.clone());
            }
        }
        let mut union = serde_json::Map::new();
        union.insert("definitions".into(), Value::Object(definitions));
        Schema::with_openapi(&Value::Object(union))
    }

    /// The schema of a resource type, or `None` for types the schema does not know.
    pub fn for_type(&self, api_version: &str, kind: &str) -> Option<NodeId> {
        self.by_type
            .get(&(api_version.to_string(), kind.to_string()))
            .copied()
    }

    /// Schema of a field of an object (a named property, else the map value schema).
    pub fn field(&self, node: NodeId, name: &str) -> Option<NodeId> {
        let node = &self.nodes[node];
        match node.properties.get(name) {
            Some(property) => *property,
            None => node.additional,
        }
    }

    /// Schema of the items of an array schema.
    pub fn elements(&self, node: NodeId) -> Option<NodeId> {
        let node = &self.nodes[node];
        if node.is_array { node.items } else { None }
    }

    /// Patch strategy and merge keys declared on a list field, if it declares a strategy.
    pub fn list_strategy(&self, node: NodeId) -> Option<ListStrategy> {
        let node = &self.nodes[node];
        let strategy = node.strategy.clone()?;
        Some(ListStrategy {
            strategy,
            keys: node.keys.clone(),
        })
    }

    /// Merge keys of a list field: `x-kubernetes-list-map-keys` when present, else the patch
    /// merge key; none when the field declares no patch strategy.
    pub fn merge_keys(&self, node: NodeId) -> &[String] {
        &self.nodes[node].keys
    }

    /// Whether a list with this schema merges (its patch strategy includes `merge`).
    pub fn merges(&self, node: NodeId) -> bool {
        self.nodes[node]
            .strategy
            .as_deref()
            .is_some_and(|s| s.split(',').any(|part| part == "merge"))
    }

    /// Follows a path of field names (`[]` steps into list items) from a node.
    pub fn lookup(&self, mut node: NodeId, path: &[&str]) -> Option<NodeId> {
        for step in path {
            node = if *step == "[]" {
                self.elements(node)?
            } else {
                self.field(node, step)?
            };
        }
        Some(node)
    }
}

fn type_key(gvk: &Value) -> Option<(String, String)> {
    let version = gvk.get("version")?.as_str()?;
    let kind = gvk.get("kind")?.as_str()?;
    let api_version = match gvk.get("group").and_then(Value::as_str) {
        Some(group) if !group.is_empty() => format!("{group}/{version}"),
        _ => version.to_string(),
    };
    Some((api_version, kind.to_string()))
}

#[derive(Default)]
struct Builder {
    schema: Schema,
    defs: HashMap<String, NodeId>,
}

impl Builder {
    fn push(&mut self, node: Node) -> NodeId {
        self.schema.nodes.push(node);
        self.schema.nodes.len() - 1
    }

    /// The definition a `$ref` names; `None` when it names none (kyaml then has no schema).
    fn reference(&self, reference: &str) -> Option<NodeId> {
        let name = reference
            .strip_prefix("#/definitions/")
            .unwrap_or(reference);
        self.defs.get(name).copied()
    }

    /// Schema for a property, list item or map value: a `$ref` resolves to its definition
    /// (dropping the sibling keywords, as kustomize does), anything else is parsed inline.
    fn parse_child(&mut self, body: &Value, at: &str) -> Result<Option<NodeId>, SmpError> {
        if let Some(reference) = body.get("$ref").and_then(Value::as_str) {
            return Ok(self.reference(reference));
        }
        let node = self.parse_inline(body, at)?;
        Ok(Some(self.push(node)))
    }

    fn parse_inline(&mut self, body: &Value, at: &str) -> Result<Node, SmpError> {
        let Some(object) = body.as_object() else {
            return Err(SmpError::InvalidOpenApi {
                reason: format!("{at}: a schema must be an object"),
            });
        };
        let mut node = Node {
            is_array: match object.get("type") {
                Some(Value::String(t)) => t == "array",
                Some(Value::Array(types)) => types.len() == 1 && types[0] == "array",
                _ => false,
            },
            strategy: object
                .get("x-kubernetes-patch-strategy")
                .and_then(Value::as_str)
                .map(str::to_string),
            merge_key: object
                .get("x-kubernetes-patch-merge-key")
                .and_then(Value::as_str)
                .map(str::to_string),
            list_map_keys: object
                .get("x-kubernetes-list-map-keys")
                .and_then(Value::as_array)
                .map(|keys| {
                    keys.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                }),
            ..Node::default()
        };
        if node.strategy.is_some() {
            node.keys = match (&node.list_map_keys, &node.merge_key) {
                (Some(keys), _) => keys.clone(),
                (None, Some(key)) => vec![key.clone()],
                (None, None) => Vec::new(),
            };
        }
        if let Some(properties) = object.get("properties").and_then(Value::as_object) {
            for (name, prop) in properties {
                let child = self.parse_child(prop, &format!("{at}.{name}"))?;
                node.properties.insert(name.clone(), child);
            }
        }
        if let Some(extra) = object.get("additionalProperties")
            && extra.is_object()
        {
            node.additional = self.parse_child(extra, &format!("{at}.additionalProperties"))?;
        }
        if let Some(items) = object.get("items")
            && items.is_object()
        {
            node.items = self.parse_child(items, &format!("{at}.items"))?;
        }
        Ok(node)
    }

    fn resolve_aliases(
        &mut self,
        definitions: &serde_json::Map<String, Value>,
    ) -> Result<(), SmpError> {
        // A definition whose body is a bare `$ref` takes the body of what it points to.
        for (name, body) in definitions {
            let mut seen = 0;
            let mut current = body;
            while let Some(reference) = current.get("$ref").and_then(Value::as_str) {
                seen += 1;
                if seen > definitions.len() {
                    return Err(SmpError::InvalidOpenApi {
                        reason: format!("definitions.{name}: $ref cycle"),
                    });
                }
                let target = reference
                    .strip_prefix("#/definitions/")
                    .unwrap_or(reference);
                let Some(next) = definitions.get(target) else {
                    break;
                };
                current = next;
                let target_id = self.defs[target];
                let id = self.defs[name];
                self.schema.nodes[id] = self.schema.nodes[target_id].clone();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_knows_pod_spec_merge_keys() {
        let schema = Schema::builtin();
        let deployment = schema.for_type("apps/v1", "Deployment").unwrap();
        let containers = schema
            .lookup(deployment, &["spec", "template", "spec", "containers"])
            .unwrap();
        assert!(schema.merges(containers));
        assert_eq!(schema.list_strategy(containers).unwrap().keys, vec!["name"]);
        let ports = schema.lookup(containers, &["[]", "ports"]).unwrap();
        assert_eq!(
            schema.list_strategy(ports).unwrap().keys,
            vec!["containerPort", "protocol"]
        );
        let args = schema.lookup(containers, &["[]", "args"]);
        assert!(args.is_none_or(|args| !schema.merges(args)));
        let tolerations = schema
            .lookup(deployment, &["spec", "template", "spec", "tolerations"])
            .unwrap();
        assert!(!schema.merges(tolerations));
    }

    #[test]
    fn builtin_has_no_types_newer_than_v1_21() {
        let schema = Schema::builtin();
        assert!(
            schema
                .for_type("autoscaling/v2", "HorizontalPodAutoscaler")
                .is_none()
        );
        assert!(schema.for_type("batch/v1", "CronJob").is_some());
        assert!(schema.for_type("v1", "Service").is_some());
    }

    #[test]
    fn custom_document_resolves_refs_aliases_and_map_values() {
        let doc = serde_json::json!({"definitions": {
            "a.Widget": {
                "x-kubernetes-group-version-kind": [{"group": "", "version": "v1", "kind": "Widget"}],
                "properties": {
                    "spec": {"$ref": "#/definitions/a.Alias"},
                    "byName": {"type": "object", "additionalProperties": {"$ref": "#/definitions/a.Spec"}}
                }
            },
            "a.Alias": {"$ref": "#/definitions/a.Spec"},
            "a.Spec": {"properties": {"parts": {
                "type": "array",
                "items": {"$ref": "#/definitions/a.Part"},
                "x-kubernetes-patch-strategy": "merge",
                "x-kubernetes-patch-merge-key": "id"
            }}},
            "a.Part": {"properties": {"id": {"type": "string"}}}
        }});
        let schema = Schema::with_openapi(&doc).unwrap();
        let widget = schema.for_type("v1", "Widget").unwrap();
        let parts = schema.lookup(widget, &["spec", "parts"]).unwrap();
        assert_eq!(schema.merge_keys(parts), ["id"]);
        assert!(schema.elements(parts).is_some());
        let by_name = schema
            .lookup(widget, &["byName", "anything", "parts"])
            .unwrap();
        assert!(schema.merges(by_name));
        assert!(schema.for_type("apps/v1", "Deployment").is_none());
    }

    #[test]
    fn dangling_refs_leave_a_field_without_schema() {
        let doc = serde_json::json!({"definitions": {"a": {
            "x-kubernetes-group-version-kind": [{"group": "x", "version": "v1", "kind": "A"}],
            "properties": {"b": {"$ref": "#/definitions/missing"}},
            "additionalProperties": {"type": "object"}
        }}});
        let schema = Schema::with_openapi(&doc).unwrap();
        let a = schema.for_type("x/v1", "A").unwrap();
        assert_eq!(schema.field(a, "b"), None);
        assert!(schema.field(a, "c").is_some());
    }

    #[test]
    fn union_with_builtin_keeps_both_and_prefers_builtin() {
        let doc = serde_json::json!({"definitions": {
            "a.Widget": {
                "x-kubernetes-group-version-kind": [{"group": "example.com", "version": "v1", "kind": "Widget"}],
                "properties": {"template": {"$ref": "#/definitions/io.k8s.api.core.v1.PodTemplateSpec"}}
            },
            "io.k8s.api.core.v1.PodSpec": {"properties": {}}
        }});
        let schema = Schema::with_openapi_and_builtin(&doc).unwrap();
        let widget = schema.for_type("example.com/v1", "Widget").unwrap();
        let containers = schema
            .lookup(widget, &["template", "spec", "containers"])
            .unwrap();
        assert!(
            schema.merges(containers),
            "the built-in PodSpec replaces the custom one"
        );
        assert!(schema.for_type("apps/v1", "Deployment").is_some());
    }

    #[test]
    fn custom_document_without_definitions_is_an_error() {
        let err = Schema::with_openapi(&serde_json::json!({"paths": {}})).unwrap_err();
        assert!(err.to_string().contains("definitions"), "{err}");
    }
}
