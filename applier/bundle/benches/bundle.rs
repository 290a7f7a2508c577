//! Bundle speed at the scale the project targets: 20,000 objects in 500 components.
//!
//! Run with `cargo bench -p kiln-bundle --bench bundle`.

use criterion::{Criterion, criterion_group, criterion_main};
use kiln_bundle::{Bundle, BundleSpec, ComponentSpec, Provenance, build, diff, verify, write_dir};
use serde_json::{Value, json};
use std::hint::black_box;
use std::time::Duration;

const COMPONENTS: usize = 500;
const PER_COMPONENT: usize = 40;

fn object(c: usize, i: usize, version: &str) -> Value {
    let ns = format!("team-{}", c % 50);
    let name = format!("svc-{c}-{i}");
    match i % 4 {
        0 => json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns, "labels": {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "shop"}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{
                    "name": "app", "image": format!("ghcr.io/acme/{name}:{version}"),
                    "args": ["--port", "8080", "--log-level", "info"],
                    "env": [{"name": "MODE", "value": "production"}, {"name": "WORKERS", "value": "4"}],
                    "ports": [{"containerPort": 8080, "name": "http"}],
                    "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}}
                }]}}}
        }),
        1 => json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"ports": [{"name": "http", "port": 80, "targetPort": "http"}], "selector": {"app": name}}
        }),
        2 => json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": ns},
            "data": {"app.properties": format!("name={name}\nversion={version}\nfeature.enabled=true\n"), "enabled": "yes", "mode": "0644"}
        }),
        _ => json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": name, "namespace": ns, "annotations": {"nginx.ingress.kubernetes.io/rewrite-target": "/"}},
            "spec": {"rules": [{"host": format!("{name}.example.com"), "http": {"paths": [{"path": "/", "pathType": "Prefix",
                "backend": {"service": {"name": name, "port": {"name": "http"}}}}]}}]}
        }),
    }
}

/// 20,000 objects; objects whose index is below `changed` use `version` "2.0.0" instead of "1.0.0".
fn spec(changed: usize) -> BundleSpec {
    let mut components = Vec::with_capacity(COMPONENTS);
    let mut n = 0;
    for c in 0..COMPONENTS {
        let name = format!("component-{c:03}");
        let objects = (0..PER_COMPONENT)
            .map(|i| {
                let version = if n < changed && i % 4 == 0 {
                    "2.0.0"
                } else {
                    "1.0.0"
                };
                if i % 4 == 0 {
                    n += 1;
                }
                let provenance = Provenance {
                    component: name.clone(),
                    source: None,
                    file: format!("deploy/{name}.yaml"),
                    line: i * 30 + 1,
                    producer: "manifests".into(),
                };
                (object(c, i, version), provenance)
            })
            .collect();
        let depends_on = if c == 0 {
            vec![]
        } else {
            vec!["component-000".to_string()]
        };
        components.push(ComponentSpec {
            name,
            depends_on,
            tenancy: Default::default(),
            objects,
        });
    }
    let waves = vec![
        vec!["component-000".to_string()],
        components[1..].iter().map(|c| c.name.clone()).collect(),
    ];
    BundleSpec {
        project: "bench".into(),
        target: "prod".into(),
        compiler_version: "kiln bench".into(),
        components,
        waves,
        lock: None,
    }
}

fn benches(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let a_spec = spec(0);
    let b_spec = spec(100);
    let a_path = tmp.path().join("a");
    let b_path = tmp.path().join("b");
    write_dir(&a_spec, &a_path).unwrap();
    write_dir(&b_spec, &b_path).unwrap();
    let a = Bundle::open(&a_path).unwrap();
    let b = Bundle::open(&b_path).unwrap();
    assert_eq!(a.objects().count(), 20_000);
    assert_eq!(diff(&a, &b).summary.changed, 100);

    let one = object(7, 0, "1.0.0");
    let one_text = kiln_yaml::to_canonical_string(&one);
    c.bench_function("one Deployment: canonical emit", |bench| {
        bench.iter(|| black_box(kiln_yaml::to_canonical_string(&one)))
    });
    c.bench_function("one Deployment: fast canonical read", |bench| {
        bench.iter(|| black_box(kiln_yaml::parse_emitted(&one_text)))
    });
    c.bench_function("one Deployment: full YAML decode", |bench| {
        bench.iter(|| black_box(kiln_yaml::from_str(&one_text).unwrap()))
    });

    let mut group = c.benchmark_group("bundle-20k");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("build (canonical bytes + digests, in memory)", |bench| {
        bench.iter(|| black_box(build(&a_spec).unwrap().digest))
    });
    group.bench_function("write_dir (replacing a different bundle)", |bench| {
        let out = tmp.path().join("w");
        let mut flip = false;
        bench.iter(|| {
            flip = !flip;
            black_box(write_dir(if flip { &a_spec } else { &b_spec }, &out).unwrap())
        })
    });
    group.bench_function("write_dir (unchanged, no-op)", |bench| {
        let out = tmp.path().join("same");
        write_dir(&a_spec, &out).unwrap();
        bench.iter(|| black_box(write_dir(&a_spec, &out).unwrap()))
    });
    group.bench_function("verify", |bench| {
        bench.iter(|| assert!(verify(&a_path).unwrap().is_ok()))
    });
    group.bench_function("diff (opened bundles, 100 changed)", |bench| {
        bench.iter(|| black_box(diff(&a, &b).summary))
    });
    group.bench_function(
        "diff_paths + markdown (kiln diff, decodes only changed objects)",
        |bench| {
            bench.iter(|| {
                black_box(
                    kiln_bundle::diff_paths(&a_path, &b_path)
                        .unwrap()
                        .to_markdown()
                        .len(),
                )
            })
        },
    );
    group.bench_function("open both + diff + markdown (kiln diff)", |bench| {
        bench.iter(|| {
            let a = Bundle::open(&a_path).unwrap();
            let b = Bundle::open(&b_path).unwrap();
            black_box(diff(&a, &b).to_markdown().len())
        })
    });
    group.finish();
}

criterion_group!(bundle, benches);
criterion_main!(bundle);
