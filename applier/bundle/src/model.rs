//! The data a bundle is made of: what the compiler hands in ([`BundleSpec`]) and what the
//! manifest records ([`Manifest`]).
//!
//! The spec is the compiler's typed output; the manifest is the on-disk contract read by the
//! applier, `kiln diff` and `kiln inspect`. Field names here are the JSON field names of
//! `bundle.json` (see `FORMAT.md`).

use crate::digest::Digest;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// The manifest format this crate writes and the only one it reads.
pub const FORMAT: &str = "kiln.bundle/v1";

/// Where an object came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// The component that produced the object.
    pub component: String,
    /// The file, relative to its source or project root (never an absolute path).
    pub file: String,
    /// The 1-based line where the object's document starts in `file`.
    pub line: usize,
    /// The renderer that produced the object (`manifests`, `kustomize`, `helm`, `stdlib:tenant`…).
    pub producer: String,
    /// The declared source the file was read from (`None` for files of the project itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// One component as the compiler hands it to the writer.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentSpec {
    pub name: String,
    pub depends_on: Vec<String>,
    /// The rendered objects with where each came from, in any order.
    pub objects: Vec<(Value, Provenance)>,
    /// What the component may do in the cluster (enforced by the applier).
    pub tenancy: Tenancy,
}

/// A component's tenant policy: the identity the applier acts as for its objects and the
/// namespaces they must stay in. The default is unrestricted (the applier's own identity).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tenancy {
    /// When set, the only namespaces the component's objects may be in; nothing cluster-scoped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespaces: Option<Vec<String>>,
    /// `namespace/name` of the service account the applier impersonates for this component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
}

impl Tenancy {
    /// No service account and no namespace restriction.
    pub fn is_unrestricted(&self) -> bool {
        self.namespaces.is_none() && self.service_account.is_none()
    }
}

/// Everything a bundle holds, as the compiler hands it to [`crate::build`].
#[derive(Debug, Clone, PartialEq)]
pub struct BundleSpec {
    pub project: String,
    pub target: String,
    /// The compiler's version string (`kiln 0.1.0`), recorded so a bundle says what built it.
    pub compiler_version: String,
    pub components: Vec<ComponentSpec>,
    /// Apply waves: component names; components in one wave do not depend on each other, and
    /// every component is in exactly one wave, after all of its dependencies.
    pub waves: Vec<Vec<String>>,
    /// The lock data the bundle was built from (sources pinned to immutable identities).
    pub lock: Option<Value>,
}

/// The identity of a Kubernetes object: its API group, version, kind, namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectId {
    /// The API group (`apps`), empty for the core group.
    pub group: String,
    pub kind: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub version: String,
}

impl ObjectId {
    /// Reads the identity of an object: `apiVersion`, `kind`, `metadata.name` and the optional
    /// `metadata.namespace` (an empty namespace counts as none).
    pub fn of(object: &Value) -> Result<ObjectId, String> {
        let Some(map) = object.as_object() else {
            return Err(format!("is {}, not a mapping", kind_of(object)));
        };
        let api_version = match map.get("apiVersion") {
            Some(Value::String(s)) if !s.is_empty() => s,
            Some(_) => return Err("has an `apiVersion` that is not a non-empty string".into()),
            None => return Err("has no `apiVersion`".into()),
        };
        let kind = match map.get("kind") {
            Some(Value::String(s)) if !s.is_empty() => s,
            Some(_) => return Err("has a `kind` that is not a non-empty string".into()),
            None => return Err("has no `kind`".into()),
        };
        let Some(metadata) = map.get("metadata").and_then(Value::as_object) else {
            return Err("has no `metadata` mapping".into());
        };
        let name = match metadata.get("name") {
            Some(Value::String(s)) if !s.is_empty() => s,
            Some(_) => return Err("has a `metadata.name` that is not a non-empty string".into()),
            None => return Err("has no `metadata.name`".into()),
        };
        let namespace = match metadata.get("namespace") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.is_empty() => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err("has a `metadata.namespace` that is not a string".into()),
        };
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (String::new(), api_version.clone()),
        };
        Ok(ObjectId {
            group,
            version,
            kind: kind.clone(),
            namespace,
            name: name.clone(),
        })
    }

    /// The identity that stays the same across API versions: group, kind, namespace, name.
    pub fn key(&self) -> ObjectKey {
        ObjectKey {
            group: self.group.clone(),
            kind: self.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }

    /// `apps/v1` or `v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.api_version(), self.key().display_name())
    }
}

/// An object's identity for diffs and duplicate checks: the same object under another API
/// version is still the same object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ObjectKey {
    pub group: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectKey {
    /// `Kind namespace/name` or `Kind name`, with `.group` after the kind when not core.
    pub fn display_name(&self) -> String {
        let kind = if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        };
        match &self.namespace {
            Some(ns) => format!("{kind} {ns}/{}", self.name),
            None => format!("{kind} {}", self.name),
        }
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display_name())
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a sequence",
        Value::Object(_) => "a mapping",
    }
}

/// `bundle.json`: the root of a bundle. Its canonical bytes are hashed into the bundle digest.
///
/// Fields of the manifest types are declared in bytewise order of their JSON names, so that
/// serializing them directly gives canonical JSON (see [`crate::canonical::manifest_bytes`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The compiler that wrote the bundle.
    pub compiler: String,
    /// Components ordered by wave, then name.
    pub components: Vec<ComponentEntry>,
    /// Always [`FORMAT`].
    pub format: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::canonical::serialize_sorted"
    )]
    pub lock: Option<Value>,
    pub project: String,
    pub target: String,
    /// Component names per apply wave.
    pub waves: Vec<Vec<String>>,
}

/// A component in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentEntry {
    pub depends_on: Vec<String>,
    pub name: String,
    /// Objects ordered by identity (group, kind, namespace, name, version).
    pub objects: Vec<ObjectEntry>,
    /// The tenant policy, absent when unrestricted.
    #[serde(default, skip_serializing_if = "Tenancy::is_unrestricted")]
    pub tenancy: Tenancy,
    /// Index into [`Manifest::waves`].
    pub wave: usize,
}

/// An object in the manifest: its identity, file, digest and provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectEntry {
    /// blake3 of the file's bytes (the object's canonical YAML).
    pub digest: Digest,
    /// Path of the object's file inside the bundle, `/`-separated.
    pub file: String,
    pub id: ObjectId,
    pub provenance: Provenance,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn identity_reads_group_version_and_namespace() {
        let id = ObjectId::of(&json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"}}))
        .unwrap();
        assert_eq!((id.group.as_str(), id.version.as_str()), ("apps", "v1"));
        assert_eq!(id.to_string(), "apps/v1 Deployment.apps shop/web");
        let core = ObjectId::of(&json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "shop", "namespace": ""}}))
        .unwrap();
        assert_eq!(core.namespace, None);
        assert_eq!(core.key().to_string(), "Namespace shop");
    }

    #[test]
    fn identity_errors_say_what_is_missing() {
        assert_eq!(
            ObjectId::of(&json!([1])).unwrap_err(),
            "is a sequence, not a mapping"
        );
        assert_eq!(
            ObjectId::of(&json!({"apiVersion": "v1", "kind": "X", "metadata": {}})).unwrap_err(),
            "has no `metadata.name`"
        );
        assert_eq!(
            ObjectId::of(&json!({"kind": "X"})).unwrap_err(),
            "has no `apiVersion`"
        );
    }
}
