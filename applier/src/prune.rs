//! Prune: delete objects the previous bundle had and this one has not, in reverse dependency
//! order (namespaced before cluster-scoped, later waves first, Namespaces and CRDs last), and
//! only objects that carry this inventory's ownership label and no opt-out annotation.

use crate::client::Kube;
use crate::discovery::ResourceMap;
use crate::error::KubeError;
use crate::inventory::{ANNOTATION_PRUNE, LABEL_INVENTORY, ObjectRef};
use crate::prepare::label_value;
use serde_json::Value;

#[derive(Debug, Clone)]
pub enum PruneOutcome {
    Deleted,
    /// Already gone.
    Gone,
    /// Deliberately left alone, and why.
    Kept(String),
    Failed(KubeError),
}

fn rank(o: &ObjectRef) -> (u8, std::cmp::Reverse<usize>) {
    let class = match (o.group.as_str(), o.kind.as_str()) {
        ("apiextensions.k8s.io", "CustomResourceDefinition") => 3,
        ("", "Namespace") => 2,
        _ if o.namespace.is_none() => 1,
        _ => 0,
    };
    (class, std::cmp::Reverse(o.wave))
}

/// Deletes what can be deleted; never fails the whole prune for one object.
pub async fn prune(
    kube: &Kube,
    candidates: &[ObjectRef],
    target: &str,
    resources: &ResourceMap,
) -> Vec<(ObjectRef, PruneOutcome)> {
    let mut ordered = candidates.to_vec();
    ordered.sort_by_key(rank);
    let ours = label_value(target);
    let mut out = Vec::new();
    for o in ordered {
        let Some(res) = resources.get(&o.group, &o.version, &o.kind) else {
            out.push((o, PruneOutcome::Gone));
            continue;
        };
        let path = res.item(o.namespace.as_deref(), &o.name);
        let outcome = match kube.get(&path).await {
            Ok(None) => PruneOutcome::Gone,
            Err(e) => PruneOutcome::Failed(e),
            Ok(Some(live)) => {
                let labels = &live["metadata"]["labels"];
                let annotations = &live["metadata"]["annotations"];
                if labels[LABEL_INVENTORY].as_str() != Some(ours.as_str()) {
                    PruneOutcome::Kept(format!(
                        "it does not carry the label {LABEL_INVENTORY}={ours}"
                    ))
                } else if annotations[ANNOTATION_PRUNE] == Value::String("disabled".into()) {
                    PruneOutcome::Kept(format!("annotated {ANNOTATION_PRUNE}: disabled"))
                } else {
                    let uid = live["metadata"]["uid"].clone();
                    let opts = serde_json::json!({
                        "kind": "DeleteOptions", "apiVersion": "v1",
                        "propagationPolicy": "Background",
                        "preconditions": {"uid": uid},
                    });
                    match kube
                        .send(
                            http::Method::DELETE,
                            &path,
                            Some((
                                "application/json",
                                serde_json::to_vec(&opts).unwrap_or_default(),
                            )),
                        )
                        .await
                    {
                        Ok(_) => PruneOutcome::Deleted,
                        Err(e) if e.is_not_found() => PruneOutcome::Gone,
                        Err(e) => PruneOutcome::Failed(e),
                    }
                }
            }
        };
        tracing::info!(object = %o, outcome = ?outcome, "prune");
        out.push((o, outcome));
    }
    out
}
