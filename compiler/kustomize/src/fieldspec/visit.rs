//! The field-spec path engine: finds (and optionally creates) the fields a spec names inside an
//! object and hands each one to a transformer, with kustomize's traversal rules.
//!
//! Lists met along the path are entered element by element (the path needs no `[]` for that);
//! a null or missing field ends the walk quietly unless the spec creates fields; the callback
//! gets the final field even when it holds `null`.

use serde_json::{Map, Value};

use super::error::FieldSpecError;
use super::spec::FieldSpec;

/// What to create at the end of the path when the spec has `create: true`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateKind {
    /// An empty map (labels, annotations, selectors).
    Map,
    /// An empty string, for the callback to fill (names, namespaces, images).
    Scalar,
    /// An empty list.
    Sequence,
}

impl CreateKind {
    fn empty(self) -> Value {
        match self {
            CreateKind::Map => Value::Object(Map::new()),
            CreateKind::Scalar => Value::String(String::new()),
            CreateKind::Sequence => Value::Array(Vec::new()),
        }
    }
}

/// Calls `set` on every field `spec` names in `object`, if the spec selects the object's type.
/// With `create` set and `spec.create` true, missing maps along the path are created and the
/// last field is created as `create` says; fields under a `name[]` segment are never created.
pub fn visit<E, F>(
    object: &mut Value,
    spec: &FieldSpec,
    create: Option<CreateKind>,
    mut set: F,
) -> Result<(), E>
where
    F: FnMut(&mut Value) -> Result<(), E>,
    E: From<FieldSpecError>,
{
    if !spec.gvk.selects_object(object) {
        return Ok(());
    }
    let create = if spec.create { create } else { None };
    walk(object, spec.segments(), create, &spec.path, &mut set, 0)
}

/// Lists nested directly in lists, beyond which the walk reports an error rather than recurse.
const MAX_NESTED_LISTS: usize = 64;

fn walk<E, F>(
    node: &mut Value,
    path: &[String],
    create: Option<CreateKind>,
    full_path: &str,
    set: &mut F,
    nested_lists: usize,
) -> Result<(), E>
where
    F: FnMut(&mut Value) -> Result<(), E>,
    E: From<FieldSpecError>,
{
    let Some((segment, rest)) = path.split_first() else {
        return set(node);
    };
    match node {
        Value::Null => Ok(()),
        Value::Array(items) => {
            if nested_lists >= MAX_NESTED_LISTS {
                return Err(traversal(full_path, "lists nested too deeply").into());
            }
            for item in items {
                walk(item, path, create, full_path, set, nested_lists + 1)?;
            }
            Ok(())
        }
        Value::Object(map) => {
            let (name, is_list) = match segment.strip_suffix("[]") {
                Some(name) => (name, true),
                None => (segment.as_str(), false),
            };
            if name.is_empty() {
                return Err(
                    traversal(full_path, "cannot set or create an empty field name").into(),
                );
            }
            let kind = match create {
                _ if is_list => Some(CreateKind::Sequence),
                Some(_) if !rest.is_empty() => Some(CreateKind::Map),
                other => other,
            };
            let creating = create.is_some() && !is_list;
            if !map.contains_key(name) {
                if !creating {
                    return Ok(());
                }
                let kind = kind.expect("creating implies a kind");
                map.insert(name.to_string(), kind.empty());
            }
            let field = map.get_mut(name).expect("present or just created");
            if field.is_null()
                && let Some(kind) = kind
            {
                *field = kind.empty();
            }
            walk(field, rest, create, full_path, set, 0)
        }
        _ => Err(traversal(full_path, "expected sequence or mapping node").into()),
    }
}

fn traversal(path: &str, message: &str) -> FieldSpecError {
    FieldSpecError::Traversal {
        path: path.to_string(),
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::spec::Gvk;
    use super::*;
    use serde_json::json;

    fn spec(kind: &str, path: &str, create: bool) -> FieldSpec {
        let gvk = Gvk {
            kind: kind.into(),
            ..Gvk::default()
        };
        FieldSpec::new(gvk, path, create)
    }

    fn add_label(node: &mut Value) -> Result<(), FieldSpecError> {
        if let Value::Object(map) = node {
            map.insert("team".into(), json!("a"));
        }
        Ok(())
    }

    #[test]
    fn creates_missing_maps_when_asked() {
        let mut deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {}});
        visit(
            &mut deployment,
            &spec("Deployment", "spec/template/metadata/labels", true),
            Some(CreateKind::Map),
            add_label,
        )
        .unwrap();
        assert_eq!(
            deployment["spec"]["template"]["metadata"]["labels"],
            json!({"team": "a"})
        );
    }

    #[test]
    fn leaves_missing_fields_alone_without_create() {
        let mut deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {}});
        let before = deployment.clone();
        let s = spec(
            "Deployment",
            "spec/template/spec/affinity/podAffinity/labelSelector/matchLabels",
            false,
        );
        visit(&mut deployment, &s, Some(CreateKind::Map), add_label).unwrap();
        assert_eq!(deployment, before);
    }

    #[test]
    fn enters_every_list_element() {
        let mut pod = json!({"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [
            {"name": "a", "image": "nginx"}, {"name": "b", "image": "redis"}, {"name": "c"}]}});
        let mut seen = Vec::new();
        visit(
            &mut pod,
            &spec("", "spec/containers/image", false),
            None,
            |image: &mut Value| {
                seen.push(image.clone());
                *image = json!("x");
                Ok::<_, FieldSpecError>(())
            },
        )
        .unwrap();
        assert_eq!(seen, [json!("nginx"), json!("redis")]);
        assert_eq!(pod["spec"]["containers"][2], json!({"name": "c"}));
    }

    #[test]
    fn list_segments_create_only_the_leaf_inside_elements() {
        let mut pod =
            json!({"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [{"name": "a"}]}});
        let s = spec("", "spec/containers[]/image", true);
        visit(
            &mut pod,
            &s,
            Some(CreateKind::Scalar),
            |image: &mut Value| {
                *image = json!("nginx");
                Ok::<_, FieldSpecError>(())
            },
        )
        .unwrap();
        assert_eq!(pod["spec"]["containers"][0]["image"], "nginx");
        let mut no_containers = json!({"apiVersion": "v1", "kind": "Pod", "spec": {}});
        visit(
            &mut no_containers,
            &s,
            Some(CreateKind::Scalar),
            |_: &mut Value| Ok::<_, FieldSpecError>(()),
        )
        .unwrap();
        assert_eq!(
            no_containers,
            json!({"apiVersion": "v1", "kind": "Pod", "spec": {}})
        );
    }

    #[test]
    fn null_fields_become_the_created_kind() {
        let mut service =
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"labels": null}});
        visit(
            &mut service,
            &spec("", "metadata/labels", true),
            Some(CreateKind::Map),
            add_label,
        )
        .unwrap();
        assert_eq!(service["metadata"]["labels"], json!({"team": "a"}));
    }

    #[test]
    fn group_and_version_must_match_when_given() {
        let mut old = json!({"apiVersion": "extensions/v1beta1", "kind": "Deployment", "spec": {}});
        let apps = FieldSpec::new(
            Gvk {
                group: "apps".into(),
                kind: "Deployment".into(),
                ..Gvk::default()
            },
            "spec/x",
            true,
        );
        visit(&mut old, &apps, Some(CreateKind::Map), add_label).unwrap();
        assert_eq!(old["spec"], json!({}));
    }

    #[test]
    fn escaped_slashes_name_one_key() {
        let mut cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"annotations": {"example.com/owner": "a"}}});
        let s = spec("", r"metadata/annotations/example.com\/owner", false);
        visit(&mut cm, &s, None, |v: &mut Value| {
            *v = json!("b");
            Ok::<_, FieldSpecError>(())
        })
        .unwrap();
        assert_eq!(cm["metadata"]["annotations"]["example.com/owner"], "b");
    }

    #[test]
    fn lists_of_lists_are_entered_but_bounded() {
        let mut nested =
            json!({"apiVersion": "v1", "kind": "Pod", "spec": [[{"a": 1}], [{"a": 2}]]});
        let mut seen = 0;
        visit(
            &mut nested,
            &spec("", "spec/a", false),
            None,
            |_: &mut Value| {
                seen += 1;
                Ok::<_, FieldSpecError>(())
            },
        )
        .unwrap();
        assert_eq!(seen, 2);
        let mut deep = json!({"a": 1});
        for _ in 0..100 {
            deep = json!([deep]);
        }
        let mut pod = json!({"apiVersion": "v1", "kind": "Pod", "spec": deep});
        let err = visit(
            &mut pod,
            &spec("", "spec/a", false),
            None,
            |_: &mut Value| Ok::<_, FieldSpecError>(()),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "considering field 'spec/a': lists nested too deeply"
        );
    }

    #[test]
    fn scalars_in_the_middle_of_a_path_are_errors() {
        let mut pod = json!({"apiVersion": "v1", "kind": "Pod", "spec": "oops"});
        let err = visit(
            &mut pod,
            &spec("", "spec/containers", false),
            None,
            |_: &mut Value| Ok::<_, FieldSpecError>(()),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "considering field 'spec/containers': expected sequence or mapping node"
        );
    }
}
