//! Shared test support: a double on a random port, a kube-rs client pointed at it over real
//! HTTP, and bundles written with kiln-bundle's own writer.
#![allow(dead_code)]

use kiln_apiserver_double::ApiServer;
use kiln_applier::{ApplyOptions, Kube, RetryPolicy};
use kiln_bundle::{BundleSpec, ComponentSpec, Provenance, Tenancy};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub async fn double() -> Arc<ApiServer> {
    Arc::new(
        ApiServer::start()
            .await
            .expect("start the API server double"),
    )
}

pub fn kube(server: &ApiServer) -> Kube {
    let mut config = kube::Config::new(server.url().parse().unwrap());
    config.default_namespace = "default".into();
    config.default_retry = false;
    config.read_timeout = Some(Duration::from_secs(2));
    config.reset_reader_on_write = true;
    let mut k = Kube::from_config(config).unwrap();
    k.retry = RetryPolicy {
        attempts: 6,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
    };
    k
}

pub fn opts() -> ApplyOptions {
    ApplyOptions {
        health_timeout: Duration::from_secs(5),
        ..ApplyOptions::default()
    }
}

/// A component: name, dependencies, objects.
pub struct C(pub &'static str, pub Vec<&'static str>, pub Vec<Value>);

/// Writes a bundle directory for `target` with components in dependency waves.
pub fn bundle(dir: &Path, name: &str, target: &str, components: Vec<C>) -> PathBuf {
    bundle_with_tenancy(dir, name, target, components, &[])
}

/// [`bundle`], with a tenant policy for some components.
pub fn bundle_with_tenancy(
    dir: &Path,
    name: &str,
    target: &str,
    components: Vec<C>,
    tenancy: &[(&str, Tenancy)],
) -> PathBuf {
    let mut waves: Vec<Vec<String>> = Vec::new();
    let mut placed: Vec<(String, usize)> = Vec::new();
    for c in &components {
        let wave =
            c.1.iter()
                .map(|d| {
                    placed
                        .iter()
                        .find(|(n, _)| n == d)
                        .map(|(_, w)| w + 1)
                        .unwrap_or(0)
                })
                .max()
                .unwrap_or(0);
        placed.push((c.0.to_string(), wave));
        if waves.len() <= wave {
            waves.resize(wave + 1, Vec::new());
        }
        waves[wave].push(c.0.to_string());
    }
    let spec = BundleSpec {
        project: "shop".into(),
        target: target.into(),
        compiler_version: "test".into(),
        components: components
            .into_iter()
            .map(|C(name, deps, objects)| ComponentSpec {
                name: name.into(),
                depends_on: deps.into_iter().map(String::from).collect(),
                tenancy: tenancy
                    .iter()
                    .find(|(c, _)| *c == name)
                    .map(|(_, t)| t.clone())
                    .unwrap_or_default(),
                objects: objects
                    .into_iter()
                    .enumerate()
                    .map(|(i, o)| {
                        (
                            o,
                            Provenance {
                                component: name.into(),
                                source: None,
                                file: format!("{name}.yaml"),
                                line: i + 1,
                                producer: "manifests".into(),
                            },
                        )
                    })
                    .collect(),
            })
            .collect(),
        waves,
        lock: None,
    };
    let out = dir.join(name);
    kiln_bundle::write_dir(&spec, &out).expect("write bundle");
    out
}

pub fn ns(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

pub fn cm(ns: &str, name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}, "data": data})
}

pub fn deployment(ns: &str, name: &str, replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}},
        }
    })
}

pub fn job(ns: &str, name: &str) -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "run", "image": "busybox"}]}}}
    })
}

pub fn crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    })
}

pub fn widget(ns: &str, name: &str) -> Value {
    json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name, "namespace": ns}, "spec": {"size": 1}})
}

/// Plays the Deployment controller in the background: marks every Deployment rolled out.
pub fn roll_out_deployments(server: &Arc<ApiServer>) -> tokio::task::JoinHandle<()> {
    let server = server.clone();
    tokio::spawn(async move {
        loop {
            for d in server.objects("apps/v1", "Deployment") {
                let ns = d["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let name = d["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                if d["status"]["observedGeneration"] != d["metadata"]["generation"] {
                    let _ = server.mark_rolled_out("Deployment", &ns, &name);
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
}

pub fn inventory(server: &ApiServer, target: &str) -> Option<Value> {
    server.object(
        "v1",
        "ConfigMap",
        "kiln-system",
        &format!("kiln-inventory-{target}"),
    )
}
