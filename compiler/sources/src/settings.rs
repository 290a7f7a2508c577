//! Knobs of fetching: concurrency, timeouts, retries, TLS roots, plain-HTTP registries.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What happens to one source, reported to [`Settings::progress`] (for progress bars).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Asking the server which version/commit/digest the declaration selects.
    Resolving,
    /// Downloading the content of a pinned identity.
    Fetching,
    /// The content is in the cache and verified.
    Ready,
}

/// The function behind [`Progress`].
pub type ProgressFn = dyn Fn(&str, Stage) + Send + Sync;

/// A callback receiving `(source name, stage)`; called from the fetching threads.
#[derive(Clone)]
pub struct Progress(pub Arc<ProgressFn>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress(..)")
    }
}

/// How sources are fetched. `Settings::default()` suits interactive and CI use.
#[derive(Debug, Clone)]
pub struct Settings {
    /// At most this many sources are fetched at once.
    pub jobs: usize,
    /// Connecting to a server may take at most this long.
    pub connect_timeout: Duration,
    /// One HTTP request (headers and body) may take at most this long.
    pub request_timeout: Duration,
    /// One Git operation (listing refs, or fetching a pack) may take at most this long.
    pub git_timeout: Duration,
    /// Transient failures (connection reset, HTTP 5xx, 429) are retried this many times.
    pub retries: u32,
    /// Delay before the first retry; doubled for each further one.
    pub backoff: Duration,
    /// Extra PEM root certificates trusted for HTTPS (custom CAs).
    pub ca_certificates: Vec<PathBuf>,
    /// Registries (`host[:port]`) spoken to over plain HTTP.
    pub insecure_registries: Vec<String>,
    /// Receives progress events, if set.
    pub progress: Option<Progress>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            jobs: 8,
            connect_timeout: Duration::from_secs(15),
            request_timeout: Duration::from_secs(120),
            git_timeout: Duration::from_secs(600),
            retries: 3,
            backoff: Duration::from_millis(300),
            ca_certificates: Vec::new(),
            insecure_registries: Vec::new(),
            progress: None,
        }
    }
}

impl Settings {
    /// The extra roots trusted for `spec`: the global ones and the source's `ca-file`.
    pub(crate) fn roots_for(&self, spec: &crate::spec::SourceSpec) -> Vec<PathBuf> {
        let mut roots = self.ca_certificates.clone();
        roots.extend(spec.ca_file.clone());
        roots
    }

    pub(crate) fn report(&self, source_name: &str, stage: Stage) {
        if let Some(p) = &self.progress {
            (p.0)(source_name, stage);
        }
    }

    /// Reads the environment: `KILN_INSECURE_REGISTRIES` (comma separated `host[:port]`) and
    /// `KILN_CA_CERTIFICATES` (paths separated like `PATH`), on top of the defaults — read as
    /// kiln-oci reads them for `kiln push` and the agent.
    pub fn from_env() -> Self {
        let registry = kiln_oci::RegistryOptions::from_env();
        Settings {
            insecure_registries: registry.insecure,
            ca_certificates: registry.ca_files,
            ..Settings::default()
        }
    }
}
