//! The agent and the library reading bundles from a real registry (Debian's
//! `docker-registry`): a pushed tag is applied, a new push to the tag is picked up on the next
//! poll (and only then pulled), an outage or a tampered artifact keeps the last good bundle
//! applied, and nothing unverified ever reaches the API server.

mod common;

use common::{C, cm, double, kube, ns};
use kiln_applier::agent::{AgentConfig, AgentState, reconcile};
use kiln_applier::{ApplyOptions, BundleSource};
use kiln_oci::testing::{RegistryServer, bundle_parts, push_raw};
use kiln_oci::{Puller, PushMeta, Registry, RegistryOptions, media, push};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

fn client(server: &RegistryServer) -> Registry {
    server.client(RegistryOptions {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        ..RegistryOptions::default()
    })
}

/// A bundle of one namespace and one ConfigMap whose `version` is `v`.
fn shop(dir: &Path, v: &str) -> kiln_bundle::BuiltBundle {
    let path = common::bundle(
        dir,
        &format!("bundle-{v}"),
        "prod",
        vec![C(
            "web",
            vec![],
            vec![ns("shop"), cm("shop", "web", json!({"version": v}))],
        )],
    );
    kiln_bundle::read_verified(path).unwrap()
}

fn metric(state: &AgentState, name: &str) -> String {
    state
        .metrics
        .render()
        .lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("no metric {name}"))
        .rsplit_once(' ')
        .unwrap()
        .1
        .to_string()
}

fn applied_version(server: &kiln_apiserver_double::ApiServer) -> Option<String> {
    server
        .object("v1", "ConfigMap", "shop", "web")
        .and_then(|o| o["data"]["version"].as_str().map(String::from))
}

fn agent(registry: &Registry, reference: &kiln_oci::BundleRef) -> AgentConfig {
    AgentConfig {
        source: BundleSource::Oci(reference.clone()),
        puller: Some(Puller::new(registry.clone(), None).unwrap()),
        interval: Duration::from_secs(60),
        listen: "127.0.0.1:0".parse().unwrap(),
        apply: ApplyOptions {
            health_timeout: Duration::from_secs(5),
            correct_drift: true,
            force_conflicts: true,
            ..ApplyOptions::default()
        },
    }
}

#[tokio::test]
async fn agent_follows_the_tag_and_keeps_the_last_good_bundle() {
    let Some(registry_server) = RegistryServer::start_or_skip(None) else {
        return;
    };
    let server = double().await;
    let k = kube(&server);
    let tmp = tempfile::tempdir().unwrap();
    let registry = client(&registry_server);
    let reference = registry_server.reference("fleet/shop:prod");
    push(
        &registry,
        &shop(tmp.path(), "1"),
        &reference,
        &PushMeta::default(),
    )
    .await
    .unwrap();

    let config = agent(&registry, &reference);
    let state = AgentState::default();
    reconcile(&k, &config, &state).await;
    assert_eq!(applied_version(&server).as_deref(), Some("1"));
    assert_eq!(metric(&state, "kiln_source_pulls_total"), "1");
    assert_eq!(metric(&state, "kiln_source_up"), "1");

    // Same tag, same manifest: no second pull, and nothing to write.
    server.clear_requests();
    reconcile(&k, &config, &state).await;
    assert_eq!(metric(&state, "kiln_source_pulls_total"), "1");
    assert_eq!(
        server.write_count(),
        0,
        "an unchanged artifact writes nothing"
    );

    // A new push to the tag is picked up by the next poll.
    push(
        &registry,
        &shop(tmp.path(), "2"),
        &reference,
        &PushMeta::default(),
    )
    .await
    .unwrap();
    reconcile(&k, &config, &state).await;
    assert_eq!(applied_version(&server).as_deref(), Some("2"));
    assert_eq!(metric(&state, "kiln_source_pulls_total"), "2");

    // The registry goes away: reported, and the last good bundle stays applied (and keeps
    // correcting drift).
    drop(registry_server);
    server
        .edit("v1", "ConfigMap", "shop", "web", "kubectl", |o| {
            o["data"]["version"] = json!("edited");
        })
        .unwrap();
    reconcile(&k, &config, &state).await;
    assert_eq!(metric(&state, "kiln_source_up"), "0");
    assert_eq!(
        metric(&state, "kiln_source_checks_total{result=\"failure\"}"),
        "1"
    );
    assert_eq!(
        metric(&state, "kiln_reconciles_total{result=\"success\"}"),
        "4"
    );
    assert_eq!(applied_version(&server).as_deref(), Some("2"));
}

#[tokio::test]
async fn a_tampered_artifact_never_reaches_the_cluster() {
    let Some(registry_server) = RegistryServer::start_or_skip(None) else {
        return;
    };
    let server = double().await;
    let k = kube(&server);
    let tmp = tempfile::tempdir().unwrap();
    let registry = client(&registry_server);
    let reference = registry_server.reference("fleet/shop:prod");
    let good = shop(tmp.path(), "1");
    let (config_blob, _) = bundle_parts(&good).unwrap();
    let mut evil = good.clone();
    let file = evil
        .files
        .keys()
        .find(|k| k.contains("configmap"))
        .unwrap()
        .clone();
    let text = String::from_utf8(evil.files[&file].clone()).unwrap();
    evil.files.insert(
        file,
        text.replace("version: \"1\"", "version: evil").into_bytes(),
    );
    let (_, evil_layer) = bundle_parts(&evil).unwrap();
    push_raw(
        &registry,
        &reference,
        media::ARTIFACT_TYPE,
        (media::ARTIFACT_TYPE, config_blob.clone()),
        vec![(media::LAYER, evil_layer.clone())],
        BTreeMap::new(),
    )
    .await
    .unwrap();

    let config = agent(&registry, &reference);
    let state = AgentState::default();
    reconcile(&k, &config, &state).await;
    assert_eq!(
        server.request_count(),
        0,
        "nothing was sent to the API server"
    );
    assert_eq!(
        metric(&state, "kiln_reconciles_total{result=\"failure\"}"),
        "1"
    );

    // A good push recovers; a tampered one after it leaves the good one applied.
    push(&registry, &good, &reference, &PushMeta::default())
        .await
        .unwrap();
    reconcile(&k, &config, &state).await;
    assert_eq!(applied_version(&server).as_deref(), Some("1"));
    push_raw(
        &registry,
        &reference,
        media::ARTIFACT_TYPE,
        (media::ARTIFACT_TYPE, config_blob),
        vec![(media::LAYER, evil_layer)],
        BTreeMap::from([("tampered".to_string(), "yes".to_string())]),
    )
    .await
    .unwrap();
    reconcile(&k, &config, &state).await;
    assert_eq!(applied_version(&server).as_deref(), Some("1"));
    assert_eq!(metric(&state, "kiln_source_up"), "0");
}

#[tokio::test]
async fn apply_takes_a_reference_pinned_by_digest() {
    let Some(registry_server) = RegistryServer::start_or_skip(None) else {
        return;
    };
    let server = double().await;
    let k = kube(&server);
    let tmp = tempfile::tempdir().unwrap();
    let registry = client(&registry_server);
    let reference = registry_server.reference("fleet/shop:prod");
    let pushed = push(
        &registry,
        &shop(tmp.path(), "7"),
        &reference,
        &PushMeta::default(),
    )
    .await
    .unwrap();
    let source = BundleSource::parse(&reference.pinned(&pushed.digest)).unwrap();
    let puller = Puller::new(registry, None).unwrap();
    let bundle = source.open(Some(&puller)).await.unwrap();
    kiln_applier::apply(&k, &bundle, &common::opts())
        .await
        .unwrap();
    assert_eq!(applied_version(&server).as_deref(), Some("7"));
}
