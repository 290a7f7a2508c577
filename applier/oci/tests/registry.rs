//! Push and pull against a real registry (Debian's `docker-registry`): round trips by tag and
//! digest, the cache, and every way an artifact can be refused before anyone applies it.

use kiln_bundle::{BuiltBundle, BundleSpec, ComponentSpec, Provenance};
use kiln_oci::testing::{RegistryServer, bundle_parts, push_raw};
use kiln_oci::{BundleRef, OciError, Puller, PushMeta, Registry, RegistryOptions, media, push};
use serde_json::json;
use std::collections::BTreeMap;

fn built(replicas: u32) -> BuiltBundle {
    let objects = vec![
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "web", "namespace": "shop"},
               "data": {"replicas": replicas.to_string()}}),
    ];
    kiln_bundle::build(&BundleSpec {
        project: "shop".into(),
        target: "prod".into(),
        compiler_version: "kiln test".into(),
        components: vec![ComponentSpec {
            name: "web".into(),
            depends_on: vec![],
            tenancy: Default::default(),
            objects: objects
                .into_iter()
                .enumerate()
                .map(|(i, o)| {
                    let p = Provenance {
                        component: "web".into(),
                        source: None,
                        file: "web.yaml".into(),
                        line: i + 1,
                        producer: "manifests".into(),
                    };
                    (o, p)
                })
                .collect(),
        }],
        waves: vec![vec!["web".into()]],
        lock: None,
    })
    .unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn push_then_pull_by_tag_and_by_digest() {
    let Some(server) = RegistryServer::start_or_skip(None) else {
        return;
    };
    let registry = server.client(RegistryOptions::default());
    let bundle = built(2);
    let target = server.reference("fleet/shop:prod");
    let meta = PushMeta {
        source: Some("https://git.example/acme/shop.git".into()),
        revision: Some("main@sha1:0123".into()),
        created: Some("2026-11-25T00:00:00Z".into()),
    };
    let pushed = push(&registry, &bundle, &target, &meta).await.unwrap();
    assert!(pushed.digest.starts_with("sha256:"));
    assert_eq!(pushed.bundle_digest, bundle.digest);
    // Same bundle and metadata: the same manifest (pushes are reproducible).
    let again = push(&registry, &bundle, &target, &meta).await.unwrap();
    assert_eq!(again.digest, pushed.digest);

    let cache = tempfile::tempdir().unwrap();
    let puller = Puller::new(registry.clone(), Some(cache.path().to_path_buf())).unwrap();
    let pulled = puller.pull(&target).await.unwrap();
    assert_eq!(pulled.manifest_digest, pushed.digest);
    assert_eq!(pulled.bundle.digest(), bundle.digest);
    assert!(!pulled.cached);
    assert_eq!(pulled.bundle.objects().count(), 2);
    assert!(pulled.bundle.path().starts_with(cache.path()));

    let by_digest = BundleRef::parse(&pushed.reference.pinned(&pushed.digest)).unwrap();
    let again = puller.pull(&by_digest).await.unwrap();
    assert!(
        again.cached,
        "a second pull of one manifest comes from the cache"
    );
    assert_eq!(again.bundle.digest(), bundle.digest);

    // A fresh cache pulls by digest over the network.
    let fresh = Puller::new(registry, None).unwrap();
    let p = fresh.pull(&by_digest).await.unwrap();
    assert!(!p.cached);
    assert_eq!(p.bundle.digest(), bundle.digest);
}

#[tokio::test(flavor = "current_thread")]
async fn a_moved_tag_resolves_to_the_new_manifest() {
    let Some(server) = RegistryServer::start_or_skip(None) else {
        return;
    };
    let registry = server.client(RegistryOptions::default());
    let target = server.reference("fleet/shop:prod");
    let first = push(&registry, &built(1), &target, &PushMeta::default())
        .await
        .unwrap();
    let puller = Puller::new(registry.clone(), None).unwrap();
    assert_eq!(puller.resolve(&target).await.unwrap(), first.digest);
    let second = push(&registry, &built(3), &target, &PushMeta::default())
        .await
        .unwrap();
    assert_ne!(first.digest, second.digest);
    assert_eq!(puller.resolve(&target).await.unwrap(), second.digest);
    let pulled = puller.pull(&target).await.unwrap();
    assert_eq!(pulled.bundle.digest(), built(3).digest);
}

#[tokio::test(flavor = "current_thread")]
async fn a_blob_changed_in_the_registry_is_refused() {
    let Some(server) = RegistryServer::start_or_skip(None) else {
        return;
    };
    let registry = server.client(RegistryOptions::default());
    let target = server.reference("fleet/shop:prod");
    let bundle = built(2);
    push(&registry, &bundle, &target, &PushMeta::default())
        .await
        .unwrap();
    let (_, layer) = bundle_parts(&bundle).unwrap();
    let layer_digest = format!("sha256:{}", sha256_hex(&layer));
    let path = server.blob_path(&layer_digest);
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 9;
    bytes[last] ^= 0xff;
    std::fs::write(&path, bytes).unwrap();

    let puller = Puller::new(registry, None).unwrap();
    let e = puller.pull(&target).await.unwrap_err();
    assert!(
        matches!(&e, OciError::Tampered { what, .. } if what.contains(&layer_digest)),
        "{e:?}"
    );
    assert_eq!(e.exit_code(), 2);
    assert!(
        e.to_string().contains("oci://127.0.0.1:"),
        "names the reference: {e}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_consistent_artifact_with_a_modified_bundle_is_refused() {
    let Some(server) = RegistryServer::start_or_skip(None) else {
        return;
    };
    let registry = server.client(RegistryOptions::default());
    let target = server.reference("fleet/shop:evil");
    let mut bundle = built(2);
    let (config, _) = bundle_parts(&bundle).unwrap();
    // Change an object file but keep the manifest: every sha256 of the upload is right, the
    // blake3 of the object file is not.
    let file = bundle
        .files
        .keys()
        .find(|k| k.contains("configmap"))
        .unwrap()
        .clone();
    let text = String::from_utf8(bundle.files[&file].clone()).unwrap();
    bundle
        .files
        .insert(file, text.replace("\"2\"", "\"200\"").into_bytes());
    let (_, layer) = bundle_parts(&bundle).unwrap();
    push_raw(
        &registry,
        &target,
        media::ARTIFACT_TYPE,
        (media::ARTIFACT_TYPE, config),
        vec![(media::LAYER, layer)],
        BTreeMap::new(),
    )
    .await
    .unwrap();
    let puller = Puller::new(registry, None).unwrap();
    let e = puller.pull(&target).await.unwrap_err();
    let OciError::Unverified { source: inner, .. } = &e else {
        panic!("expected a bundle verification failure, got {e:?}")
    };
    assert!(format!("{inner:?}").contains("configmap"), "{inner:?}");
    assert!(
        std::fs::read_dir(puller.cache_dir()).map_or(true, |d| d.count() == 0),
        "nothing unverified is cached"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn other_artifact_types_are_refused() {
    let Some(server) = RegistryServer::start_or_skip(None) else {
        return;
    };
    let registry = server.client(RegistryOptions::default());
    let flux = server.reference("fleet/flux:v1");
    push_raw(
        &registry,
        &flux,
        "application/vnd.cncf.flux.config.v1+json",
        ("application/vnd.cncf.flux.config.v1+json", b"{}".to_vec()),
        vec![(
            "application/vnd.cncf.flux.content.v1.tar+gzip",
            b"not a bundle".to_vec(),
        )],
        BTreeMap::new(),
    )
    .await
    .unwrap();
    let extra = server.reference("fleet/extra:v1");
    let bundle = built(1);
    let (config, layer) = bundle_parts(&bundle).unwrap();
    push_raw(
        &registry,
        &extra,
        media::ARTIFACT_TYPE,
        (media::ARTIFACT_TYPE, config),
        vec![
            (media::LAYER, layer),
            ("application/octet-stream", b"x".to_vec()),
        ],
        BTreeMap::new(),
    )
    .await
    .unwrap();
    let puller = Puller::new(registry, None).unwrap();
    for (r, says) in [(flux, "flux.config"), (extra, "octet-stream")] {
        let e = puller.pull(&r).await.unwrap_err();
        assert!(
            matches!(&e, OciError::WrongArtifactType { found, .. } if found.contains(says)),
            "{e:?}"
        );
        assert_eq!(e.exit_code(), 2);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn missing_tags_and_unreachable_registries_are_clear() {
    let Some(server) = RegistryServer::start_or_skip(None) else {
        return;
    };
    let registry = server.client(RegistryOptions::default());
    let puller = Puller::new(registry, None).unwrap();
    let e = puller
        .pull(&server.reference("fleet/none:v1"))
        .await
        .unwrap_err();
    assert!(matches!(e, OciError::NotFound { .. }), "{e:?}");

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let host = format!("127.0.0.1:{port}");
    let down = Registry::new(RegistryOptions {
        insecure: vec![host.clone()],
        ..RegistryOptions::default()
    })
    .unwrap();
    let r = BundleRef::parse(&format!("oci://{host}/fleet/shop:prod")).unwrap();
    let e = Puller::new(down.clone(), None)
        .unwrap()
        .pull(&r)
        .await
        .unwrap_err();
    assert!(matches!(e, OciError::Unreachable { .. }), "{e:?}");
    assert!(e.is_transient());
    assert_eq!(e.exit_code(), 1);
    let e = push(&down, &built(1), &r, &PushMeta::default())
        .await
        .unwrap_err();
    assert!(matches!(e, OciError::Unreachable { .. }), "{e:?}");
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    format!("{:x}", sha2::Sha256::digest(bytes))
}
