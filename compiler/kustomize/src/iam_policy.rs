//! kustomize's built-in `IAMPolicyGenerator`: a Kubernetes ServiceAccount bound to a cloud
//! service account through an annotation (GKE Workload Identity is the one cloud kustomize
//! supports).

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::resource::Resource;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Args {
    cloud: String,
    #[serde(rename = "kubernetesService")]
    kubernetes_service: KubernetesService,
    #[serde(rename = "serviceAccount")]
    service_account: ServiceAccount,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct KubernetesService {
    name: String,
    namespace: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ServiceAccount {
    name: String,
    #[serde(rename = "projectId")]
    project_id: String,
}

/// Generates the objects an `IAMPolicyGenerator` plugin document describes.
pub fn generate(config: &Value) -> Result<Vec<Resource>, String> {
    let args: Args = serde_json::from_value(config.clone())
        .map_err(|e| format!("invalid IAMPolicyGenerator config: {e}"))?;
    match args.cloud.as_str() {
        "gke" => Ok(vec![Resource::new(gke_service_account(&args))]),
        other => Err(format!(
            "IAMPolicyGenerator: cloud provider {other} not supported yet"
        )),
    }
}

fn gke_service_account(args: &Args) -> Value {
    let mut annotations = Map::new();
    annotations.insert(
        "iam.gke.io/gcp-service-account".into(),
        Value::String(format!(
            "{}@{}.iam.gserviceaccount.com",
            args.service_account.name, args.service_account.project_id
        )),
    );
    let mut metadata = Map::new();
    metadata.insert("annotations".into(), Value::Object(annotations));
    metadata.insert(
        "name".into(),
        Value::String(args.kubernetes_service.name.clone()),
    );
    if !args.kubernetes_service.namespace.is_empty() {
        metadata.insert(
            "namespace".into(),
            Value::String(args.kubernetes_service.namespace.clone()),
        );
    }
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), Value::String("v1".into()));
    obj.insert("kind".into(), Value::String("ServiceAccount".into()));
    obj.insert("metadata".into(), Value::Object(metadata));
    Value::Object(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gke_service_account_names_the_cloud_account() {
        let cfg = serde_json::json!({
            "apiVersion": "builtin",
            "kind": "IAMPolicyGenerator",
            "metadata": {"name": "g"},
            "cloud": "gke",
            "kubernetesService": {"name": "ksa", "namespace": "ns"},
            "serviceAccount": {"name": "gsa", "projectId": "proj"},
        });
        let out = generate(&cfg).unwrap();
        assert_eq!(
            out[0].obj,
            serde_json::json!({
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {
                    "annotations": {"iam.gke.io/gcp-service-account": "gsa@proj.iam.gserviceaccount.com"},
                    "name": "ksa",
                    "namespace": "ns",
                },
            })
        );
    }

    #[test]
    fn other_clouds_are_refused() {
        let cfg = serde_json::json!({"cloud": "aws"});
        assert!(generate(&cfg).unwrap_err().contains("aws"));
    }
}
