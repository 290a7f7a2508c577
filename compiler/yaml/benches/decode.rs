//! Decoder speed on realistic inputs: a chart's big values file (one document) and a rendered
//! multi-document manifest stream, each beside serde-saphyr decoding the same text into
//! `serde_json::Value` (what kiln-yaml did before the event decoder), plus the head scan.
//!
//! Inputs come from the conformance corpora (`$KILN_CONFORMANCE`, default
//! `/work/shared/conformance`); a generated stream of Deployments is measured wherever the
//! corpora are absent.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::Value;

fn corpus(path: &str) -> Option<String> {
    let root = std::env::var("KILN_CONFORMANCE")
        .unwrap_or_else(|_| "/work/shared/conformance".to_string());
    let text = std::fs::read_to_string(format!("{root}/{path}")).ok();
    if text.is_none() {
        eprintln!("SKIPPED input {root}/{path}: conformance corpora not found");
    }
    text
}

fn generated_stream(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\n  namespace: shop\n  labels:\n    app.kubernetes.io/name: app-{i}\n    tier: \"backend\"\n  annotations:\n    checksum/config: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\nspec:\n  replicas: 3\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: app-{i}\n  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: app-{i}\n    spec:\n      containers:\n        - name: app\n          image: registry.example.com/app:1.{i}.0\n          args: [\"--port=8080\", \"--verbose\"]\n          ports:\n            - containerPort: 8080\n              protocol: TCP\n          resources:\n            limits: {{cpu: 500m, memory: 256Mi}}\n          env:\n            - name: CONFIG\n              value: |\n                listen 8080;\n                root /srv;\n            - name: ENABLED\n              value: \"true\"\n"
        ));
    }
    s
}

fn saphyr_documents(text: &str) -> usize {
    serde_saphyr::from_multiple_with_options::<Value>(text, {
        let mut o = serde_saphyr::Options::default();
        o.legacy_octal_numbers = true;
        o
    })
    .map(|d| d.len())
    .unwrap_or(0)
}

fn saphyr_value(text: &str) -> Value {
    let mut o = serde_saphyr::Options::default();
    o.legacy_octal_numbers = true;
    serde_saphyr::from_str_with_options(text, o).unwrap()
}

fn bench(c: &mut Criterion) {
    let mut streams = vec![(
        "generated-200-deployments".to_string(),
        generated_stream(200),
    )];
    if let Some(t) = corpus("helm/cases/kube-prometheus-stack-default/expected.yaml") {
        streams.push(("kube-prometheus-stack-rendered".to_string(), t));
    }
    for (name, text) in &streams {
        let mut g = c.benchmark_group(format!("stream/{name}"));
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.sample_size(20);
        g.bench_function("kiln_yaml::parse_documents", |b| {
            b.iter(|| kiln_yaml::parse_documents(black_box(text)).unwrap().len())
        });
        g.bench_function("serde_saphyr::from_multiple", |b| {
            b.iter(|| saphyr_documents(black_box(text)))
        });
        // What Helm reads of each rendered document: the head only, or the whole object.
        let docs: Vec<&str> = text.split("\n---\n").collect();
        g.bench_function("kiln_yaml::helm::scan_head", |b| {
            b.iter(|| {
                docs.iter()
                    .filter(|d| kiln_yaml::helm::scan_head(black_box(d)).is_ok_and(|h| h.is_some()))
                    .count()
            })
        });
        g.bench_function("kiln_yaml::helm::from_str", |b| {
            b.iter(|| {
                docs.iter()
                    .filter(|d| kiln_yaml::helm::from_str(black_box(d)).is_ok())
                    .count()
            })
        });
        g.finish();
    }

    let mut values = Vec::new();
    if let Some(t) = corpus("helm/cases/kube-prometheus-stack-default/chart/values.yaml") {
        values.push(("kube-prometheus-stack-values".to_string(), t));
    }
    for (name, text) in &values {
        let mut g = c.benchmark_group(format!("values/{name}"));
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.sample_size(30);
        g.bench_function("kiln_yaml::from_str", |b| {
            b.iter(|| kiln_yaml::from_str(black_box(text)).unwrap())
        });
        g.bench_function("serde_saphyr::from_str", |b| {
            b.iter(|| saphyr_value(black_box(text)))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
