//! A real registry for tests and benchmarks: Debian's `docker-registry` (CNCF distribution,
//! `$KILN_DOCKER_REGISTRY` to override) on a random loopback port with storage in a temporary
//! directory, optionally behind htpasswd basic auth; and ways to put hostile artifacts in it.

use crate::error::OciError;
use crate::reference::BundleRef;
use crate::registry::{Registry, RegistryOptions};
use oci_client::client::{Config, ImageLayer};
use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn binary() -> String {
    std::env::var("KILN_DOCKER_REGISTRY").unwrap_or_else(|_| "/usr/bin/docker-registry".into())
}

/// A running registry; stopped and deleted on drop.
pub struct RegistryServer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl RegistryServer {
    /// Starts a registry; with `user`, it asks for that user name and password.
    pub fn start(user: Option<(&str, &str)>) -> std::io::Result<RegistryServer> {
        let bin = binary();
        let dir = tempfile::tempdir()?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let storage = dir.path().join("storage");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  cache:\n    blobdescriptor: ''\nhttp:\n  addr: 127.0.0.1:{port}\n",
            storage.display()
        );
        if let Some((name, password)) = user {
            let hash = bcrypt::hash(password, 4).map_err(std::io::Error::other)?;
            let file = dir.path().join("htpasswd");
            std::fs::write(&file, format!("{name}:{hash}\n"))?;
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: kiln-test\n    path: {}\n",
                file.display()
            ));
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config)?;
        let child = Command::new(&bin)
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| std::io::Error::new(e.kind(), format!("cannot run {bin}: {e}")))?;
        let server = RegistryServer { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err(std::io::Error::other(
                    "the registry did not start listening",
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(server)
    }

    /// Whether the registry binary is installed (tests skip loudly without it).
    pub fn available() -> bool {
        Path::new(&binary()).is_file()
    }

    /// Starts a registry for a test or benchmark, or says on stderr why it is skipped: the
    /// registry binary is not installed. Panics if an installed registry fails to start.
    pub fn start_or_skip(user: Option<(&str, &str)>) -> Option<RegistryServer> {
        if !Self::available() {
            eprintln!(
                "SKIPPED: {} is not installed (apt-get install docker-registry)",
                binary()
            );
            return None;
        }
        Some(Self::start(user).expect("start docker-registry"))
    }

    /// A client speaking plain HTTP to this registry, with `options` otherwise.
    pub fn client(&self, options: RegistryOptions) -> Registry {
        Registry::new(RegistryOptions {
            insecure: vec![self.host()],
            ..options
        })
        .expect("a registry client")
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `oci://127.0.0.1:PORT/REPO:TAG`, parsed.
    pub fn reference(&self, repo_and_tag: &str) -> BundleRef {
        BundleRef::parse(&format!("oci://{}/{repo_and_tag}", self.host()))
            .expect("a valid test reference")
    }

    /// Where the registry keeps the blob `sha256:…` on disk (to tamper with it).
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.dir
            .path()
            .join("storage/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

impl Drop for RegistryServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Pushes an arbitrary artifact (any types, any blobs) and returns its manifest digest: for
/// tests of what readers refuse.
pub async fn push_raw(
    registry: &Registry,
    target: &BundleRef,
    artifact_type: &str,
    config: (&str, Vec<u8>),
    layers: Vec<(&str, Vec<u8>)>,
    annotations: BTreeMap<String, String>,
) -> Result<String, OciError> {
    let config = Config::new(config.1, config.0.to_string(), None);
    let layers = layers
        .into_iter()
        .map(|(media_type, data)| ImageLayer::new(data, media_type.to_string(), None))
        .collect();
    crate::push::push_parts(registry, target, artifact_type, config, layers, annotations).await
}

/// The config and gzipped layer `kiln push` would upload for `bundle`: tests change the
/// layer's files and push the rest unchanged.
pub fn bundle_parts(bundle: &kiln_bundle::BuiltBundle) -> Result<(Vec<u8>, Vec<u8>), OciError> {
    Ok((
        crate::push::config_bytes(bundle),
        crate::push::layer_bytes(bundle)?,
    ))
}
