//! The entry point: resolving declarations against the lock in one of four modes, and
//! fetching locked sources into the cache, concurrently and behind a blocking API.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use futures::StreamExt as _;

use crate::cache::Cache;
use crate::error::{ResolveError, SourceError};
use crate::lock::{Lock, LockEntry, Pin};
use crate::settings::{Settings, Stage};
use crate::spec::{SourceKind, SourceSpec};

/// How [`Sources::resolve`] may change the lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// `kiln lock` / a plain `kiln build`: keep entries that still match their declaration,
    /// resolve missing or changed ones, drop entries no longer declared.
    Lock,
    /// `--locked`: the lock must cover every declaration exactly; nothing is resolved, content
    /// missing from the cache is fetched by its pinned identity.
    Locked,
    /// `--offline`: like `Locked`, and the network is never used (everything must be cached).
    Offline,
    /// `kiln update [SOURCE…]`: resolve the named sources (all for `Which::All`) again to the
    /// newest match of their declaration; others behave as in `Lock`.
    Update(Which),
}

/// Which sources `kiln update` moves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Which {
    All,
    Only(Vec<String>),
}

/// One difference between the old and the new lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Added { name: String, to: Pin },
    Removed { name: String },
    Updated { name: String, from: Pin, to: Pin },
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Added { name, to } => write!(f, "added   {name} {}", to.short()),
            Change::Removed { name } => write!(f, "removed {name}"),
            Change::Updated { name, from, to } => {
                write!(f, "updated {name} {} -> {}", from.short(), to.short())
            }
        }
    }
}

/// What a resolution produced.
#[derive(Debug, Clone)]
pub struct Resolution {
    /// The lock to use (and, unless `Locked`/`Offline`, to write).
    pub lock: Lock,
    /// Differences from the lock passed in, sorted by name.
    pub changes: Vec<Change>,
    /// Verified content directory of every source, by name.
    pub paths: BTreeMap<String, PathBuf>,
}

/// The sources engine: a cache plus fetch settings.
#[derive(Debug, Clone)]
pub struct Sources {
    cache: Cache,
    settings: Settings,
}

struct Clients {
    http: reqwest::Client,
    oci: oci_client::Client,
}

impl Sources {
    pub fn new(cache: Cache, settings: Settings) -> Self {
        Sources { cache, settings }
    }

    /// The same engine reporting progress to `progress` (see [`crate::FetchProgress`]).
    pub fn with_progress(mut self, progress: crate::settings::Progress) -> Self {
        self.settings.progress = Some(progress);
        self
    }

    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Resolves `specs` against `lock` as `mode` allows, fetching (and verifying) the content
    /// of every source. All failing sources are reported together.
    pub fn resolve(
        &self,
        specs: &[SourceSpec],
        lock: &Lock,
        mode: &Mode,
    ) -> Result<Resolution, ResolveError> {
        let errors: Vec<SourceError> = specs.iter().filter_map(|s| s.validate().err()).collect();
        if !errors.is_empty() {
            return Err(ResolveError { errors });
        }
        let mut seen = std::collections::BTreeSet::new();
        for s in specs {
            if !seen.insert(&s.name) {
                return Err(SourceError::InvalidSpec {
                    source_name: s.name.clone(),
                    reason: "declared twice".into(),
                    hint: "give every source a distinct name".into(),
                }
                .into());
            }
        }
        if let Mode::Update(Which::Only(names)) = mode {
            let unknown: Vec<SourceError> = names
                .iter()
                .filter(|n| !seen.contains(n))
                .map(|n| SourceError::InvalidSpec {
                    source_name: n.clone(),
                    reason: "no such source is declared".into(),
                    hint: format!(
                        "declared sources: {}",
                        specs
                            .iter()
                            .map(|s| s.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                })
                .collect();
            if !unknown.is_empty() {
                return Err(ResolveError { errors: unknown });
            }
        }
        if matches!(mode, Mode::Locked) {
            let extra: Vec<SourceError> = lock
                .sources
                .keys()
                .filter(|n| !seen.contains(n))
                .map(|n| SourceError::Unused {
                    source_name: n.clone(),
                })
                .collect();
            if !extra.is_empty() {
                return Err(ResolveError { errors: extra });
            }
        }
        let offline = matches!(mode, Mode::Offline);
        let net = Net::new(&self.settings, offline);
        let work: Vec<_> = specs
            .iter()
            .map(|spec| self.resolve_one(&net, spec, lock.sources.get(&spec.name), mode))
            .collect();
        let jobs = self.settings.jobs.max(1);
        let results = block_on(async {
            futures::stream::iter(work)
                .buffered(jobs)
                .collect::<Vec<_>>()
                .await
        });
        let mut new = Lock::default();
        let mut paths = BTreeMap::new();
        let mut errors = Vec::new();
        for (spec, r) in specs.iter().zip(results) {
            match r {
                Ok((entry, path)) => {
                    new.sources.insert(spec.name.clone(), entry);
                    paths.insert(spec.name.clone(), path);
                }
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(ResolveError { errors });
        }
        let changes = diff(lock, &new);
        Ok(Resolution {
            lock: new,
            changes,
            paths,
        })
    }

    async fn resolve_one(
        &self,
        net: &Net<'_>,
        spec: &SourceSpec,
        old: Option<&LockEntry>,
        mode: &Mode,
    ) -> Result<(LockEntry, PathBuf), SourceError> {
        let name = &spec.name;
        let fresh = old.filter(|e| e.matches(spec));
        let force = match mode {
            Mode::Update(Which::All) => true,
            Mode::Update(Which::Only(names)) => names.contains(name),
            _ => false,
        };
        if let Some(entry) = fresh.filter(|_| !force) {
            let path = self.fetch_with(net, spec, entry).await?;
            self.settings.report(name, Stage::Ready);
            return Ok((entry.clone(), path));
        }
        match (mode, old) {
            (Mode::Locked | Mode::Offline, None) => {
                return Err(SourceError::NotLocked {
                    source_name: name.clone(),
                });
            }
            (Mode::Locked | Mode::Offline, Some(_)) => {
                return Err(SourceError::Stale {
                    source_name: name.clone(),
                    detail: "its declaration differs from the one recorded".into(),
                });
            }
            _ => {}
        }
        self.settings.report(name, Stage::Resolving);
        let pin = self.pin(&*net.clients(spec)?, spec).await?;
        // Same identity as before: keep the recorded content digest (and check it).
        let expected = old
            .filter(|e| e.pin == pin && e.matches(spec))
            .map(|e| e.content.clone());
        let kind = spec.redacted();
        let probe = LockEntry {
            spec: kind.clone(),
            pin: pin.clone(),
            content: expected.clone().unwrap_or_default(),
        };
        let (content, path) = self
            .materialize(net, spec, &probe, expected.as_deref())
            .await?;
        self.settings.report(name, Stage::Ready);
        Ok((
            LockEntry {
                spec: kind,
                pin,
                content,
            },
            path,
        ))
    }

    async fn pin(&self, clients: &Clients, spec: &SourceSpec) -> Result<Pin, SourceError> {
        let name = spec.name.clone();
        match &spec.kind {
            SourceKind::Git(g) => {
                let cache = self.cache.clone();
                let g = g.clone();
                let url = spec.display_url();
                let n = name.clone();
                let ca = self.settings.roots_for(spec);
                let commit = git_with_retries(&self.settings, &name, &url, move || {
                    crate::git::resolve(&cache, &n, &g, &ca)
                })
                .await?;
                Ok(Pin::Git { commit })
            }
            SourceKind::HelmRepo(h) => {
                crate::helm_repo::resolve(&clients.http, &self.settings, &name, h).await
            }
            SourceKind::Oci(o) => {
                let (tag, digest) =
                    crate::oci::resolve(&clients.oci, &self.settings, &name, o).await?;
                Ok(Pin::Oci { tag, digest })
            }
        }
    }

    async fn fetch_with(
        &self,
        net: &Net<'_>,
        declared: &SourceSpec,
        entry: &LockEntry,
    ) -> Result<PathBuf, SourceError> {
        let name = declared.name.as_str();
        if let Some(path) = self.cache.get(&entry.content)? {
            return Ok(path);
        }
        let offline = net.offline;
        // Offline, only Git can rebuild content: from the commits its cached repository holds.
        if offline && !matches!(entry.spec, SourceKind::Git(_)) {
            return Err(SourceError::NotCached {
                source_name: name.into(),
            });
        }
        let spec = SourceSpec {
            name: name.into(),
            kind: entry.spec.clone(),
            ca_file: declared.ca_file.clone(),
        };
        let (_, path) = self
            .materialize(net, &spec, entry, Some(&entry.content))
            .await?;
        Ok(path)
    }

    async fn materialize(
        &self,
        net: &Net<'_>,
        spec: &SourceSpec,
        entry: &LockEntry,
        expected: Option<&str>,
    ) -> Result<(String, PathBuf), SourceError> {
        let name = spec.name.clone();
        let offline = net.offline;
        self.settings.report(&name, Stage::Fetching);
        match (&spec.kind, &entry.pin) {
            (SourceKind::Git(g), Pin::Git { commit }) => {
                let cache = self.cache.clone();
                let g = g.clone();
                let commit = commit.clone();
                let expected = expected.map(String::from);
                let url = spec.display_url();
                let n = name.clone();
                let ca = self.settings.roots_for(spec);
                git_with_retries(&self.settings, &name, &url, move || {
                    crate::git::fetch(&cache, &n, &g, &commit, expected.as_deref(), offline, &ca)
                })
                .await
            }
            (SourceKind::HelmRepo(h), Pin::HelmRepo { url, digest, .. }) => {
                let clients = net.clients_for(spec)?;
                crate::helm_repo::fetch(
                    &clients.http,
                    &self.settings,
                    &self.cache,
                    &name,
                    h,
                    (url, digest),
                    expected,
                )
                .await
            }
            (SourceKind::Oci(o), Pin::Oci { digest, .. }) => {
                let clients = net.clients_for(spec)?;
                crate::oci::fetch(
                    &clients.oci,
                    &self.settings,
                    &self.cache,
                    &name,
                    o,
                    digest,
                    expected,
                )
                .await
            }
            _ => Err(SourceError::Stale {
                source_name: name,
                detail: "the pinned identity does not fit the kind of source".into(),
            }),
        }
    }

    /// The verified content directory of one locked source, fetched by its pinned identity if
    /// it is not cached (never with `offline`).
    pub fn fetch(
        &self,
        name: &str,
        entry: &LockEntry,
        offline: bool,
    ) -> Result<PathBuf, SourceError> {
        let net = Net::new(&self.settings, offline);
        let declared = SourceSpec {
            name: name.into(),
            kind: entry.spec.clone(),
            ca_file: None,
        };
        block_on(self.fetch_with(&net, &declared, entry))
    }

    /// Pushes a directory as a Flux-compatible OCI artifact; see [`crate::oci::push_artifact_async`].
    pub fn push_artifact(
        &self,
        dir: &std::path::Path,
        target: &str,
        annotations: BTreeMap<String, String>,
    ) -> Result<String, SourceError> {
        block_on(crate::oci::push_artifact_async(
            &self.settings,
            dir,
            target,
            annotations,
        ))
    }
}

/// Network clients, built on first use (a fully cached resolution never builds them), one set
/// per distinct `ca-file`.
struct Net<'a> {
    settings: &'a Settings,
    offline: bool,
    clients: std::sync::Mutex<HashMap<Option<PathBuf>, Arc<Clients>>>,
}

impl<'a> Net<'a> {
    fn new(settings: &'a Settings, offline: bool) -> Self {
        Net {
            settings,
            offline,
            clients: Default::default(),
        }
    }

    fn clients(&self, spec: &SourceSpec) -> Result<Arc<Clients>, SourceError> {
        let mut built = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = built.get(&spec.ca_file) {
            return Ok(c.clone());
        }
        let settings = Settings {
            ca_certificates: self.settings.roots_for(spec),
            ..self.settings.clone()
        };
        let clients = crate::http::client(&settings)
            .and_then(|http| Ok((http, crate::oci::client(&settings)?)))
            .map(|(http, oci)| Arc::new(Clients { http, oci }))
            .map_err(|reason| SourceError::InvalidSpec {
                source_name: spec.name.clone(),
                reason,
                hint: match &spec.ca_file {
                    Some(_) => "`ca-file=` names a readable PEM file of CA certificates".into(),
                    None => {
                        "KILN_CA_CERTIFICATES names readable PEM files of CA certificates".into()
                    }
                },
            })?;
        built.insert(spec.ca_file.clone(), clients.clone());
        Ok(clients)
    }

    /// The clients, unless offline (then the source is reported as not cached).
    fn clients_for(&self, spec: &SourceSpec) -> Result<Arc<Clients>, SourceError> {
        if self.offline {
            return Err(SourceError::NotCached {
                source_name: spec.name.clone(),
            });
        }
        self.clients(spec)
    }
}

/// The changes from `old` to `new`.
pub fn diff(old: &Lock, new: &Lock) -> Vec<Change> {
    let mut out = Vec::new();
    for (name, e) in &new.sources {
        match old.sources.get(name) {
            None => out.push(Change::Added {
                name: name.clone(),
                to: e.pin.clone(),
            }),
            Some(o) if o.pin != e.pin || o.content != e.content || o.spec != e.spec => {
                out.push(Change::Updated {
                    name: name.clone(),
                    from: o.pin.clone(),
                    to: e.pin.clone(),
                })
            }
            Some(_) => {}
        }
    }
    for name in old.sources.keys() {
        if !new.sources.contains_key(name) {
            out.push(Change::Removed { name: name.clone() });
        }
    }
    out.sort_by(|a, b| change_name(a).cmp(change_name(b)));
    out
}

fn change_name(c: &Change) -> &str {
    match c {
        Change::Added { name, .. } | Change::Removed { name } | Change::Updated { name, .. } => {
            name
        }
    }
}

/// Runs a Git operation with [`on_thread`], retrying it with backoff while the server cannot be
/// reached (connection refused or reset).
async fn git_with_retries<T: Send + 'static>(
    settings: &Settings,
    source_name: &str,
    url: &str,
    work: impl Fn() -> Result<T, SourceError> + Send + Sync + 'static,
) -> Result<T, SourceError> {
    let work = std::sync::Arc::new(work);
    crate::http::with_retries(settings, |_| {
        let work = work.clone();
        async move {
            match on_thread(settings.git_timeout, source_name, url, move || work()).await {
                Ok(v) => crate::http::Attempt::Done(v),
                Err(e @ SourceError::Unreachable { .. }) => crate::http::Attempt::Transient(e),
                Err(e) => crate::http::Attempt::Fatal(e),
            }
        }
    })
    .await
}

/// Runs blocking work (gitoxide) on its own thread with a deadline. A thread that overruns is
/// abandoned rather than joined, so a hanging server cannot hang the build.
async fn on_thread<T: Send + 'static>(
    timeout: std::time::Duration,
    source_name: &str,
    url: &str,
    work: impl FnOnce() -> Result<T, SourceError> + Send + 'static,
) -> Result<T, SourceError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = tx.send(work());
    });
    match tokio::time::timeout(timeout, rx).await {
        Ok(Ok(r)) => r,
        Ok(Err(_)) => Err(SourceError::Git {
            source_name: source_name.into(),
            url: url.into(),
            detail: "the fetch thread stopped unexpectedly".into(),
            hint: "this is a bug in kiln; please report it".into(),
        }),
        Err(_) => Err(SourceError::Timeout {
            source_name: source_name.into(),
            url: url.into(),
            after: timeout,
        }),
    }
}

/// Runs a future to completion on a private single-threaded runtime (on a helper thread when
/// the caller is itself inside a tokio runtime, where blocking in place is not allowed).
fn block_on<F>(f: F) -> F::Output
where
    F: Future + Send,
    F::Output: Send,
{
    let run = move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime can be built")
            .block_on(f)
    };
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|s| match s.spawn(run).join() {
            Ok(v) => v,
            Err(panic) => std::panic::resume_unwind(panic),
        })
    } else {
        run()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usable_from_inside_an_async_runtime() {
        let dir = tempfile::tempdir().unwrap();
        let sources = Sources::new(Cache::open(dir.path()).unwrap(), Settings::default());
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let r = rt.block_on(async { sources.resolve(&[], &Lock::default(), &Mode::Offline) });
        assert!(r.unwrap().changes.is_empty());
    }
}
