//! Merge metadata read from OpenAPI v2 definitions: which lists merge by key, with which keys,
//! and how to step from a type to the schema of its fields and list items.
//!
//! The built-in schema is the Kubernetes v1.21 API, the version kustomize v5 compiles in,
//! reduced by `scripts/gen-metadata.py` to `data/k8s-v1.21-merge-schema.json`. A custom
//! document (a kustomization's `openapi:` field) is read with the same code and, as in
//! kustomize, replaces the built-in schema instead of extending it.

use std::collections::HashMap;

use serde_json::Value;

use crate::builtin_schema;
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
#[derive(Debug, Clone)]
pub struct Schema {
    tables: Tables,
}

#[derive(Debug, Clone)]
enum Tables {
    /// Read at run time (a kustomization's `openapi:` document).
    Parsed {
        nodes: Vec<Node>,
        by_type: HashMap<(String, String), NodeId>,
    },
    /// The built-in schema, compiled into the binary ([`crate::builtin_schema`]).
    Static,
}

impl Default for Schema {
    fn default() -> Self {
        Schema {
            tables: Tables::Parsed {
                nodes: Vec::new(),
                by_type: HashMap::new(),
            },
        }
    }
}

/// A node of the compiled-in built-in schema. Property lists are sorted by name; node ids that
/// are [`NO_NODE`] mean "no schema".
#[derive(Debug)]
pub(crate) struct StaticNode {
    pub properties: &'static [(&'static str, u32)],
    pub additional: u32,
    pub items: u32,
    pub is_array: bool,
    pub strategy: Option<&'static str>,
    pub keys: &'static [&'static str],
}

/// The "no schema" node id in the compiled-in tables.
pub(crate) const NO_NODE: u32 = u32::MAX;

fn static_id(id: u32) -> Option<NodeId> {
    (id != NO_NODE).then_some(id as NodeId)
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
    ///
    /// The tables are compiled in (generated from the JSON document by the
    /// `builtin_tables_are_current` test), so using them costs nothing at start-up.
    pub fn builtin() -> &'static Schema {
        static BUILTIN_SCHEMA: Schema = Schema {
            tables: Tables::Static,
        };
        &BUILTIN_SCHEMA
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
            let id = builder.nodes.len();
            builder.nodes.push(Node::default());
            builder.defs.insert(name.clone(), id);
        }
        for (name, body) in definitions {
            let id = builder.defs[name];
            if body.get("$ref").is_none() {
                let node = builder.parse_inline(body, &format!("definitions.{name}"))?;
                builder.nodes[id] = node;
            }
            if let Some(gvks) = body
                .get("x-kubernetes-group-version-kind")
                .and_then(Value::as_array)
            {
                for gvk in gvks {
                    if let Some(key) = type_key(gvk) {
                        builder.by_type.insert(key, id);
                    }
                }
            }
        }
        builder.resolve_aliases(definitions)?;
        Ok(Schema {
            tables: Tables::Parsed {
                nodes: builder.nodes,
                by_type: builder.by_type,
            },
        })
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
        match &self.tables {
            Tables::Parsed { by_type, .. } => by_type
                .get(&(api_version.to_string(), kind.to_string()))
                .copied(),
            Tables::Static => builtin_schema::TYPES
                .binary_search_by(|(a, k, _)| (*a, *k).cmp(&(api_version, kind)))
                .ok()
                .map(|i| builtin_schema::TYPES[i].2 as NodeId),
        }
    }

    /// Schema of a field of an object (a named property, else the map value schema).
    pub fn field(&self, node: NodeId, name: &str) -> Option<NodeId> {
        match &self.tables {
            Tables::Parsed { nodes, .. } => {
                let node = &nodes[node];
                match node.properties.get(name) {
                    Some(property) => *property,
                    None => node.additional,
                }
            }
            Tables::Static => {
                let node = &builtin_schema::NODES[node];
                match node.properties.binary_search_by(|(n, _)| (*n).cmp(name)) {
                    Ok(i) => static_id(node.properties[i].1),
                    Err(_) => static_id(node.additional),
                }
            }
        }
    }

    /// Schema of the items of an array schema.
    pub fn elements(&self, node: NodeId) -> Option<NodeId> {
        match &self.tables {
            Tables::Parsed { nodes, .. } => {
                let node = &nodes[node];
                if node.is_array { node.items } else { None }
            }
            Tables::Static => {
                let node = &builtin_schema::NODES[node];
                if node.is_array {
                    static_id(node.items)
                } else {
                    None
                }
            }
        }
    }

    /// Patch strategy and merge keys declared on a list field, if it declares a strategy.
    pub fn list_strategy(&self, node: NodeId) -> Option<ListStrategy> {
        Some(ListStrategy {
            strategy: self.strategy(node)?.to_string(),
            keys: self.merge_keys(node),
        })
    }

    fn strategy(&self, node: NodeId) -> Option<&str> {
        match &self.tables {
            Tables::Parsed { nodes, .. } => nodes[node].strategy.as_deref(),
            Tables::Static => builtin_schema::NODES[node].strategy,
        }
    }

    /// Merge keys of a list field: `x-kubernetes-list-map-keys` when present, else the patch
    /// merge key; none when the field declares no patch strategy.
    pub fn merge_keys(&self, node: NodeId) -> Vec<String> {
        match &self.tables {
            Tables::Parsed { nodes, .. } => nodes[node].keys.clone(),
            Tables::Static => builtin_schema::NODES[node]
                .keys
                .iter()
                .map(|k| k.to_string())
                .collect(),
        }
    }

    /// Whether a list with this schema merges (its patch strategy includes `merge`).
    pub fn merges(&self, node: NodeId) -> bool {
        self.strategy(node)
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
    nodes: Vec<Node>,
    by_type: HashMap<(String, String), NodeId>,
    defs: HashMap<String, NodeId>,
}

impl Builder {
    fn push(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        self.nodes.len() - 1
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
                self.nodes[id] = self.nodes[target_id].clone();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rust source of the compiled-in tables ([`crate::builtin_schema`]) for a parsed schema.
    fn render_static_tables(schema: &Schema) -> String {
        use std::fmt::Write as _;
        let Tables::Parsed { nodes, by_type } = &schema.tables else {
            panic!("only a parsed schema can be rendered");
        };
        let id = |id: Option<NodeId>| id.map_or("N".to_string(), |i| i.to_string());
        let mut out = String::from(
            "//! The built-in merge schema (Kubernetes v1.21) as static tables, so that using it costs\n\
             //! nothing at start-up. Generated from `data/k8s-v1.21-merge-schema.json` by the\n\
             //! `builtin_tables_are_current` test; regenerate with\n\
             //! `KILN_REGENERATE=1 cargo test -p kiln-smp builtin_tables_are_current`. Do not edit.\n\n\
             use crate::schema::{NO_NODE as N, StaticNode};\n\n\
             /// Resource types (apiVersion, kind) and their node, sorted.\n\
             pub(crate) static TYPES: &[(&str, &str, u32)] = &[\n",
        );
        let mut types: Vec<_> = by_type.iter().collect();
        types.sort();
        for ((api_version, kind), node) in types {
            writeln!(out, "    ({api_version:?}, {kind:?}, {node}),").unwrap();
        }
        out.push_str("];\n\n/// Schema nodes, indexed by node id.\npub(crate) static NODES: &[StaticNode] = &[\n");
        for node in nodes {
            let mut properties: Vec<_> = node.properties.iter().collect();
            properties.sort();
            let properties: Vec<String> = properties
                .into_iter()
                .map(|(name, child)| format!("({name:?}, {})", id(*child)))
                .collect();
            let keys: Vec<String> = node.keys.iter().map(|k| format!("{k:?}")).collect();
            writeln!(
                out,
                "    StaticNode {{ properties: &[{}], additional: {}, items: {}, is_array: {}, strategy: {:?}, keys: &[{}] }},",
                properties.join(", "),
                id(node.additional),
                id(node.items),
                node.is_array,
                node.strategy,
                keys.join(", "),
            )
            .unwrap();
        }
        out.push_str("];\n");
        out
    }

    #[test]
    fn builtin_tables_are_current() {
        let doc: Value = serde_json::from_str(BUILTIN).unwrap();
        let parsed = Schema::with_openapi(&doc).unwrap();
        let rendered = render_static_tables(&parsed);
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/builtin_schema.rs");
        if std::env::var_os("KILN_REGENERATE").is_some() {
            std::fs::write(path, &rendered).unwrap();
        }
        let current = std::fs::read_to_string(path).unwrap();
        assert!(
            current == rendered,
            "src/builtin_schema.rs is stale: run KILN_REGENERATE=1 cargo test -p kiln-smp builtin_tables_are_current"
        );
    }

    #[test]
    fn builtin_tables_answer_like_the_parsed_document() {
        let doc: Value = serde_json::from_str(BUILTIN).unwrap();
        let parsed = Schema::with_openapi(&doc).unwrap();
        let compiled = Schema::builtin();
        for (api_version, kind, _) in builtin_schema::TYPES {
            let a = parsed.for_type(api_version, kind).unwrap();
            let b = compiled.for_type(api_version, kind).unwrap();
            assert_eq!(a, b);
            for path in [
                &["spec", "template", "spec", "containers"][..],
                &["spec", "template", "spec", "containers", "[]", "ports"],
                &["spec", "ports"],
                &["metadata", "labels", "anything"],
                &["subjects"],
                &["webhooks"],
                &["spec", "no-such-field"],
            ] {
                let (a, b) = (parsed.lookup(a, path), compiled.lookup(b, path));
                assert_eq!(a, b, "{api_version} {kind} {path:?}");
                if let Some(n) = a {
                    assert_eq!(parsed.list_strategy(n), compiled.list_strategy(n));
                    assert_eq!(parsed.merges(n), compiled.merges(n));
                }
            }
        }
        assert_eq!(compiled.for_type("v1", "NoSuchKind"), None);
    }

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
