//! A field spec: which objects (group/version/kind selector) and which field path inside them a
//! transformer touches, with kustomize's matching and path-splitting rules.

use std::cmp::Ordering;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::error::FieldSpecError;

/// A group/version/kind; as a selector, empty parts match anything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Gvk {
    pub group: String,
    pub version: String,
    pub kind: String,
}

/// Kinds kustomize orders first (in this order) when it sorts by type; unknown kinds sit between.
/// The single list of kustomize's legacy kind order: the output sort uses it too.
pub const ORDER_FIRST: &[&str] = &[
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];

/// Kinds kustomize orders last (in this order).
pub const ORDER_LAST: &[&str] = &[
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

impl Gvk {
    /// Splits an `apiVersion` (`group/version` or `version`) and pairs it with a kind.
    pub fn from_api_version(api_version: &str, kind: &str) -> Gvk {
        let (group, version) = match api_version.split_once('/') {
            Some((group, version)) => (group, version),
            None => ("", api_version),
        };
        Gvk {
            group: group.to_string(),
            version: version.to_string(),
            kind: kind.to_string(),
        }
    }

    /// The type of a Kubernetes object (its `apiVersion` and `kind`; missing ones are empty).
    pub fn of(object: &Value) -> Gvk {
        let text = |key: &str| object.get(key).and_then(Value::as_str).unwrap_or("");
        Gvk::from_api_version(text("apiVersion"), text("kind"))
    }

    /// Whether `self`, used as a selector, selects the type of `object` (as
    /// `self.selects(&Gvk::of(object))` says, without building that Gvk).
    pub fn selects_object(&self, object: &Value) -> bool {
        let text = |key: &str| object.get(key).and_then(Value::as_str).unwrap_or("");
        let (group, version) = match text("apiVersion").split_once('/') {
            Some((group, version)) => (group, version),
            None => ("", text("apiVersion")),
        };
        (self.group.is_empty() || self.group == group)
            && (self.version.is_empty() || self.version == version)
            && (self.kind.is_empty() || self.kind == text("kind"))
    }

    /// Whether `self`, used as a selector, selects `other`: every non-empty part must be equal.
    pub fn selects(&self, other: &Gvk) -> bool {
        (self.group.is_empty() || self.group == other.group)
            && (self.version.is_empty() || self.version == other.version)
            && (self.kind.is_empty() || self.kind == other.kind)
    }

    /// `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// kustomize's type order: listed kinds first and last, then by group, version, kind
    /// (compared as the text `group_version_kind`, `~G`/`~V`/`~K` standing for empty parts).
    pub fn type_order(&self, other: &Gvk) -> Ordering {
        rank(&self.kind)
            .cmp(&rank(&other.kind))
            .then_with(|| self.sort_bytes().cmp(other.sort_bytes()))
    }

    fn sort_bytes(&self) -> impl Iterator<Item = u8> + '_ {
        fn or<'a>(part: &'a str, missing: &'static str) -> &'a str {
            if part.is_empty() { missing } else { part }
        }
        or(&self.group, "~G")
            .bytes()
            .chain(*b"_")
            .chain(or(&self.version, "~V").bytes())
            .chain(*b"_")
            .chain(or(&self.kind, "~K").bytes())
    }
}

fn rank(kind: &str) -> i64 {
    if let Some(i) = ORDER_FIRST.iter().position(|k| *k == kind) {
        return i as i64 - ORDER_FIRST.len() as i64;
    }
    if let Some(i) = ORDER_LAST.iter().position(|k| *k == kind) {
        return i as i64 + 1;
    }
    0
}

/// One field a transformer touches in the objects its selector matches.
#[derive(Debug, Clone)]
pub struct FieldSpec {
    /// Selector of the objects this spec applies to.
    pub gvk: Gvk,
    /// Path as written, e.g. `spec/template/metadata/labels`.
    pub path: String,
    /// Whether missing fields along the path are created.
    pub create: bool,
    /// The path split, on first use: most specs of the defaults are never walked in a build.
    segments: OnceLock<Vec<String>>,
}

impl PartialEq for FieldSpec {
    fn eq(&self, other: &FieldSpec) -> bool {
        self.gvk == other.gvk && self.path == other.path && self.create == other.create
    }
}

impl Eq for FieldSpec {}

impl FieldSpec {
    pub fn new(gvk: Gvk, path: &str, create: bool) -> FieldSpec {
        FieldSpec {
            gvk,
            path: path.to_string(),
            create,
            segments: OnceLock::new(),
        }
    }

    /// The path split into field names; a name ending in `[]` expects a list.
    pub fn segments(&self) -> &[String] {
        self.segments.get_or_init(|| split_path(&self.path))
    }

    /// Whether this spec applies to an object of the given type.
    pub fn applies_to(&self, gvk: &Gvk) -> bool {
        self.gvk.selects(gvk)
    }

    /// Same path and a selector that selects the other's (kustomize's duplicate test).
    pub fn same_field_as(&self, other: &FieldSpec) -> bool {
        other.gvk.selects(&self.gvk) && self.path == other.path
    }

    /// Reads one spec: `{path, group?, version?, kind?, create?}`; unknown keys are errors.
    pub fn from_value(value: &Value, at: &str) -> Result<FieldSpec, FieldSpecError> {
        let map = as_map(value, at)?;
        let mut gvk = Gvk::default();
        let mut path = None;
        let mut create = false;
        for (key, field) in map {
            let here = format!("{at}.{key}");
            match key.as_str() {
                "path" => path = Some(as_string(field, &here)?),
                "group" => gvk.group = as_string(field, &here)?,
                "version" => gvk.version = as_string(field, &here)?,
                "kind" => gvk.kind = as_string(field, &here)?,
                "create" => {
                    create = match field {
                        Value::Bool(b) => *b,
                        Value::Null => false,
                        _ => return Err(FieldSpecError::invalid(&here, "expected true or false")),
                    }
                }
                _ => return Err(FieldSpecError::unknown_field(at, key)),
            }
        }
        let path = path.unwrap_or_default();
        Ok(FieldSpec::new(gvk, &path, create))
    }

    /// The spec as kustomize writes it, for error messages and debugging.
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        for (key, part) in [
            ("group", &self.gvk.group),
            ("version", &self.gvk.version),
            ("kind", &self.gvk.kind),
        ] {
            if !part.is_empty() {
                map.insert(key.into(), Value::String(part.clone()));
            }
        }
        map.insert("path".into(), Value::String(self.path.clone()));
        if self.create {
            map.insert("create".into(), Value::Bool(true));
        }
        Value::Object(map)
    }
}

/// Splits a path at `/`, dropping one leading `/`; a segment ending in `\` continues with a
/// literal `/` (so `metadata/annotations/example.com\/x` has three segments).
pub fn split_path(path: &str) -> Vec<String> {
    let mut parts: Vec<&str> = path.split('/').collect();
    if parts.len() > 1 && parts[0].is_empty() {
        parts.remove(0);
    }
    let mut segments: Vec<String> = Vec::with_capacity(parts.len());
    for part in parts {
        match segments.last_mut() {
            Some(last) if last.ends_with('\\') => {
                last.pop();
                last.push('/');
                last.push_str(part);
            }
            _ => segments.push(part.to_string()),
        }
    }
    segments
}

pub(super) fn as_map<'v>(
    value: &'v Value,
    at: &str,
) -> Result<&'v Map<String, Value>, FieldSpecError> {
    value
        .as_object()
        .ok_or_else(|| FieldSpecError::invalid(at, "expected a map"))
}

pub(super) fn as_string(value: &Value, at: &str) -> Result<String, FieldSpecError> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Null => Ok(String::new()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(FieldSpecError::invalid(at, "expected a string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_on_slashes_with_escapes() {
        assert_eq!(
            split_path("spec/template/metadata/labels"),
            ["spec", "template", "metadata", "labels"]
        );
        assert_eq!(split_path("/metadata/name"), ["metadata", "name"]);
        assert_eq!(
            split_path(r"metadata/annotations/example.com\/owner"),
            ["metadata", "annotations", "example.com/owner"]
        );
        assert_eq!(
            split_path("spec/containers[]/image"),
            ["spec", "containers[]", "image"]
        );
    }

    #[test]
    fn empty_selector_parts_match_anything() {
        let deployment = Gvk::from_api_version("apps/v1", "Deployment");
        let old_deployment = Gvk::from_api_version("extensions/v1beta1", "Deployment");
        let kind_only = Gvk {
            kind: "Deployment".into(),
            ..Gvk::default()
        };
        let apps_only = Gvk {
            group: "apps".into(),
            kind: "Deployment".into(),
            ..Gvk::default()
        };
        assert!(kind_only.selects(&deployment) && kind_only.selects(&old_deployment));
        assert!(apps_only.selects(&deployment) && !apps_only.selects(&old_deployment));
        let core = Gvk::from_api_version("v1", "Service");
        let v1_service = Gvk {
            version: "v1".into(),
            kind: "Service".into(),
            ..Gvk::default()
        };
        assert!(v1_service.selects(&core));
        assert!(Gvk::default().selects(&core));
    }

    #[test]
    fn type_order_puts_namespaces_first_and_webhooks_last() {
        let ns = Gvk::from_api_version("v1", "Namespace");
        let widget = Gvk::from_api_version("example.com/v1", "Widget");
        let webhook = Gvk::from_api_version(
            "admissionregistration.k8s.io/v1",
            "ValidatingWebhookConfiguration",
        );
        assert_eq!(ns.type_order(&widget), Ordering::Less);
        assert_eq!(widget.type_order(&webhook), Ordering::Less);
        let any = Gvk::default();
        assert_eq!(
            widget.type_order(&any),
            Ordering::Less,
            "example.com sorts before ~G"
        );
    }
}
