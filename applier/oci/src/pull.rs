//! Pulling a bundle artifact: tag to manifest digest, artifact type check, blobs checked against
//! their sha256, then the bundle inside verified (every blake3 digest, and the bundle digest the
//! config names) before anyone gets it. Verified bundles are kept by manifest digest, so an
//! unchanged tag costs one request and a re-verification of the local copy.

use crate::error::OciError;
use crate::media;
use crate::reference::BundleRef;
use crate::registry::{Registry, auth_for, classify};
use kiln_bundle::{Bundle, Digest};
use oci_client::manifest::{OciDescriptor, OciImageManifest};
use sha2::Digest as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Largest config blob accepted.
const MAX_CONFIG: i64 = 1 << 20;
/// Largest layer accepted, compressed and uncompressed.
const MAX_LAYER: u64 = 2 << 30;

/// Manifest types asked for; anything but an OCI image manifest is then refused by type.
const ACCEPT: &[&str] = &[
    media::MANIFEST,
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// A pulled and verified bundle.
#[derive(Debug, Clone)]
pub struct Pulled {
    /// The reference as given, pinned to the manifest digest.
    pub reference: BundleRef,
    /// `sha256:…` of the manifest.
    pub manifest_digest: String,
    /// The verified bundle; its path is the cached tar.
    pub bundle: Bundle,
    /// Whether the bundle came from the local cache (no blob was downloaded).
    pub cached: bool,
}

/// Pulls bundles into a cache directory.
#[derive(Debug, Clone)]
pub struct Puller {
    registry: Registry,
    cache: PathBuf,
    /// Keeps a temporary cache alive as long as the puller.
    _temporary: Option<Arc<tempfile::TempDir>>,
}

impl Puller {
    /// Caches in `cache`, or in a temporary directory removed with the puller when `None`.
    pub fn new(registry: Registry, cache: Option<PathBuf>) -> Result<Puller, OciError> {
        let (cache, temporary) = match cache {
            Some(dir) => (dir, None),
            None => {
                let tmp = tempfile::Builder::new()
                    .prefix("kiln-bundles-")
                    .tempdir()
                    .map_err(|source| OciError::Io {
                        message: "cannot create a temporary bundle cache".into(),
                        source,
                    })?;
                (tmp.path().to_path_buf(), Some(Arc::new(tmp)))
            }
        };
        Ok(Puller {
            registry,
            cache,
            _temporary: temporary,
        })
    }

    /// `$KILN_CACHE_DIR/bundles`, else `bundles` in kiln's user cache directory.
    pub fn default_cache() -> Option<PathBuf> {
        std::env::var_os("KILN_CACHE_DIR")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| dirs::cache_dir().map(|d| d.join("kiln")))
            .map(|d| d.join("bundles"))
    }

    pub fn cache_dir(&self) -> &Path {
        &self.cache
    }

    /// The manifest digest `r` names now: its own digest, or the tag's (one HEAD request).
    pub async fn resolve(&self, r: &BundleRef) -> Result<String, OciError> {
        if let Some(d) = &r.digest {
            return Ok(d.clone());
        }
        let client = &self.registry.client;
        client
            .fetch_manifest_digest(&r.client_ref(), &auth_for(&r.registry))
            .await
            .map_err(|e| classify(r, e))
    }

    /// Resolves `r` and pulls what it names.
    pub async fn pull(&self, r: &BundleRef) -> Result<Pulled, OciError> {
        let digest = self.resolve(r).await?;
        self.pull_digest(r, &digest).await
    }

    /// Pulls manifest `digest` of `r`'s repository (from the cache when it is there and still
    /// verifies).
    pub async fn pull_digest(&self, r: &BundleRef, digest: &str) -> Result<Pulled, OciError> {
        let pinned = r.with_digest(digest);
        let entry = self.cache.join(digest.replace(':', "-"));
        if let Some(bundle) = open_cached(&entry) {
            return Ok(Pulled {
                reference: pinned,
                manifest_digest: digest.to_string(),
                bundle,
                cached: true,
            });
        }
        let (bundle_digest, tar) = self.download(&pinned, digest).await?;
        let path = entry.join(TAR);
        let bundle = Bundle::from_tar_bytes(&path, &tar, Some(bundle_digest)).map_err(|e| {
            OciError::Unverified {
                reference: pinned.to_string(),
                source: e,
            }
        })?;
        store(&self.cache, &entry, &tar, bundle_digest)?;
        Ok(Pulled {
            reference: pinned,
            manifest_digest: digest.to_string(),
            bundle,
            cached: false,
        })
    }

    /// Fetches and checks manifest, config and layer; returns the bundle digest the config
    /// names and the uncompressed tar.
    async fn download(
        &self,
        pinned: &BundleRef,
        digest: &str,
    ) -> Result<(Digest, Vec<u8>), OciError> {
        let client = &self.registry.client;
        let r = pinned.client_ref();
        let fail = |e| classify(pinned, e);
        let tampered = |what: String| OciError::Tampered {
            reference: pinned.to_string(),
            what,
        };
        let (bytes, _) = client
            .pull_manifest_raw(&r, &auth_for(&pinned.registry), ACCEPT)
            .await
            .map_err(fail)?;
        let actual = format!("sha256:{:x}", sha2::Sha256::digest(&bytes));
        if actual != digest {
            return Err(tampered(format!(
                "the manifest hashes to {actual}, not {digest}"
            )));
        }
        let manifest = check_manifest(pinned, &bytes)?;
        let config = pull_blob(self, pinned, &manifest.config, MAX_CONFIG as u64).await?;
        let bundle_digest = serde_json::from_slice::<serde_json::Value>(&config)
            .ok()
            .and_then(|c| c["digest"].as_str()?.parse::<Digest>().ok())
            .ok_or_else(|| tampered("the config names no bundle digest".into()))?;
        if let Some(noted) = manifest
            .annotations
            .as_ref()
            .and_then(|a| a.get(media::BUNDLE_DIGEST))
            && *noted != bundle_digest.to_string()
        {
            return Err(tampered(format!(
                "the manifest annotates bundle {noted} but the config names {bundle_digest}"
            )));
        }
        let layer = &manifest.layers[0];
        let gz = pull_blob(self, pinned, layer, MAX_LAYER).await?;
        let mut tar = Vec::with_capacity(gz.len() * 4);
        flate2::read::GzDecoder::new(&gz[..])
            .take(MAX_LAYER + 1)
            .read_to_end(&mut tar)
            .map_err(|e| tampered(format!("the layer is not gzip: {e}")))?;
        if tar.len() as u64 > MAX_LAYER {
            return Err(tampered(format!(
                "the layer unpacks to more than {MAX_LAYER} bytes"
            )));
        }
        Ok((bundle_digest, tar))
    }
}

/// The cached tar's file name inside an entry (beside it, `bundle.digest`).
const TAR: &str = "bundle.tar";
const DIGEST: &str = "bundle.digest";

/// A cache entry that still verifies against the bundle digest recorded with it.
fn open_cached(entry: &Path) -> Option<Bundle> {
    let expected: Digest = std::fs::read_to_string(entry.join(DIGEST))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    match Bundle::open_expecting(entry.join(TAR), expected) {
        Ok(b) => Some(b),
        Err(e) => {
            tracing::warn!(entry = %entry.display(), error = %e, "cached bundle no longer verifies; pulling again");
            let _ = std::fs::remove_dir_all(entry);
            None
        }
    }
}

/// Writes a cache entry atomically (a complete directory renamed into place).
fn store(cache: &Path, entry: &Path, tar: &[u8], digest: Digest) -> Result<(), OciError> {
    let io = |message: String| move |source| OciError::Io { message, source };
    std::fs::create_dir_all(cache).map_err(io(format!(
        "cannot create the bundle cache {}",
        cache.display()
    )))?;
    let tmp = tempfile::Builder::new()
        .prefix(".pull-")
        .tempdir_in(cache)
        .map_err(io(format!("cannot write to {}", cache.display())))?;
    std::fs::write(tmp.path().join(TAR), tar)
        .and_then(|_| std::fs::write(tmp.path().join(DIGEST), format!("{digest}\n")))
        .map_err(io(format!("cannot write to {}", cache.display())))?;
    match std::fs::rename(tmp.path(), entry) {
        Ok(()) => {
            let _ = tmp.keep();
            Ok(())
        }
        // Another pull stored the same manifest first; its entry is as good as ours.
        Err(_) if entry.join(TAR).is_file() => Ok(()),
        Err(e) => Err(io(format!("cannot write {}", entry.display()))(e)),
    }
}

/// Parses the manifest and refuses anything but a kiln bundle with one bundle layer.
fn check_manifest(r: &BundleRef, bytes: &[u8]) -> Result<OciImageManifest, OciError> {
    let wrong = |found: String| OciError::WrongArtifactType {
        reference: r.to_string(),
        found,
    };
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| wrong(format!("the manifest is not JSON ({e})")))?;
    let media_type = value["mediaType"].as_str().unwrap_or(media::MANIFEST);
    if media_type != media::MANIFEST {
        return Err(wrong(format!("the manifest is a {media_type}")));
    }
    let manifest: OciImageManifest = serde_json::from_value(value)
        .map_err(|e| wrong(format!("the manifest does not parse ({e})")))?;
    let artifact_type = manifest
        .artifact_type
        .clone()
        .unwrap_or_else(|| manifest.config.media_type.clone());
    if artifact_type != media::ARTIFACT_TYPE || manifest.config.media_type != media::ARTIFACT_TYPE {
        return Err(wrong(format!(
            "artifact type {artifact_type} with config {}",
            manifest.config.media_type
        )));
    }
    let types: Vec<&str> = manifest
        .layers
        .iter()
        .map(|l| l.media_type.as_str())
        .collect();
    if types != [media::LAYER] {
        return Err(wrong(format!(
            "it has layers [{}], not one {}",
            types.join(", "),
            media::LAYER
        )));
    }
    Ok(manifest)
}

/// Downloads a blob (checked against its sha256 by the client, and its size here).
async fn pull_blob(
    puller: &Puller,
    r: &BundleRef,
    descriptor: &OciDescriptor,
    max: u64,
) -> Result<Vec<u8>, OciError> {
    let tampered = |what: String| OciError::Tampered {
        reference: r.to_string(),
        what,
    };
    if descriptor.size < 0 || descriptor.size as u64 > max {
        return Err(tampered(format!(
            "blob {} declares {} bytes (at most {max} accepted)",
            descriptor.digest, descriptor.size
        )));
    }
    let mut out = Vec::with_capacity(descriptor.size as usize);
    puller
        .registry
        .client
        .pull_blob(&r.client_ref(), descriptor, &mut out)
        .await
        .map_err(|e| match e {
            oci_client::errors::OciDistributionError::DigestError(d) => tampered(format!(
                "blob {} does not match its digest ({d})",
                descriptor.digest
            )),
            other => classify(r, other),
        })?;
    if out.len() as u64 != descriptor.size as u64 {
        return Err(tampered(format!(
            "blob {} has {} bytes, the manifest says {}",
            descriptor.digest,
            out.len(),
            descriptor.size
        )));
    }
    Ok(out)
}
