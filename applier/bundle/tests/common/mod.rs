//! A small realistic bundle spec shared by the integration tests.

#![allow(dead_code)]

use kiln_bundle::{BundleSpec, ComponentSpec, Provenance};
use serde_json::{Value, json};

pub fn prov(component: &str, file: &str, line: usize) -> Provenance {
    Provenance {
        component: component.into(),
        source: Some("app".into()),
        file: file.into(),
        line,
        producer: "manifests".into(),
    }
}

pub fn deployment(image: &str, replicas: u64) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app.kubernetes.io/name": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [
                    {"name": "web", "image": image, "ports": [{"containerPort": 8080, "name": "http"}],
                     "args": ["--port", "8080"]},
                    {"name": "proxy", "image": "envoy:1.30"}
                ]}
            }
        }
    })
}

pub fn spec() -> BundleSpec {
    BundleSpec {
        project: "shop".into(),
        target: "staging".into(),
        compiler_version: "kiln 0.1.0".into(),
        components: vec![
            ComponentSpec {
                name: "base".into(),
                depends_on: vec![],
                tenancy: Default::default(),
                objects: vec![
                    (
                        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
                        prov("base", "deploy/ns.yaml", 1),
                    ),
                    (
                        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "shop"},
                               "stringData": {"password": "hunter2"}}),
                        prov("base", "deploy/secret.yaml", 1),
                    ),
                ],
            },
            ComponentSpec {
                name: "app".into(),
                depends_on: vec!["base".into()],
                tenancy: Default::default(),
                objects: vec![
                    (
                        deployment("ghcr.io/acme/web:1.0.0", 2),
                        prov("app", "deploy/app.yaml", 1),
                    ),
                    (
                        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web-config", "namespace": "shop"},
                               "data": {"app.properties": "mode=fast\nlevel=3\n", "enabled": "yes", "mode": "0777"}}),
                        prov("app", "deploy/app.yaml", 30),
                    ),
                    (
                        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
                               "spec": {"ports": [{"name": "http", "port": 80, "targetPort": "http"}], "selector": {"app": "web"}}}),
                        prov("app", "deploy/app.yaml", 40),
                    ),
                ],
            },
        ],
        waves: vec![vec!["base".into()], vec!["app".into()]],
        lock: Some(json!({"sources": {"app": {"commit": "0123456789abcdef"}}})),
    }
}
