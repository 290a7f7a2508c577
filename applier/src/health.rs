//! Health: kstatus-like rules deciding whether an applied object is current, still progressing,
//! or failed, and the wait that watches objects until they are current or a timeout passes.
//!
//! Rules, in order (documented in `applier/README.md`):
//! 1. `status.observedGeneration` lower than `metadata.generation`: in progress.
//! 2. Deployment: `updatedReplicas`, `readyReplicas` and `availableReplicas` reach
//!    `spec.replicas` (default 1) and no old replicas remain; a `Progressing` condition with
//!    reason `ProgressDeadlineExceeded` is a failure.
//! 3. StatefulSet: `readyReplicas` and `updatedReplicas` reach `spec.replicas` and
//!    `currentRevision` equals `updateRevision` (when both are reported).
//! 4. DaemonSet: `updatedNumberScheduled` and `numberAvailable` reach `desiredNumberScheduled`.
//! 5. Job: condition `Complete` is current, condition `Failed` is a failure.
//! 6. CustomResourceDefinition: condition `Established`.
//! 7. PersistentVolumeClaim: `status.phase` is `Bound`.
//! 8. Service of type LoadBalancer with annotation `kiln.dev/wait-for-load-balancer: "true"`:
//!    `status.loadBalancer.ingress` is not empty.
//! 9. Anything else with a `Ready` condition: `True` is current, `False` in progress;
//!    a `Stalled` condition that is `True` is a failure.
//! 10. Otherwise the object is current as soon as it exists.

use crate::client::Kube;
use crate::discovery::Resource;
use futures::StreamExt;
use serde_json::Value;
use std::time::Duration;
use tokio::time::Instant;

/// What the rules say about one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    Current,
    InProgress(String),
    Failed(String),
}

fn int(v: &Value, ptr: &str) -> Option<i64> {
    v.pointer(ptr).and_then(Value::as_i64)
}

fn condition<'a>(obj: &'a Value, kind: &str) -> Option<&'a Value> {
    obj.pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c["type"] == kind)
}

fn is_true(c: Option<&Value>) -> bool {
    c.is_some_and(|c| c["status"] == "True")
}

fn describe(c: &Value) -> String {
    let reason = c["reason"].as_str().unwrap_or_default();
    let message = c["message"].as_str().unwrap_or_default();
    match (reason.is_empty(), message.is_empty()) {
        (false, false) => format!("{reason}: {message}"),
        (false, true) => reason.to_string(),
        (true, false) => message.to_string(),
        (true, true) => "no reason given".into(),
    }
}

/// Applies the rules to a live object.
pub fn assess(obj: &Value) -> Health {
    let api_version = obj["apiVersion"].as_str().unwrap_or_default();
    let group = api_version.split_once('/').map(|(g, _)| g).unwrap_or("");
    let kind = obj["kind"].as_str().unwrap_or_default();
    let generation = int(obj, "/metadata/generation");
    let observed = int(obj, "/status/observedGeneration");
    if let (Some(g), Some(o)) = (generation, observed)
        && o < g
    {
        return Health::InProgress(format!("observedGeneration {o} is behind generation {g}"));
    }
    let workload = group == "apps" && matches!(kind, "Deployment" | "StatefulSet" | "DaemonSet");
    if workload && observed.is_none() {
        return Health::InProgress("the controller has not reported status yet".into());
    }
    match (group, kind) {
        ("apps", "Deployment") => {
            if let Some(p) = condition(obj, "Progressing")
                && p["reason"] == "ProgressDeadlineExceeded"
            {
                return Health::Failed(format!("rollout stalled: {}", describe(p)));
            }
            let want = int(obj, "/spec/replicas").unwrap_or(1);
            let updated = int(obj, "/status/updatedReplicas").unwrap_or(0);
            let ready = int(obj, "/status/readyReplicas").unwrap_or(0);
            let available = int(obj, "/status/availableReplicas").unwrap_or(0);
            let total = int(obj, "/status/replicas").unwrap_or(0);
            if updated < want {
                return Health::InProgress(format!("{updated} of {want} replicas updated"));
            }
            if total > updated {
                return Health::InProgress(format!(
                    "{} old replicas pending termination",
                    total - updated
                ));
            }
            if ready < want {
                return Health::InProgress(format!("{ready} of {want} replicas ready"));
            }
            if available < want {
                return Health::InProgress(format!("{available} of {want} replicas available"));
            }
            Health::Current
        }
        ("apps", "StatefulSet") => {
            let want = int(obj, "/spec/replicas").unwrap_or(1);
            let ready = int(obj, "/status/readyReplicas").unwrap_or(0);
            let updated = int(obj, "/status/updatedReplicas").unwrap_or(0);
            if ready < want {
                return Health::InProgress(format!("{ready} of {want} replicas ready"));
            }
            if updated < want {
                return Health::InProgress(format!("{updated} of {want} replicas updated"));
            }
            let current = obj.pointer("/status/currentRevision");
            let update = obj.pointer("/status/updateRevision");
            if current.is_some() && update.is_some() && current != update {
                return Health::InProgress("rolling update in progress".into());
            }
            Health::Current
        }
        ("apps", "DaemonSet") => {
            let want = int(obj, "/status/desiredNumberScheduled").unwrap_or(0);
            let updated = int(obj, "/status/updatedNumberScheduled").unwrap_or(0);
            let available = int(obj, "/status/numberAvailable").unwrap_or(0);
            if updated < want {
                return Health::InProgress(format!("{updated} of {want} pods updated"));
            }
            if available < want {
                return Health::InProgress(format!("{available} of {want} pods available"));
            }
            Health::Current
        }
        ("batch", "Job") => {
            if let Some(c) = condition(obj, "Failed").filter(|c| c["status"] == "True") {
                return Health::Failed(format!("job failed: {}", describe(c)));
            }
            if is_true(condition(obj, "Complete")) {
                return Health::Current;
            }
            Health::InProgress("job has not completed".into())
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            if is_true(condition(obj, "Established")) {
                Health::Current
            } else {
                Health::InProgress("CRD is not Established yet".into())
            }
        }
        ("", "PersistentVolumeClaim") => match obj.pointer("/status/phase").and_then(Value::as_str)
        {
            Some("Bound") => Health::Current,
            Some("Lost") => Health::Failed("claim lost its volume".into()),
            phase => Health::InProgress(format!("claim is {}", phase.unwrap_or("not bound"))),
        },
        ("", "Service")
            if obj.pointer("/spec/type") == Some(&Value::String("LoadBalancer".into()))
                && obj.pointer("/metadata/annotations/kiln.dev~1wait-for-load-balancer")
                    == Some(&Value::String("true".into())) =>
        {
            let has_ingress = obj
                .pointer("/status/loadBalancer/ingress")
                .and_then(Value::as_array)
                .is_some_and(|i| !i.is_empty());
            if has_ingress {
                Health::Current
            } else {
                Health::InProgress("waiting for a load balancer address".into())
            }
        }
        _ => {
            if let Some(c) = condition(obj, "Stalled").filter(|c| c["status"] == "True") {
                return Health::Failed(format!("stalled: {}", describe(c)));
            }
            match condition(obj, "Ready") {
                Some(c) if c["status"] == "True" => Health::Current,
                Some(c) => Health::InProgress(format!("not Ready: {}", describe(c))),
                None => Health::Current,
            }
        }
    }
}

/// Whether waiting on this kind makes sense at all (objects without status are current at once).
pub fn needs_wait(obj: &Value) -> bool {
    !matches!(
        (
            obj["apiVersion"].as_str().unwrap_or_default(),
            obj["kind"].as_str().unwrap_or_default()
        ),
        (
            "v1",
            "ConfigMap" | "Secret" | "ServiceAccount" | "Namespace" | "Endpoints" | "LimitRange"
        ) | ("rbac.authorization.k8s.io/v1", _)
    )
}

/// The final state of one object after waiting.
#[derive(Debug, Clone)]
pub struct Waited {
    pub object: String,
    pub health: Health,
}

/// Watches one object until it is current, failed, or the deadline passes. A watch that drops
/// is re-established from a fresh read, so a flaky connection only costs a request.
pub async fn wait_one(
    kube: &Kube,
    res: &Resource,
    namespace: Option<&str>,
    name: &str,
    deadline: Instant,
) -> Health {
    let item = res.item(namespace, name);
    let mut last = Health::InProgress("not read yet".into());
    loop {
        if Instant::now() >= deadline {
            return last;
        }
        let live = match kube.get(&item).await {
            Ok(Some(v)) => v,
            Ok(None) => {
                last = Health::InProgress("object does not exist".into());
                tokio::time::sleep(Duration::from_millis(200).min(deadline - Instant::now())).await;
                continue;
            }
            Err(e) => {
                last = Health::InProgress(format!("cannot read it: {e}"));
                tokio::time::sleep(Duration::from_millis(300).min(deadline - Instant::now())).await;
                continue;
            }
        };
        last = assess(&live);
        if !matches!(last, Health::InProgress(_)) {
            return last;
        }
        let rv = live
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .unwrap_or("0");
        let remaining = deadline
            .saturating_duration_since(Instant::now())
            .as_secs()
            .clamp(1, 290);
        let watch = format!(
            "{}?watch=true&fieldSelector=metadata.name%3D{name}&resourceVersion={rv}&timeoutSeconds={remaining}&allowWatchBookmarks=true",
            res.collection(namespace)
        );
        let stream = match kube.watch(&watch).await {
            Ok(s) => s,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(300).min(deadline - Instant::now())).await;
                continue;
            }
        };
        let mut stream = std::pin::pin!(stream);
        loop {
            let next = tokio::time::timeout_at(deadline, stream.next()).await;
            match next {
                Err(_) => return last,
                Ok(None) | Ok(Some(Err(_))) => break,
                Ok(Some(Ok(event))) => {
                    use kube::core::WatchEvent;
                    match event {
                        WatchEvent::Added(obj) | WatchEvent::Modified(obj) => {
                            last = assess(&obj);
                            if !matches!(last, Health::InProgress(_)) {
                                return last;
                            }
                        }
                        WatchEvent::Deleted(_) => {
                            last = Health::InProgress("object was deleted".into())
                        }
                        WatchEvent::Bookmark(_) => {}
                        WatchEvent::Error(_) => break,
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deployment_rollout_rules() {
        let mut d = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"generation": 2}, "spec": {"replicas": 2},
            "status": {"observedGeneration": 1}});
        assert!(matches!(assess(&d), Health::InProgress(m) if m.contains("observedGeneration 1")));
        d["status"] = json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 1, "availableReplicas": 1});
        assert_eq!(
            assess(&d),
            Health::InProgress("1 of 2 replicas ready".into())
        );
        d["status"]["readyReplicas"] = json!(2);
        d["status"]["availableReplicas"] = json!(2);
        assert_eq!(assess(&d), Health::Current);
        d["status"]["conditions"] = json!([{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "too slow"}]);
        assert!(matches!(assess(&d), Health::Failed(_)));
    }

    #[test]
    fn job_crd_pvc_and_ready_condition() {
        let job = json!({"apiVersion": "batch/v1", "kind": "Job", "status": {"conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]}});
        assert_eq!(
            assess(&job),
            Health::Failed("job failed: BackoffLimitExceeded".into())
        );
        let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "status": {}});
        assert!(matches!(assess(&crd), Health::InProgress(_)));
        let pvc = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "status": {"phase": "Bound"}});
        assert_eq!(assess(&pvc), Health::Current);
        let cr = json!({"apiVersion": "x.io/v1", "kind": "Thing", "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "Waiting"}]}});
        assert_eq!(assess(&cr), Health::InProgress("not Ready: Waiting".into()));
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap"});
        assert_eq!(assess(&cm), Health::Current);
        assert!(!needs_wait(&cm));
    }
}
