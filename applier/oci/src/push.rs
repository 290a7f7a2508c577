//! `kiln push`: a verified bundle to a registry, as one gzipped canonical tar layer under kiln's
//! artifact type, with the bundle digest in the config and the annotations.

use crate::error::OciError;
use crate::media;
use crate::reference::BundleRef;
use crate::registry::{Registry, auth_for, classify};
use kiln_bundle::{BuiltBundle, Digest};
use oci_client::client::{Config, ImageLayer};
use oci_client::manifest::OciImageManifest;
use sha2::Digest as _;
use std::collections::BTreeMap;
use std::io::Write;

/// What the artifact says about where the bundle came from (all optional).
#[derive(Debug, Clone, Default)]
pub struct PushMeta {
    /// `org.opencontainers.image.source`: the project's repository URL.
    pub source: Option<String>,
    /// `org.opencontainers.image.revision`: the project's revision.
    pub revision: Option<String>,
    /// `org.opencontainers.image.created` (RFC 3339); absent keeps the manifest reproducible.
    pub created: Option<String>,
}

/// A pushed artifact.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// The target reference pinned to the manifest digest.
    pub reference: BundleRef,
    /// `sha256:…` of the manifest.
    pub digest: String,
    pub bundle_digest: Digest,
    /// Bytes of the (compressed) layer.
    pub layer_size: u64,
}

/// The config blob: what a reader checks the bundle inside against.
pub(crate) fn config_bytes(bundle: &BuiltBundle) -> Vec<u8> {
    let m = &bundle.manifest;
    let config = serde_json::json!({
        "format": kiln_bundle::FORMAT,
        "digest": bundle.digest.to_string(),
        "project": m.project,
        "target": m.target,
        "compiler": m.compiler,
    });
    serde_json::to_vec(&config).unwrap_or_default()
}

/// The layer: the canonical tar, gzipped (fixed header: no name, mtime 0).
pub(crate) fn layer_bytes(bundle: &BuiltBundle) -> Result<Vec<u8>, OciError> {
    let tar = kiln_bundle::tar_bytes(bundle).map_err(|source| OciError::Bundle { source })?;
    gzip(&tar)
}

pub(crate) fn gzip(bytes: &[u8]) -> Result<Vec<u8>, OciError> {
    let io = |source| OciError::Io {
        message: "cannot compress the bundle".into(),
        source,
    };
    let mut gz = flate2::GzBuilder::new().mtime(0).write(
        Vec::with_capacity(bytes.len() / 4),
        flate2::Compression::default(),
    );
    gz.write_all(bytes).map_err(io)?;
    gz.finish().map_err(io)
}

fn annotations(bundle: &BuiltBundle, meta: &PushMeta) -> BTreeMap<String, String> {
    let m = &bundle.manifest;
    let mut a = BTreeMap::from([
        (media::BUNDLE_DIGEST.to_string(), bundle.digest.to_string()),
        (media::BUNDLE_PROJECT.to_string(), m.project.clone()),
        (media::BUNDLE_TARGET.to_string(), m.target.clone()),
    ]);
    for (key, value) in [
        (media::SOURCE, &meta.source),
        (media::REVISION, &meta.revision),
        (media::CREATED, &meta.created),
    ] {
        if let Some(v) = value {
            a.insert(key.to_string(), v.clone());
        }
    }
    a
}

/// Pushes `bundle` (already verified, e.g. by [`kiln_bundle::read_verified`]) to `target`,
/// which must name a tag. Blobs the registry already has are not uploaded again.
pub async fn push(
    registry: &Registry,
    bundle: &BuiltBundle,
    target: &BundleRef,
    meta: &PushMeta,
) -> Result<Pushed, OciError> {
    if target.tag.is_none() || target.digest.is_some() {
        return Err(OciError::InvalidReference {
            input: target.to_string(),
            reason: "a push names a tag (oci://REGISTRY/REPOSITORY:TAG) and no digest".into(),
        });
    }
    let layer = ImageLayer::new(
        layer_bytes(bundle)?,
        media::LAYER.into(),
        Some(BTreeMap::from([(
            media::TITLE.to_string(),
            media::LAYER_TITLE.to_string(),
        )])),
    );
    let config = Config::new(config_bytes(bundle), media::ARTIFACT_TYPE.into(), None);
    let layer_size = layer.data.len() as u64;
    let digest = push_parts(
        registry,
        target,
        media::ARTIFACT_TYPE,
        config,
        vec![layer],
        annotations(bundle, meta),
    )
    .await?;
    Ok(Pushed {
        reference: target.with_digest(&digest),
        digest,
        bundle_digest: bundle.digest,
        layer_size,
    })
}

/// Uploads the blobs the registry lacks, then the manifest; returns the manifest digest.
pub(crate) async fn push_parts(
    registry: &Registry,
    target: &BundleRef,
    artifact_type: &str,
    config: Config,
    layers: Vec<ImageLayer>,
    annotations: BTreeMap<String, String>,
) -> Result<String, OciError> {
    let client = &registry.client;
    let r = target.client_ref();
    let fail = |e| classify(target, e);
    client
        .store_auth_if_needed(&target.registry, &auth_for(&target.registry))
        .await;
    let mut manifest = OciImageManifest::build(&layers, &config, Some(annotations));
    manifest.media_type = Some(media::MANIFEST.to_string());
    manifest.artifact_type = Some(artifact_type.to_string());
    let blobs = layers
        .into_iter()
        .map(|l| l.data)
        .zip(manifest.layers.iter().map(|d| d.digest.clone()))
        .chain(std::iter::once((
            config.data,
            manifest.config.digest.clone(),
        )));
    for (data, digest) in blobs {
        if !client.blob_exists(&r, &digest).await.map_err(fail)? {
            client.push_blob(&r, data, &digest).await.map_err(fail)?;
        }
    }
    let body = serde_json::to_vec(&manifest).map_err(|e| OciError::Registry {
        reference: target.to_string(),
        detail: format!("cannot encode the manifest: {e}"),
    })?;
    let digest = format!("sha256:{:x}", sha2::Sha256::digest(&body));
    client
        .push_manifest_raw(&r, body, http::HeaderValue::from_static(media::MANIFEST))
        .await
        .map_err(fail)?;
    Ok(digest)
}
