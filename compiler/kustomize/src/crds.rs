//! `crds:` files: OpenAPI definitions of custom types (the `{"<pkg>.<Kind>": {"Schema": …}}`
//! map that kube-openapi generates) turned into transformer field specs, as kustomize's
//! `LoadConfigFromCRDs` does. Properties marked with `x-kubernetes-object-ref-kind` /
//! `x-kubernetes-object-ref-api-version` become name references, `x-kubernetes-annotation`,
//! `x-kubernetes-label-selector` and `x-kubernetes-identity` become annotation, label and
//! name-prefix fields.

use serde_json::{Map, Value, json};

/// How deep `$ref` chains are followed; kustomize follows them without bound (and overflows
/// its stack on a cycle), real schemas are far shallower.
const MAX_DEPTH: usize = 64;

/// The configuration document (in `configurations:` form) a `crds:` file describes.
pub fn config_from_definitions(defs: &Value) -> Result<Value, String> {
    let Some(map) = defs.as_object() else {
        return Err("an OpenAPI definitions file must be a mapping of type names".into());
    };
    let mut out = Sections::default();
    for (name, def) in map {
        let Some(props) = properties(def) else {
            continue;
        };
        if !["kind", "apiVersion", "metadata"]
            .iter()
            .all(|k| props.contains_key(*k))
        {
            continue;
        }
        let kind = name.rsplit('.').next().unwrap_or(name);
        load_type(&mut out, kind, map, name, &mut Vec::new(), 0);
    }
    Ok(out.into_value())
}

#[derive(Default)]
struct Sections {
    annotations: Vec<Value>,
    labels: Vec<Value>,
    prefix: Vec<Value>,
    /// (referenced kind, referenced version, referrer spec)
    references: Vec<(String, String, Value)>,
}

impl Sections {
    fn into_value(self) -> Value {
        let mut refs: Vec<Value> = Vec::new();
        for (kind, version, spec) in self.references {
            let found = refs.iter_mut().find(|r| {
                r.get("kind").and_then(Value::as_str) == Some(kind.as_str())
                    && r.get("version").and_then(Value::as_str) == Some(version.as_str())
            });
            match found {
                Some(r) => {
                    if let Some(Value::Array(specs)) = r.get_mut("fieldSpecs")
                        && !specs.contains(&spec)
                    {
                        specs.push(spec);
                    }
                }
                None => refs.push(json!({"kind": kind, "version": version, "fieldSpecs": [spec]})),
            }
        }
        let mut m = Map::new();
        for (key, list) in [
            ("commonAnnotations", self.annotations),
            ("commonLabels", self.labels),
            ("namePrefix", self.prefix),
            ("nameReference", refs),
        ] {
            if !list.is_empty() {
                m.insert(key.into(), Value::Array(list));
            }
        }
        Value::Object(m)
    }
}

/// Field names of Go's `OpenAPIDefinition` match case-insensitively (`Schema` or `schema`).
fn field<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn properties(def: &Value) -> Option<&Map<String, Value>> {
    field(def, "schema")?.get("properties")?.as_object()
}

/// A string-valued `x-…` extension (extension names are case-insensitive).
fn extension<'a>(prop: &'a Value, name: &str) -> Option<&'a str> {
    prop.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
}

fn spec(kind: &str, path: &[String]) -> Value {
    json!({"kind": kind, "path": path.join("/")})
}

fn load_type(
    out: &mut Sections,
    kind: &str,
    defs: &Map<String, Value>,
    type_name: &str,
    path: &mut Vec<String>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    let Some(props) = defs.get(type_name).and_then(properties) else {
        return;
    };
    for (prop_name, prop) in props {
        path.push(prop_name.clone());
        if extension(prop, "x-kubernetes-annotation").is_some() {
            out.annotations.push(spec(kind, path));
        }
        if extension(prop, "x-kubernetes-label-selector").is_some() {
            out.labels.push(spec(kind, path));
        }
        if extension(prop, "x-kubernetes-identity").is_some() {
            out.prefix.push(spec(kind, path));
        }
        if let (Some(version), Some(ref_kind)) = (
            extension(prop, "x-kubernetes-object-ref-api-version"),
            extension(prop, "x-kubernetes-object-ref-kind"),
        ) {
            let key = extension(prop, "x-kubernetes-object-ref-name-key").unwrap_or("name");
            path.push(key.to_string());
            out.references
                .push((ref_kind.to_string(), version.to_string(), spec(kind, path)));
            path.pop();
        }
        if let Some(r) = prop.get("$ref").and_then(Value::as_str)
            && !r.is_empty()
        {
            load_type(out, kind, defs, r, path, depth + 1);
        }
        path.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_refs_become_name_references() {
        let defs = json!({
            "pkg.v1.MyKind": {"Schema": {"properties": {
                "apiVersion": {}, "kind": {}, "metadata": {},
                "spec": {"$ref": "pkg.v1.MyKindSpec"},
            }}},
            "pkg.v1.MyKindSpec": {"Schema": {"properties": {
                "secretRef": {
                    "x-kubernetes-object-ref-api-version": "v1",
                    "x-kubernetes-object-ref-kind": "Secret",
                },
                "selector": {"x-kubernetes-label-selector": ""},
            }}},
        });
        let cfg = config_from_definitions(&defs).unwrap();
        assert_eq!(
            cfg,
            json!({
                "commonLabels": [{"kind": "MyKind", "path": "spec/selector"}],
                "nameReference": [{"kind": "Secret", "version": "v1", "fieldSpecs": [
                    {"kind": "MyKind", "path": "spec/secretRef/name"}
                ]}],
            })
        );
    }

    #[test]
    fn a_ref_cycle_ends() {
        let defs = json!({
            "a.A": {"Schema": {"properties": {
                "apiVersion": {}, "kind": {}, "metadata": {}, "next": {"$ref": "a.A"},
            }}},
        });
        assert_eq!(config_from_definitions(&defs).unwrap(), json!({}));
    }
}
