//! Benchmark: push and pull+verify of the 2,000-object bundle of `applier/benches/apply.rs`
//! against a real registry (Debian's `docker-registry`) on loopback.
//! Run with `cargo bench -p kiln-oci --bench oci`; figures go to `applier/benches/BENCHMARKS.md`.

use criterion::{Criterion, criterion_group, criterion_main};
use kiln_bundle::{BuiltBundle, BundleSpec, ComponentSpec, Provenance};
use kiln_oci::testing::RegistryServer;
use kiln_oci::{Puller, PushMeta, RegistryOptions, push};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// 10 namespaces of 1 Namespace and 199 mixed objects, as the applier's apply benchmark.
fn bundle() -> BuiltBundle {
    let components = (0..10)
        .map(|n| {
            let ns = format!("team-{n}");
            let mut objects: Vec<Value> =
                vec![json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})];
            for i in 0..199 {
                let meta = json!({"name": format!("obj-{i}"), "namespace": ns, "labels": {"app": format!("app-{}", i % 7)}});
                objects.push(match i % 10 {
                    0 => json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}),
                    1 => json!({"apiVersion": "v1", "kind": "Secret", "metadata": meta, "type": "Opaque", "stringData": {"token": format!("t{i}")}}),
                    2 => json!({"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": {"selector": {"app": "x"}, "ports": [{"port": 80, "protocol": "TCP"}]}}),
                    3 => json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta, "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]}),
                    _ => json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"index": i.to_string(), "payload": "x".repeat(200)}}),
                });
            }
            let objects = objects
                .into_iter()
                .enumerate()
                .map(|(i, o)| {
                    let p = Provenance {
                        component: ns.clone(),
                        source: None,
                        file: "bench.yaml".into(),
                        line: i + 1,
                        producer: "manifests".into(),
                    };
                    (o, p)
                })
                .collect();
            ComponentSpec {
                name: ns,
                depends_on: vec![],
                tenancy: Default::default(),
                objects,
            }
        })
        .collect::<Vec<_>>();
    let waves = vec![components.iter().map(|c| c.name.clone()).collect()];
    kiln_bundle::build(&BundleSpec {
        project: "bench".into(),
        target: "bench".into(),
        compiler_version: "bench".into(),
        components,
        waves,
        lock: None,
    })
    .expect("build the bench bundle")
}

fn oci(c: &mut Criterion) {
    let Some(server) = RegistryServer::start_or_skip(None) else {
        return;
    };
    let registry = server.client(RegistryOptions::default());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let bundle = bundle();
    let tar = kiln_bundle::tar_bytes(&bundle).unwrap().len();
    let target = server.reference("bench/bundle:v1");
    let pushed = rt
        .block_on(push(&registry, &bundle, &target, &PushMeta::default()))
        .unwrap();
    eprintln!(
        "bundle: {} objects, tar {} KiB, layer (gzip) {} KiB",
        bundle
            .manifest
            .components
            .iter()
            .map(|c| c.objects.len())
            .sum::<usize>(),
        tar / 1024,
        pushed.layer_size / 1024
    );

    let mut g = c.benchmark_group("oci");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    let repo = AtomicUsize::new(0);
    g.bench_function("push, new repository (pack, gzip, upload)", |b| {
        b.iter(|| {
            let n = repo.fetch_add(1, Ordering::Relaxed);
            let r = server.reference(&format!("bench/fresh-{n}:v1"));
            rt.block_on(push(&registry, &bundle, &r, &PushMeta::default()))
                .unwrap()
        })
    });
    g.bench_function("push, blobs already present", |b| {
        b.iter(|| {
            rt.block_on(push(&registry, &bundle, &target, &PushMeta::default()))
                .unwrap()
        })
    });
    g.bench_function("pull + verify, cold cache", |b| {
        b.iter(|| {
            let puller = Puller::new(registry.clone(), None).unwrap();
            rt.block_on(puller.pull(&target)).unwrap()
        })
    });
    let warm = Puller::new(registry.clone(), None).unwrap();
    rt.block_on(warm.pull(&target)).unwrap();
    g.bench_function("pull, warm cache (resolve tag + re-verify)", |b| {
        b.iter(|| {
            let p = rt.block_on(warm.pull(&target)).unwrap();
            assert!(p.cached);
            p
        })
    });
    g.finish();
}

criterion_group!(benches, oci);
criterion_main!(benches);
