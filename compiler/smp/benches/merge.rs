//! Strategic merge throughput: a typical overlay patch on a Deployment, and a patch on a
//! Deployment whose lists are long (the quadratic part of keyed list merging).

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};

fn deployment(containers: usize, env: usize) -> Value {
    let containers: Vec<Value> = (0..containers)
        .map(|c| {
            json!({
                "name": format!("c{c}"),
                "image": format!("img{c}:1"),
                "args": ["--a", "--b"],
                "env": (0..env).map(|e| json!({"name": format!("E{e}"), "value": "v"})).collect::<Vec<_>>(),
                "ports": [{"containerPort": 8080}, {"containerPort": 53, "protocol": "UDP"}],
                "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
                "volumeMounts": [{"name": "data", "mountPath": "/data"}]
            })
        })
        .collect();
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": containers, "volumes": [{"name": "data", "emptyDir": {}}]}}}
    })
}

fn patch() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 5, "template": {"spec": {"containers": [
            {"name": "c0", "image": "img0:2", "env": [{"name": "NEW", "value": "1"}]}
        ]}}}
    })
}

fn bench(c: &mut Criterion) {
    let schema = kiln_smp::Schema::builtin();
    let small = deployment(2, 5);
    let large = deployment(10, 200);
    let patch = patch();
    c.bench_function("merge typical deployment patch", |b| {
        b.iter(|| kiln_smp::merge(&small, &patch, schema).unwrap())
    });
    c.bench_function("merge into 10 containers x 200 env", |b| {
        b.iter(|| kiln_smp::merge(&large, &patch, schema).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
