//! The applier against the API server double, over real HTTP through kube-rs: ordering, SSA,
//! health, inventory, prune, no-op re-apply, dry-run diff, drift, rollback and tenants.

mod common;

use common::*;
use kiln_applier::{Action, ApplyError, ApplyOptions};
use kiln_bundle::Tenancy;
use serde_json::json;

#[tokio::test]
async fn applies_in_order_waits_for_health_and_records_the_inventory() {
    let server = double().await;
    let controller = roll_out_deployments(&server);
    let dir = tempfile::tempdir().unwrap();
    let path = bundle(
        dir.path(),
        "b1",
        "staging",
        vec![
            C("crds", vec![], vec![crd()]),
            C(
                "app",
                vec!["crds"],
                vec![
                    deployment("shop", "web", 2),
                    cm("shop", "settings", json!({"mode": "fast"})),
                    widget("shop", "w1"),
                    ns("shop"),
                ],
            ),
        ],
    );
    let kube = kube(&server);
    let b = kiln_applier::open_bundle(&path).unwrap();
    let report = kiln_applier::apply(&kube, &b, &opts())
        .await
        .expect("apply");
    controller.abort();

    assert_eq!(report.created.len(), 5, "{}", report.to_text());
    assert_eq!(
        report
            .health
            .iter()
            .map(|(c, h)| (c.as_str(), h.as_str()))
            .collect::<Vec<_>>(),
        [("CRDs", "ready"), ("app", "ready")]
    );

    // Order of writes: CRD, then the Namespace, then the namespaced objects.
    let writes: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|r| r.is_write())
        .map(|r| r.path)
        .collect();
    let pos = |needle: &str| {
        writes
            .iter()
            .position(|p| p.contains(needle))
            .unwrap_or_else(|| panic!("{needle} not written: {writes:?}"))
    };
    assert!(pos("customresourcedefinitions") < pos("/api/v1/namespaces/shop"));
    assert!(pos("/api/v1/namespaces/shop") < pos("configmaps/settings"));
    assert!(pos("/api/v1/namespaces/shop") < pos("widgets/w1"));

    let live = server
        .object("v1", "ConfigMap", "shop", "settings")
        .unwrap();
    assert_eq!(live["metadata"]["labels"]["kiln.dev/inventory"], "staging");
    assert_eq!(live["metadata"]["managedFields"][0]["manager"], "kiln");
    assert_eq!(live["metadata"]["managedFields"][0]["operation"], "Apply");

    let inv = inventory(&server, "staging").expect("inventory written");
    assert_eq!(inv["data"]["digest"], b.digest().to_string());
    assert_eq!(inv["data"]["target"], "staging");
    assert_eq!(inv["data"]["status"], "applied");
    let objects: Vec<serde_json::Value> =
        serde_json::from_str(inv["data"]["objects"].as_str().unwrap()).unwrap();
    assert_eq!(objects.len(), 5);
    let events = server.objects("v1", "Event");
    assert!(events.iter().any(
        |e| e["reason"] == "Applied" && e["involvedObject"]["name"] == "kiln-inventory-staging"
    ));
}

#[tokio::test]
async fn a_second_apply_of_the_same_bundle_writes_nothing() {
    let server = double().await;
    let dir = tempfile::tempdir().unwrap();
    let path = bundle(
        dir.path(),
        "b",
        "t",
        vec![C(
            "app",
            vec![],
            vec![
                ns("a"),
                cm("a", "one", json!({"k": "v"})),
                cm("a", "two", json!({"k": "v"})),
            ],
        )],
    );
    let kube = kube(&server);
    let b = kiln_applier::open_bundle(&path).unwrap();
    kiln_applier::apply(&kube, &b, &opts()).await.unwrap();
    server.clear_requests();
    let report = kiln_applier::apply(&kube, &b, &opts()).await.unwrap();
    let requests: Vec<String> = server
        .requests()
        .into_iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        requests,
        ["GET /api/v1/namespaces/kiln-system/configmaps/kiln-inventory-t"],
        "the inventory digest matches: one read and nothing else"
    );
    assert!(report.skipped);
    assert_eq!(report.unchanged, 3);
    assert!(!report.inventory_written);
    assert!(
        report.to_text().contains("nothing to do"),
        "{}",
        report.to_text()
    );

    // Asking for drift correction plans again: dry-runs, still no writes.
    let correcting = ApplyOptions {
        correct_drift: true,
        ..opts()
    };
    server.clear_requests();
    let report = kiln_applier::apply(&kube, &b, &correcting).await.unwrap();
    assert!(!report.skipped);
    assert_eq!(server.write_count(), 0, "{:?}", server.requests());
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.method == "PATCH" && r.dry_run)
    );
    assert_eq!(report.unchanged, 3);
    assert!(!report.inventory_written);

    // A field changed by hand is left alone by the skip, and put back by drift correction.
    server
        .edit("v1", "ConfigMap", "a", "one", "kubectl-edit", |o| {
            o["data"]["k"] = json!("changed")
        })
        .unwrap();
    kiln_applier::apply(&kube, &b, &opts()).await.unwrap();
    assert_eq!(
        server.object("v1", "ConfigMap", "a", "one").unwrap()["data"]["k"],
        "changed"
    );
    let forced = ApplyOptions {
        force_conflicts: true,
        ..correcting
    };
    let report = kiln_applier::apply(&kube, &b, &forced).await.unwrap();
    assert_eq!(report.updated, ["ConfigMap a/one"], "{}", report.to_text());
    assert_eq!(
        server.object("v1", "ConfigMap", "a", "one").unwrap()["data"]["k"],
        "v"
    );
}

#[tokio::test]
async fn dry_run_plans_with_a_field_diff_and_writes_nothing() {
    let server = double().await;
    let dir = tempfile::tempdir().unwrap();
    let kube = kube(&server);
    let v1 = bundle(
        dir.path(),
        "v1",
        "t",
        vec![C(
            "app",
            vec![],
            vec![ns("a"), cm("a", "c", json!({"k": "1", "gone": "x"}))],
        )],
    );
    kiln_applier::apply(&kube, &kiln_applier::open_bundle(&v1).unwrap(), &opts())
        .await
        .unwrap();
    let v2 = bundle(
        dir.path(),
        "v2",
        "t",
        vec![C(
            "app",
            vec![],
            vec![
                ns("a"),
                cm("a", "c", json!({"k": "2"})),
                cm("a", "new", json!({})),
            ],
        )],
    );
    server.clear_requests();
    let plan = kiln_applier::plan(&kube, &kiln_applier::open_bundle(&v2).unwrap(), &opts())
        .await
        .unwrap();
    assert_eq!(server.write_count(), 0);
    let text = kiln_applier::render::plan_text(&plan);
    assert!(
        text.contains("1 to create, 1 to configure, 1 unchanged"),
        "{text}"
    );
    assert!(
        text.contains(
            "  ~ ConfigMap a/c (configure)\n      - data.gone: x\n      ~ data.k: \"1\" -> \"2\"\n"
        ),
        "kiln diff's notation: {text}"
    );
    let changed = plan.items.iter().find(|p| p.item.oref.name == "c").unwrap();
    assert!(matches!(&changed.action, Action::Update(c) if c.len() == 2));
}

#[tokio::test]
async fn prune_removes_only_what_this_inventory_owns() {
    let server = double().await;
    let dir = tempfile::tempdir().unwrap();
    let kube = kube(&server);
    let mut keep = cm("a", "keep", json!({}));
    keep["metadata"]["annotations"] = json!({"kiln.dev/prune": "disabled"});
    let v1 = bundle(
        dir.path(),
        "v1",
        "t",
        vec![
            C("base", vec![], vec![ns("a"), ns("b")]),
            C(
                "app",
                vec!["base"],
                vec![
                    cm("a", "stay", json!({})),
                    cm("a", "old", json!({})),
                    keep,
                    cm("b", "handed-over", json!({})),
                ],
            ),
        ],
    );
    kiln_applier::apply(&kube, &kiln_applier::open_bundle(&v1).unwrap(), &opts())
        .await
        .unwrap();
    // Someone else takes one object over: it no longer carries our label.
    server
        .edit("v1", "ConfigMap", "b", "handed-over", "ops", |o| {
            o["metadata"]["labels"]["kiln.dev/inventory"] = json!("other");
        })
        .unwrap();
    let v2 = bundle(
        dir.path(),
        "v2",
        "t",
        vec![
            C("base", vec![], vec![ns("a")]),
            C("app", vec!["base"], vec![cm("a", "stay", json!({}))]),
        ],
    );
    let report = kiln_applier::apply(&kube, &kiln_applier::open_bundle(&v2).unwrap(), &opts())
        .await
        .unwrap();
    assert_eq!(
        report.pruned,
        ["ConfigMap a/old", "Namespace b"],
        "{}",
        report.to_text()
    );
    assert!(server.object("v1", "ConfigMap", "a", "old").is_none());
    assert!(
        server.object("v1", "ConfigMap", "a", "keep").is_some(),
        "opt-out annotation honoured"
    );
    assert!(
        report
            .kept
            .iter()
            .any(|k| k.starts_with("ConfigMap a/keep"))
    );
    assert!(
        report
            .kept
            .iter()
            .any(|k| k.starts_with("ConfigMap b/handed-over")),
        "{:?}",
        report.kept
    );
    let inv = inventory(&server, "t").unwrap();
    let history: Vec<serde_json::Value> =
        serde_json::from_str(inv["data"]["history"].as_str().unwrap()).unwrap();
    assert_eq!(history.len(), 1);
}

#[tokio::test]
async fn drift_lists_fields_changed_by_other_managers_and_deleted_objects() {
    let server = double().await;
    let dir = tempfile::tempdir().unwrap();
    let kube = kube(&server);
    let path = bundle(
        dir.path(),
        "v1",
        "t",
        vec![C(
            "app",
            vec![],
            vec![
                ns("a"),
                cm("a", "c", json!({"k": "1"})),
                cm("a", "d", json!({})),
            ],
        )],
    );
    let b = kiln_applier::open_bundle(&path).unwrap();
    kiln_applier::apply(&kube, &b, &opts()).await.unwrap();
    let clean = kiln_applier::drift(&kube, &b, "kiln").await.unwrap();
    assert!(clean.drifted.is_empty(), "{}", clean.to_text());

    server
        .edit("v1", "ConfigMap", "a", "c", "kubectl-edit", |o| {
            o["data"]["k"] = json!("hand-edited")
        })
        .unwrap();
    server.delete_object("v1", "ConfigMap", "a", "d");
    let report = kiln_applier::drift(&kube, &b, "kiln").await.unwrap();
    let text = report.to_text();
    assert_eq!(report.drifted.len(), 2, "{text}");
    assert!(text.contains("~ ConfigMap a/c (by kubectl-edit)"), "{text}");
    assert!(
        text.contains("      ~ data.k: \"1\" -> hand-edited\n"),
        "{text}"
    );
    assert!(text.contains("- ConfigMap a/d was deleted"), "{text}");

    // The inventory says this bundle is applied: a plain re-apply leaves the drift alone.
    assert!(
        kiln_applier::apply(&kube, &b, &opts())
            .await
            .unwrap()
            .skipped
    );
    // Correcting a field another manager now owns is a conflict unless forced.
    let correcting = ApplyOptions {
        correct_drift: true,
        ..opts()
    };
    let err = kiln_applier::apply(&kube, &b, &correcting)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("the plan failed"), "{err}");
    let forced = ApplyOptions {
        force_conflicts: true,
        ..correcting
    };
    kiln_applier::apply(&kube, &b, &forced).await.unwrap();
    assert!(
        kiln_applier::drift(&kube, &b, "kiln")
            .await
            .unwrap()
            .drifted
            .is_empty()
    );
}

#[tokio::test]
async fn rollback_reapplies_a_previous_bundle_from_the_store() {
    let server = double().await;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let kube = kube(&server);
    let o = ApplyOptions {
        store: Some(store.clone()),
        ..opts()
    };
    let v1 = kiln_applier::open_bundle(&bundle(
        dir.path(),
        "v1",
        "t",
        vec![C(
            "app",
            vec![],
            vec![ns("a"), cm("a", "c", json!({"v": "1"}))],
        )],
    ))
    .unwrap();
    let v2 = kiln_applier::open_bundle(&bundle(
        dir.path(),
        "v2",
        "t",
        vec![C(
            "app",
            vec![],
            vec![
                ns("a"),
                cm("a", "c", json!({"v": "2"})),
                cm("a", "extra", json!({})),
            ],
        )],
    ))
    .unwrap();
    kiln_applier::apply(&kube, &v1, &o).await.unwrap();
    kiln_applier::apply(&kube, &v2, &o).await.unwrap();
    assert_eq!(
        server.object("v1", "ConfigMap", "a", "c").unwrap()["data"]["v"],
        "2"
    );

    let err = kiln_applier::rollback(&kube, "", "t", Some("blake3:0000"), &store, &o)
        .await
        .unwrap_err();
    assert!(matches!(err, ApplyError::UnknownRevision { .. }), "{err:?}");
    kiln_applier::rollback(&kube, "", "t", Some(&v1.digest().to_string()), &store, &o)
        .await
        .unwrap();
    assert_eq!(
        server.object("v1", "ConfigMap", "a", "c").unwrap()["data"]["v"],
        "1"
    );
    assert!(
        server.object("v1", "ConfigMap", "a", "extra").is_none(),
        "objects of the newer bundle are pruned"
    );
    let inv = inventory(&server, "t").unwrap();
    assert_eq!(inv["data"]["digest"], v1.digest().to_string());
}

#[tokio::test]
async fn failed_health_rolls_back_automatically() {
    let server = double().await;
    let dir = tempfile::tempdir().unwrap();
    let kube = kube(&server);
    let o = ApplyOptions {
        store: Some(dir.path().join("store")),
        auto_rollback: true,
        ..opts()
    };
    let good = kiln_applier::open_bundle(&bundle(
        dir.path(),
        "good",
        "t",
        vec![C(
            "app",
            vec![],
            vec![ns("a"), cm("a", "c", json!({"v": "good"}))],
        )],
    ))
    .unwrap();
    kiln_applier::apply(&kube, &good, &o).await.unwrap();
    let bad = kiln_applier::open_bundle(&bundle(
        dir.path(),
        "bad",
        "t",
        vec![C(
            "app",
            vec![],
            vec![
                ns("a"),
                cm("a", "c", json!({"v": "bad"})),
                job("a", "migrate"),
            ],
        )],
    ))
    .unwrap();
    let s = server.clone();
    let failer = tokio::spawn(async move {
        loop {
            if s.object("batch/v1", "Job", "a", "migrate").is_some() {
                let _ = s.fail_job("a", "migrate", "exit code 3");
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    });
    let err = kiln_applier::apply(&kube, &bad, &o).await.unwrap_err();
    failer.abort();
    match &err {
        ApplyError::RolledBack { digest, cause } => {
            assert_eq!(*digest, good.digest().to_string());
            assert!(
                cause
                    .to_string()
                    .contains("job failed: BackoffLimitExceeded: exit code 3"),
                "{cause}"
            );
        }
        other => panic!("expected a rollback, got {other:?}"),
    }
    assert_eq!(
        server.object("v1", "ConfigMap", "a", "c").unwrap()["data"]["v"],
        "good"
    );
    assert!(server.object("batch/v1", "Job", "a", "migrate").is_none());
}

#[tokio::test]
async fn tenants_are_impersonated_and_confined_before_any_write() {
    let server = double().await;
    let dir = tempfile::tempdir().unwrap();
    let kube = kube(&server);
    let team_a = [(
        "team-a",
        Tenancy {
            namespaces: Some(vec!["team-a".into()]),
            service_account: Some("team-a/deployer".into()),
        },
    )];
    let o = opts();
    server.restrict_user("system:serviceaccount:team-a:deployer", &["team-a"]);

    let escaping = kiln_applier::open_bundle(&bundle_with_tenancy(
        dir.path(),
        "x",
        "t",
        vec![
            C("base", vec![], vec![ns("team-a"), ns("team-b")]),
            C(
                "team-a",
                vec!["base"],
                vec![
                    cm("team-a", "ok", json!({})),
                    cm("team-b", "sneaky", json!({})),
                    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                        "metadata": {"name": "escalate"}, "rules": []}),
                ],
            ),
        ],
        &team_a,
    ))
    .unwrap();
    server.clear_requests();
    let err = kiln_applier::apply(&kube, &escaping, &o).await.unwrap_err();
    let ApplyError::Tenant { violations } = &err else {
        panic!("expected a tenant violation, got {err:?}");
    };
    let objects: Vec<(&str, &str)> = violations
        .iter()
        .map(|v| (v.component.as_str(), v.object.as_str()))
        .collect();
    assert_eq!(
        objects,
        [
            ("team-a", "ConfigMap team-b/sneaky"),
            ("team-a", "ClusterRole.rbac.authorization.k8s.io escalate")
        ],
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("(and 1 more); nothing was written"),
        "{err}"
    );
    assert_eq!(violations[0].declared_at.as_deref(), Some("team-a.yaml:2"));
    assert_eq!(server.write_count(), 0);

    let fine = kiln_applier::open_bundle(&bundle_with_tenancy(
        dir.path(),
        "y",
        "t",
        vec![
            C("base", vec![], vec![ns("team-a")]),
            C("team-a", vec!["base"], vec![cm("team-a", "ok", json!({}))]),
        ],
        &team_a,
    ))
    .unwrap();
    kiln_applier::apply(&kube, &fine, &o).await.unwrap();
    let write = server
        .requests()
        .into_iter()
        .find(|r| r.is_write() && r.path.ends_with("configmaps/ok"))
        .unwrap();
    assert_eq!(
        write.impersonated_user.as_deref(),
        Some("system:serviceaccount:team-a:deployer")
    );
}
