//! The `kiln-applier` binary against the double: kubeconfig and context selection, `apply`,
//! `--dry-run`, `drift`, exit codes, and the agent (`/healthz`, `/readyz`, `/metrics`, idle
//! memory, graceful shutdown on SIGTERM).

mod common;

use common::*;
use kiln_apiserver_double::ApiServer;
use serde_json::json;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kiln-applier"));
    c.env_remove("KUBECONFIG").env("KILN_LOG", "warn");
    c
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A kubeconfig whose current context points nowhere; only `--context double` reaches the double.
fn kubeconfig(server: &ApiServer, dir: &Path) -> std::path::PathBuf {
    let path = dir.join("kubeconfig");
    let config = server
        .kubeconfig("double")
        .replace("current-context: double", "current-context: nowhere")
        + "";
    let config = config
        .replace(
            "contexts:\n",
            "contexts:\n- name: nowhere\n  context:\n    cluster: nowhere\n    user: double\n",
        )
        .replace(
            "clusters:\n",
            "clusters:\n- name: nowhere\n  cluster:\n    server: http://127.0.0.1:1\n",
        );
    std::fs::write(&path, config).unwrap();
    path
}

#[test]
fn apply_dry_run_and_drift_through_the_binary() {
    let server = ApiServer::start_background().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig(&server, dir.path());
    let b = bundle(
        dir.path(),
        "b",
        "t",
        vec![C(
            "app",
            vec![],
            vec![ns("a"), cm("a", "c", json!({"k": "v"}))],
        )],
    );
    let kc = kc.to_str().unwrap();
    let b = b.to_str().unwrap();

    let out = bin()
        .args(["apply", b, "--kubeconfig", kc, "--request-timeout", "2s"])
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "the current context points nowhere: {}",
        text(&out)
    );
    assert_eq!(out.status.code(), Some(1));

    let out = bin()
        .args([
            "apply",
            b,
            "--kubeconfig",
            kc,
            "--context",
            "double",
            "--dry-run",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("plan for target `t`"), "{stdout}");
    assert!(stdout.contains("+ Namespace a (create)"), "{stdout}");
    assert_eq!(server.write_count(), 0);

    let out = bin()
        .env("KUBECONFIG", kc)
        .args(["apply", b, "--context", "double"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("2 created"),
        "{}",
        text(&out)
    );

    let out = bin()
        .args(["drift", b, "--kubeconfig", kc, "--context", "double"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    server
        .edit("v1", "ConfigMap", "a", "c", "kubectl-edit", |o| {
            o["data"]["k"] = json!("x")
        })
        .unwrap();
    let out = bin()
        .args([
            "drift",
            b,
            "--kubeconfig",
            kc,
            "--context",
            "double",
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "drift exits 1: {}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["drifted"][0]["object"], "ConfigMap a/c");

    let out = bin()
        .args(["apply", "/nonexistent/bundle", "--kubeconfig", kc])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    let code = buf.split_whitespace().nth(1)?.parse().ok()?;
    let body = buf
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((code, body))
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

#[test]
fn agent_serves_health_and_metrics_and_stops_gracefully() {
    let server = ApiServer::start_background().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig(&server, dir.path());
    let b = bundle(
        dir.path(),
        "b",
        "t",
        vec![C(
            "app",
            vec![],
            vec![ns("a"), cm("a", "c", json!({"k": "v"}))],
        )],
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = bin()
        .args([
            "agent",
            "--bundle",
            b.to_str().unwrap(),
            "--interval",
            "300ms",
            "--target",
            "t",
        ])
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--kubeconfig",
            kc.to_str().unwrap(),
            "--context",
            "double",
        ])
        .args(["--log-format", "json"])
        .env("KILN_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if let Some((200, _)) = http_get(port, "/readyz") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "agent never became ready"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(http_get(port, "/healthz").map(|r| r.0), Some(200));
    assert!(server.object("v1", "ConfigMap", "a", "c").is_some());

    // Drift is corrected on the next interval.
    server
        .edit("v1", "ConfigMap", "a", "c", "kubectl-edit", |o| {
            o["data"]["k"] = json!("x")
        })
        .unwrap();
    let started = Instant::now();
    while server.object("v1", "ConfigMap", "a", "c").unwrap()["data"]["k"] != "v" {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "drift not corrected"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(700));
    let (_, metrics) = http_get(port, "/metrics").unwrap();
    let successes: u64 = metrics
        .lines()
        .find(|l| l.starts_with("kiln_reconciles_total{result=\"success\"}"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0);
    assert!(successes >= 2, "{metrics}");
    assert!(
        metrics.contains("kiln_bundle_info{digest=\"blake3:"),
        "{metrics}"
    );
    let rss = rss_kib(child.id());
    eprintln!("agent idle RSS: {} KiB", rss);
    assert!(rss > 0 && rss < 50 * 1024, "agent RSS {rss} KiB");
    let events = server.objects("v1", "Event");
    assert!(
        events.iter().any(|e| e["reason"] == "Applied"),
        "events recorded on the inventory"
    );

    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "agent did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success());
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    assert!(
        logs.lines()
            .any(|l| l.starts_with('{') && l.contains("\"shutting down\"")),
        "{logs}"
    );
}
