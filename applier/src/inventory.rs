//! The inventory: what kiln applied to a target, kept in the cluster as a ConfigMap in
//! `kiln-system` (one per target): the bundle digest, every object reference, when, and the
//! previous digests. Prune, drift and rollback read it; nothing else decides what kiln owns.

use crate::client::Kube;
use crate::error::{ApplyError, KubeError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub const NAMESPACE: &str = "kiln-system";
/// Label kiln puts on every object it applies: the inventory (target) that owns it.
pub const LABEL_INVENTORY: &str = "kiln.dev/inventory";
/// Annotation that keeps an object out of pruning when set to `disabled`.
pub const ANNOTATION_PRUNE: &str = "kiln.dev/prune";
pub const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// How many previous digests the inventory remembers, unless configured.
pub const DEFAULT_HISTORY: usize = 10;

/// One applied object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ObjectRef {
    pub group: String,
    pub version: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    pub component: String,
    /// Dependency wave of the component that applied it (prune goes in reverse).
    #[serde(default)]
    pub wave: usize,
}

impl ObjectRef {
    pub fn same_object(&self, other: &ObjectRef) -> bool {
        self.group == other.group
            && self.kind == other.kind
            && self.namespace == other.namespace
            && self.name == other.name
    }

    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        };
        match &self.namespace {
            Some(ns) => write!(f, "{kind} {ns}/{}", self.name),
            None => write!(f, "{kind} {}", self.name),
        }
    }
}

/// A bundle applied earlier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    pub digest: String,
    #[serde(rename = "appliedAt")]
    pub applied_at: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Inventory {
    pub project: String,
    pub target: String,
    /// Digest of the last bundle applied completely (empty before the first success).
    pub digest: String,
    pub applied_at: String,
    /// `applied`, or `failed` when the last run stopped part way.
    pub status: String,
    pub objects: Vec<ObjectRef>,
    /// Previous digests, newest first.
    pub history: Vec<Revision>,
}

/// The ConfigMap name for a target.
pub fn name_for(target: &str) -> String {
    let clean: String = target
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!(
        "kiln-inventory-{}",
        clean.trim_matches(|c: char| c == '-' || c == '.')
    )
}

fn path(target: &str) -> String {
    format!(
        "/api/v1/namespaces/{NAMESPACE}/configmaps/{}",
        name_for(target)
    )
}

/// Reads the inventory of `target` (of `project`), refusing one that another target wrote.
pub async fn read(
    kube: &Kube,
    project: &str,
    target: &str,
) -> Result<Option<Inventory>, ApplyError> {
    let cm = kube
        .get(&path(target))
        .await
        .map_err(|source| ApplyError::Cluster {
            message: format!("cannot read the inventory of target `{target}`"),
            source,
        })?;
    let Some(cm) = cm else { return Ok(None) };
    let data = &cm["data"];
    let s = |k: &str| data[k].as_str().unwrap_or_default().to_string();
    let bad = |message: String| ApplyError::BadInventory {
        namespace: NAMESPACE.into(),
        name: name_for(target),
        message,
    };
    let owner_target = s("target");
    let owner_project = s("project");
    if owner_target != target || (!project.is_empty() && owner_project != project) {
        return Err(ApplyError::ForeignInventory {
            namespace: NAMESPACE.into(),
            name: name_for(target),
            owner: format!("target `{owner_target}` of project `{owner_project}`"),
            ours: format!("target `{target}` of project `{project}`"),
        });
    }
    let objects: Vec<ObjectRef> = serde_json::from_str(data["objects"].as_str().unwrap_or("[]"))
        .map_err(|e| bad(format!("`objects` is not valid: {e}")))?;
    let history: Vec<Revision> = serde_json::from_str(data["history"].as_str().unwrap_or("[]"))
        .map_err(|e| bad(format!("`history` is not valid: {e}")))?;
    Ok(Some(Inventory {
        project: owner_project,
        target: owner_target,
        digest: s("digest"),
        applied_at: s("appliedAt"),
        status: s("status"),
        objects,
        history,
    }))
}

/// Writes the inventory (server-side apply, field manager `kiln`), creating `kiln-system`.
pub async fn write(kube: &Kube, inv: &Inventory) -> Result<Value, KubeError> {
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE,
        "labels": {LABEL_MANAGED_BY: "kiln"}}});
    if kube
        .get(&format!("/api/v1/namespaces/{NAMESPACE}"))
        .await?
        .is_none()
    {
        apply_raw(kube, &format!("/api/v1/namespaces/{NAMESPACE}"), &ns).await?;
    }
    let cm = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name_for(&inv.target),
            "namespace": NAMESPACE,
            "labels": {LABEL_MANAGED_BY: "kiln", "kiln.dev/inventory-of": name_for(&inv.target).trim_start_matches("kiln-inventory-")},
        },
        "data": {
            "project": inv.project,
            "target": inv.target,
            "digest": inv.digest,
            "appliedAt": inv.applied_at,
            "status": inv.status,
            "objects": serde_json::to_string(&inv.objects).unwrap_or_default(),
            "history": serde_json::to_string(&inv.history).unwrap_or_default(),
        }
    });
    apply_raw(kube, &path(&inv.target), &cm).await
}

async fn apply_raw(kube: &Kube, item: &str, obj: &Value) -> Result<Value, KubeError> {
    kube.send(
        http::Method::PATCH,
        &format!("{item}?fieldManager=kiln&force=true"),
        Some((
            "application/apply-patch+yaml",
            serde_json::to_vec(obj).unwrap_or_default(),
        )),
    )
    .await
}

/// Records a Kubernetes Event on the inventory ConfigMap (best effort: events never fail a run).
pub async fn event(kube: &Kube, target: &str, event_type: &str, reason: &str, message: &str) {
    let now = chrono::Utc::now();
    let name = format!(
        "{}.{:x}",
        name_for(target),
        now.timestamp_nanos_opt().unwrap_or_default()
    );
    let ts = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let ev = json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "involvedObject": {"apiVersion": "v1", "kind": "ConfigMap", "namespace": NAMESPACE, "name": name_for(target)},
        "type": event_type,
        "reason": reason,
        "message": message,
        "source": {"component": "kiln-applier"},
        "reportingComponent": "kiln-applier",
        "firstTimestamp": ts,
        "lastTimestamp": ts,
        "count": 1,
    });
    let result = kube
        .send(
            http::Method::POST,
            &format!("/api/v1/namespaces/{NAMESPACE}/events"),
            Some((
                "application/json",
                serde_json::to_vec(&ev).unwrap_or_default(),
            )),
        )
        .await;
    if let Err(e) = result {
        tracing::debug!(error = %e, "could not record an event");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn inventory_names_are_valid_object_names() {
        assert_eq!(super::name_for("Prod_EU"), "kiln-inventory-prod-eu");
        assert_eq!(super::name_for("staging"), "kiln-inventory-staging");
    }
}
