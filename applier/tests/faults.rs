//! Faults from the issue, each against the double over real HTTP: the API server unreachable
//! mid-apply, 409 conflicts, 422 invalid objects, 429/5xx, a dropped watch, a health check
//! that never converges, a tampered bundle, and an inventory written by another target.
//! Each gets a clear error, a retry where safe, and a re-run converges.

mod common;

use common::*;
use kiln_apiserver_double::{Fault, FaultKind};
use kiln_applier::{ApplyError, ApplyOptions};
use serde_json::json;
use std::time::Duration;

fn many(ns_name: &str, n: usize) -> Vec<serde_json::Value> {
    let mut v = vec![ns(ns_name)];
    v.extend((0..n).map(|i| cm(ns_name, &format!("c{i}"), json!({"i": i.to_string()}))));
    v
}

#[tokio::test]
async fn unreachable_mid_apply_then_a_rerun_converges() {
    let server = double().await;
    let dir = tempfile::tempdir().unwrap();
    let kube = kube(&server);
    let b = kiln_applier::open_bundle(&bundle(
        dir.path(),
        "b",
        "t",
        vec![C("app", vec![], many("a", 10))],
    ))
    .unwrap();
    // Four write requests go through (the namespace's dry-run and apply, two objects), then the
    // server stops answering.
    server.inject(Fault {
        kind: FaultKind::Disconnect,
        count: 1000,
        skip: 4,
        writes_only: true,
    });
    let o = ApplyOptions {
        concurrency: 1,
        ..opts()
    };
    let err = kiln_applier::apply(&kube, &b, &o).await.unwrap_err();
    assert!(
        matches!(&err, ApplyError::Apply { source, .. } if source.is_transient()),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("cannot reach the API server"),
        "{err}"
    );
    let applied = server
        .objects("v1", "ConfigMap")
        .iter()
        .filter(|c| c["metadata"]["namespace"] == "a")
        .count();
    assert_eq!(applied, 2);
    assert!(
        inventory(&server, "t").is_none(),
        "the inventory cannot be written while unreachable"
    );

    server.clear_faults();
    let report = kiln_applier::apply(&kube, &b, &o)
        .await
        .expect("re-run converges");
    assert_eq!(report.unchanged, 3, "{}", report.to_text());
    assert_eq!(report.created.len(), 8);
    assert_eq!(
        inventory(&server, "t").unwrap()["data"]["status"],
        "applied"
    );
}

#[tokio::test]
async fn transient_429_and_5xx_are_retried() {
    let server = double().await;
    let dir = tempfile::tempdir().unwrap();
    let kube = kube(&server);
    let b = kiln_applier::open_bundle(&bundle(
        dir.path(),
        "b",
        "t",
        vec![C("app", vec![], many("a", 3))],
    ))
    .unwrap();
    server.inject(Fault {
        kind: FaultKind::Status(429),
        count: 2,
        skip: 1,
        writes_only: true,
    });
    server.inject(Fault {
        kind: FaultKind::Status(503),
        count: 2,
        skip: 0,
        writes_only: false,
    });
    server.inject(Fault {
        kind: FaultKind::Status(500),
        count: 1,
        skip: 0,
        writes_only: true,
    });
    let report = kiln_applier::apply(&kube, &b, &opts())
        .await
        .expect("retries absorb transient errors");
    assert!(report.retries >= 5, "{}", report.to_text());
    assert_eq!(report.created.len(), 4);
}

#[tokio::test]
async fn a_hanging_server_times_out_and_is_retried() {
    let server = double().await;
    let dir = tempfile::tempdir().unwrap();
    let kube = kube(&server);
    let b = kiln_applier::open_bundle(&bundle(
        dir.path(),
        "b",
        "t",
        vec![C("app", vec![], many("a", 1))],
    ))
    .unwrap();
    server.inject(Fault {
        kind: FaultKind::Hang(Duration::from_secs(5)),
        count: 1,
        skip: 0,
        writes_only: true,
    });
    let report = kiln_applier::apply(&kube, &b, &opts())
        .await
        .expect("a timed-out request is retried");
    assert!(report.retries >= 1);
}

#[tokio::test]
async fn conflicts_with_other_managers_fail_the_plan_unless_forced() {
    let server = double().await;
    let dir = tempfile::tempdir().unwrap();
    let kube = kube(&server);
    server.put_object(ns("a"), "kubectl").unwrap();
    let mut theirs = cm("a", "shared", json!({"owner": "ops"}));
    theirs["metadata"]["labels"] = json!({});
    server.put_object(theirs, "helm").unwrap();
    let b = kiln_applier::open_bundle(&bundle(
        dir.path(),
        "b",
        "t",
        vec![C(
            "app",
            vec![],
            vec![
                cm("a", "shared", json!({"owner": "kiln"})),
                cm("a", "mine", json!({})),
            ],
        )],
    ))
    .unwrap();
    server.clear_requests();
    let err = kiln_applier::apply(&kube, &b, &opts()).await.unwrap_err();
    let ApplyError::Plan { problems } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].starts_with(
            "ConfigMap a/shared: Apply failed with 1 conflict: conflict with \"helm\": .data.owner"
        ),
        "{}",
        problems[0]
    );
    assert!(problems[0].contains("--force-conflicts"));
    assert_eq!(server.write_count(), 0, "a failed plan writes nothing");

    let forced = ApplyOptions {
        force_conflicts: true,
        ..opts()
    };
    kiln_applier::apply(&kube, &b, &forced).await.unwrap();
    assert_eq!(
        server.object("v1", "ConfigMap", "a", "shared").unwrap()["data"]["owner"],
        "kiln"
    );
}

#[tokio::test]
async fn invalid_objects_fail_the_plan_with_the_field_and_write_nothing() {
    let server = double().await;
    let dir = tempfile::tempdir().unwrap();
    let kube = kube(&server);
    server.put_object(ns("a"), "kubectl").unwrap();
    let mut bad = deployment("a", "web", 1);
    bad["spec"]["template"]["metadata"]["labels"] = json!({"app": "other"});
    let b = kiln_applier::open_bundle(&bundle(
        dir.path(),
        "b",
        "t",
        vec![C("app", vec![], vec![cm("a", "fine", json!({})), bad])],
    ))
    .unwrap();
    server.clear_requests();
    let err = kiln_applier::apply(&kube, &b, &opts()).await.unwrap_err();
    let text = format!("{:?}", miette::Report::new(err));
    assert!(text.contains("Deployment.apps a/web"), "{text}");
    assert!(text.contains("spec.template.metadata.labels"), "{text}");
    assert!(text.contains("HTTP 422"), "{text}");
    assert_eq!(server.write_count(), 0);
    assert!(inventory(&server, "t").is_none());
}

#[tokio::test]
async fn a_dropped_watch_is_resumed() {
    let server = double().await;
    let dir = tempfile::tempdir().unwrap();
    let kube = kube(&server);
    let b = kiln_applier::open_bundle(&bundle(
        dir.path(),
        "b",
        "t",
        vec![C("app", vec![], vec![ns("a"), deployment("a", "web", 1)])],
    ))
    .unwrap();
    let s = server.clone();
    let controller = tokio::spawn(async move {
        while s.object("apps/v1", "Deployment", "a", "web").is_none() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        s.drop_watches();
        tokio::time::sleep(Duration::from_millis(200)).await;
        s.mark_rolled_out("Deployment", "a", "web").unwrap();
    });
    let report = kiln_applier::apply(&kube, &b, &opts())
        .await
        .expect("healthy after the watch resumed");
    controller.await.unwrap();
    assert_eq!(report.health, [("app".to_string(), "ready".to_string())]);
    let watches = server
        .requests()
        .iter()
        .filter(|r| r.query.contains("watch=true"))
        .count();
    assert!(watches >= 2, "the watch was re-established ({watches})");
}

#[tokio::test]
async fn a_health_check_that_never_converges_times_out_with_the_reason() {
    let server = double().await;
    let dir = tempfile::tempdir().unwrap();
    let kube = kube(&server);
    let b = kiln_applier::open_bundle(&bundle(
        dir.path(),
        "b",
        "t",
        vec![C("app", vec![], vec![ns("a"), deployment("a", "web", 3)])],
    ))
    .unwrap();
    let mut o = opts();
    o.component_timeouts
        .insert("app".into(), Duration::from_millis(600));
    let err = kiln_applier::apply(&kube, &b, &o).await.unwrap_err();
    match &err {
        ApplyError::Unhealthy {
            component,
            not_ready,
            ..
        } => {
            assert_eq!(component, "app");
            assert_eq!(
                not_ready,
                &["Deployment.apps a/web: the controller has not reported status yet"]
            );
        }
        other => panic!("{other:?}"),
    }
    let inv = inventory(&server, "t").expect("partial inventory recorded");
    assert_eq!(inv["data"]["status"], "failed");
    assert_eq!(inv["data"]["digest"], "");

    server.mark_rolled_out("Deployment", "a", "web").unwrap();
    kiln_applier::apply(&kube, &b, &o)
        .await
        .expect("converges once healthy");
    assert_eq!(
        inventory(&server, "t").unwrap()["data"]["status"],
        "applied"
    );
}

#[tokio::test]
async fn a_tampered_bundle_is_refused_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let path = bundle(
        dir.path(),
        "b",
        "t",
        vec![C(
            "app",
            vec![],
            vec![ns("a"), cm("a", "c", json!({"k": "v"}))],
        )],
    );
    let file = walk(&path)
        .into_iter()
        .find(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains("kind: ConfigMap")))
        .expect("object file");
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("k: v", "k: evil");
    std::fs::write(&file, text).unwrap();
    let err = kiln_applier::open_bundle(&path).unwrap_err();
    let report = format!("{:?}", miette::Report::new(err));
    assert!(report.contains("cannot use the bundle"), "{report}");
    assert!(
        report.contains("nothing was sent to the cluster"),
        "{report}"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p))
        } else {
            out.push(p)
        }
    }
    out
}

#[tokio::test]
async fn an_inventory_written_by_another_target_stops_the_run() {
    let server = double().await;
    let dir = tempfile::tempdir().unwrap();
    let kube = kube(&server);
    let theirs = kiln_applier::open_bundle(&bundle(
        dir.path(),
        "x",
        "Prod_EU",
        vec![C(
            "app",
            vec![],
            vec![ns("a"), cm("a", "theirs", json!({}))],
        )],
    ))
    .unwrap();
    kiln_applier::apply(&kube, &theirs, &opts()).await.unwrap();
    let ours = kiln_applier::open_bundle(&bundle(
        dir.path(),
        "y",
        "prod-eu",
        vec![C("app", vec![], vec![ns("a"), cm("a", "ours", json!({}))])],
    ))
    .unwrap();
    server.clear_requests();
    let err = kiln_applier::apply(&kube, &ours, &opts())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApplyError::ForeignInventory { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("target `Prod_EU`"), "{err}");
    assert_eq!(server.write_count(), 0);
    assert!(
        server.object("v1", "ConfigMap", "a", "theirs").is_some(),
        "nothing pruned"
    );
}
