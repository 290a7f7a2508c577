//! Benchmark: apply a 2,000-object bundle to the API server double over HTTP (first apply,
//! then a no-op re-apply that must write nothing), and the agent's idle memory.
//! Run with `cargo bench -p kiln-applier --bench apply`; figures go to `benches/BENCHMARKS.md`.

use kiln_apiserver_double::ApiServer;
use kiln_applier::{ApplyOptions, Kube};
use kiln_bundle::{BundleSpec, ComponentSpec, Provenance};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const NAMESPACES: usize = 10;
const PER_NAMESPACE: usize = 199;

fn objects() -> Vec<(String, Vec<Value>)> {
    (0..NAMESPACES)
        .map(|n| {
            let ns = format!("team-{n}");
            let mut objs = vec![json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})];
            for i in 0..PER_NAMESPACE {
                let meta = json!({"name": format!("obj-{i}"), "namespace": ns, "labels": {"app": format!("app-{}", i % 7)}});
                objs.push(match i % 10 {
                    0 => json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}),
                    1 => json!({"apiVersion": "v1", "kind": "Secret", "metadata": meta, "type": "Opaque", "stringData": {"token": format!("t{i}")}}),
                    2 => json!({"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": {"selector": {"app": "x"}, "ports": [{"port": 80, "protocol": "TCP"}]}}),
                    3 => json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta, "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]}),
                    _ => json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"index": i.to_string(), "payload": "x".repeat(200)}}),
                });
            }
            (ns, objs)
        })
        .collect()
}

fn write_bundle(dir: &std::path::Path) -> std::path::PathBuf {
    let components: Vec<ComponentSpec> = objects()
        .into_iter()
        .map(|(name, objs)| ComponentSpec {
            name: name.clone(),
            depends_on: vec![],
            tenancy: Default::default(),
            objects: objs
                .into_iter()
                .enumerate()
                .map(|(i, o)| {
                    (
                        o,
                        Provenance {
                            component: name.clone(),
                            source: None,
                            file: "bench.yaml".into(),
                            line: i + 1,
                            producer: "manifests".into(),
                        },
                    )
                })
                .collect(),
        })
        .collect();
    let waves = vec![components.iter().map(|c| c.name.clone()).collect()];
    let spec = BundleSpec {
        project: "bench".into(),
        target: "bench".into(),
        compiler_version: "bench".into(),
        components,
        waves,
        lock: None,
    };
    let out = dir.join("bundle");
    kiln_bundle::write_dir(&spec, &out).expect("write bundle");
    out
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_bundle(dir.path());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let server = ApiServer::start().await.unwrap();
        let mut config = kube::Config::new(server.url().parse().unwrap());
        config.default_namespace = "default".into();
        config.default_retry = false;
        let kube = Kube::from_config(config).unwrap();
        let opts = ApplyOptions { concurrency: 16, health_timeout: Duration::from_secs(60), ..ApplyOptions::default() };

        let t = Instant::now();
        let bundle = kiln_applier::open_bundle(&path).unwrap();
        let verify = t.elapsed();
        let n = bundle.objects().count();

        let correcting = ApplyOptions { correct_drift: true, ..opts.clone() };
        let runs = [
            ("first apply", &opts, true),
            ("no-op re-apply (inventory digest matches)", &opts, false),
            ("re-apply with drift correction (plan + dry-run every object)", &correcting, false),
        ];
        for (label, run_opts, expect_writes) in runs {
            let before = server.request_count();
            server.clear_requests();
            let t = Instant::now();
            let report = kiln_applier::apply(&kube, &bundle, run_opts).await.unwrap();
            let secs = t.elapsed().as_secs_f64();
            let requests = server.request_count() - before;
            let writes = server.write_count();
            println!(
                "{label}: {n} objects in {:.1} ms = {:.0} objects/s, {requests} requests = {:.4} requests/object, {writes} writes ({} created, {} configured, {} unchanged{})",
                secs * 1000.0,
                n as f64 / secs,
                requests as f64 / n as f64,
                report.created.len(),
                report.updated.len(),
                report.unchanged,
                if report.skipped { ", skipped" } else { "" },
            );
            if !expect_writes {
                assert_eq!(writes, 0, "a no-op re-apply must not write");
            }
        }
        println!("verify (open) of the {n}-object bundle: {:.1} ms", verify.as_secs_f64() * 1000.0);

        // The agent binary at idle, after converging the same bundle.
        let kubeconfig = dir.path().join("kubeconfig");
        server.write_kubeconfig(&kubeconfig, "bench").unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kiln-applier"))
            .args(["agent", "--bundle", path.to_str().unwrap(), "--interval", "1h", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--kubeconfig", kubeconfig.to_str().unwrap()])
            .env("KILN_LOG", "warn")
            .spawn()
            .unwrap();
        let pid = child.id();
        let mut idle = 0;
        for _ in 0..150 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let ready = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
                && server.requests().iter().any(|r| r.path.ends_with("kiln-inventory-bench") && r.method == "GET");
            if ready {
                tokio::time::sleep(Duration::from_secs(3)).await;
                idle = rss_kib(pid);
                break;
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        println!("agent idle RSS after converging {n} objects: {:.1} MiB", idle as f64 / 1024.0);
    });
}
