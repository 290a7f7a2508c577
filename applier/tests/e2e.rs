//! End-to-end against a real cluster, when `KILN_E2E_KUBECONFIG` names a kubeconfig (and
//! optionally `KILN_E2E_CONTEXT` a context). Skipped, with a message, otherwise. It works in a
//! fresh namespace `kiln-e2e-<random>` and removes it (and its inventory) at the end.

mod common;

use common::*;
use kiln_applier::{ApplyOptions, ClusterSelection, Kube};
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::Duration;

#[tokio::test]
async fn real_cluster_apply_reapply_drift_prune() {
    let Some(kubeconfig) = std::env::var_os("KILN_E2E_KUBECONFIG") else {
        eprintln!(
            "SKIPPED: set KILN_E2E_KUBECONFIG to a kubeconfig to run the applier against a real cluster"
        );
        return;
    };
    let selection = ClusterSelection {
        kubeconfig: Some(kubeconfig.into()),
        context: std::env::var("KILN_E2E_CONTEXT").ok(),
        in_cluster: false,
        request_timeout: Some(Duration::from_secs(30)),
    };
    let kube = Kube::connect(&selection)
        .await
        .expect("connect to the e2e cluster");
    let suffix = format!("{:x}", std::process::id() ^ (chrono_like_nanos() as u32));
    let ns_name = format!("kiln-e2e-{suffix}");
    let target = format!("e2e-{suffix}");
    let dir = tempfile::tempdir().unwrap();
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let nsn = leak(ns_name.clone());
    let opts = ApplyOptions {
        health_timeout: Duration::from_secs(180),
        ..ApplyOptions::default()
    };

    let v1 = kiln_applier::open_bundle(&bundle(
        dir.path(),
        "v1",
        &target,
        vec![
            C("base", vec![], vec![ns(nsn)]),
            C(
                "app",
                vec!["base"],
                vec![
                    cm(nsn, "settings", json!({"k": "v"})),
                    cm(nsn, "old", json!({})),
                    deployment(nsn, "web", 1),
                ],
            ),
        ],
    ))
    .unwrap();
    let report = kiln_applier::apply(&kube, &v1, &opts)
        .await
        .expect("first apply");
    assert_eq!(report.created.len(), 4, "{}", report.to_text());

    let writes = kube.stats().writes.load(Ordering::Relaxed);
    let again = kiln_applier::apply(&kube, &v1, &opts)
        .await
        .expect("re-apply");
    assert_eq!(
        kube.stats().writes.load(Ordering::Relaxed),
        writes,
        "no-op re-apply wrote: {}",
        again.to_text()
    );
    assert!(
        kiln_applier::drift(&kube, &v1, "kiln")
            .await
            .unwrap()
            .drifted
            .is_empty()
    );

    let v2 = kiln_applier::open_bundle(&bundle(
        dir.path(),
        "v2",
        &target,
        vec![
            C("base", vec![], vec![ns(nsn)]),
            C(
                "app",
                vec!["base"],
                vec![
                    cm(nsn, "settings", json!({"k": "v2"})),
                    deployment(nsn, "web", 1),
                ],
            ),
        ],
    ))
    .unwrap();
    let report = kiln_applier::apply(&kube, &v2, &opts)
        .await
        .expect("second apply");
    assert_eq!(report.pruned, [format!("ConfigMap {ns_name}/old")]);

    let _ = kube
        .send(
            http::Method::DELETE,
            &format!("/api/v1/namespaces/{ns_name}"),
            None,
        )
        .await;
    let _ = kube
        .send(
            http::Method::DELETE,
            &format!(
                "/api/v1/namespaces/kiln-system/configmaps/{}",
                kiln_applier::inventory::name_for(&target)
            ),
            None,
        )
        .await;
}

fn chrono_like_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}
