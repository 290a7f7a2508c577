//! Remote sources in a build: turns the project's Git, Helm repository and OCI declarations into
//! `kiln-sources` specs, resolves them against `kiln.lock` (next to the project file) in the
//! mode the command asks for, and hands the verified content directories to the renderers.
//!
//! The lock is written atomically and only when it changed; `--locked` and `--offline` never
//! write it. The lock also goes into the bundle (as JSON), so the bundle digest pins the
//! sources it was built from.

use std::collections::BTreeMap;
use std::path::PathBuf;

use kiln_kustomize::{RemoteRefusal, RemoteResolver};
use kiln_sources::{
    Cache, FetchProgress, Lock, LockEntry, Mode, Pin, Resolution, Settings, SourceSpec, Sources,
    find_declared, undeclared_hint,
};
use std::io::IsTerminal as _;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceSpan};
use serde_json::{Value, json};

use crate::cli::Failure;
use crate::diag::Error;
use crate::model::{GitRef, OciRef, Project, SourceKind};

/// The lock file name, next to `kiln.kdl`.
pub const LOCK_FILE: &str = "kiln.lock";

/// The lock file of `project`.
pub fn lock_path(project: &Project) -> PathBuf {
    project.root.join(LOCK_FILE)
}

/// The `kiln-sources` declaration of every remote source of `project`, in declaration order.
pub fn specs(project: &Project) -> Result<Vec<SourceSpec>, Error> {
    let mut out = Vec::new();
    for source in project.sources.values() {
        let mut attrs: Vec<(&str, &str)> = Vec::new();
        let ca_file;
        match &source.kind {
            SourceKind::Path { .. } => continue,
            SourceKind::Git {
                url,
                reference,
                path,
                ca_file: ca,
            } => {
                attrs.push(("git", &url.value));
                match reference {
                    Some(GitRef::Ref(r)) => attrs.push(("ref", &r.value)),
                    Some(GitRef::Semver(s)) => attrs.push(("semver", &s.value)),
                    None => {}
                }
                if let Some(p) = path {
                    attrs.push(("path", &p.value));
                }
                ca_file = ca.as_ref();
            }
            SourceKind::HelmRepo {
                url,
                chart,
                version,
                ca_file: ca,
            } => {
                attrs.push(("helm-repo", &url.value));
                attrs.push(("chart", &chart.value));
                if let Some(v) = version {
                    attrs.push(("version", &v.value));
                }
                ca_file = ca.as_ref();
            }
            SourceKind::Oci {
                url,
                reference,
                ca_file: ca,
            } => {
                attrs.push(("oci", &url.value));
                ca_file = ca.as_ref();
                match reference {
                    Some(OciRef::Tag(t)) => attrs.push(("tag", &t.value)),
                    Some(OciRef::Digest(d)) => attrs.push(("digest", &d.value)),
                    Some(OciRef::Version(v)) => attrs.push(("version", &v.value)),
                    None => {}
                }
            }
        }
        let spec = SourceSpec::from_attributes(&source.name.value, attrs).map_err(|e| {
            let help = e.help().map(|h| h.to_string());
            let err = Error::input("kiln::source::invalid", e.to_string()).at(
                &project.file,
                source.span,
                "declared here",
            );
            match help {
                Some(h) => err.help(h),
                None => err,
            }
        })?;
        let spec = match ca_file {
            Some(ca) => spec.with_ca_file(project.root.join(&ca.value)),
            None => spec,
        };
        out.push(spec);
    }
    Ok(out)
}

/// Where the sources cache lives: `--cache-dir`/`KILN_CACHE_DIR`, else the user cache dir.
pub fn open_engine(cache_dir: Option<PathBuf>) -> Result<Sources, Failure> {
    let root = cache_dir.unwrap_or_else(Cache::default_root);
    let cache = Cache::open(root).map_err(|e| Failure::Report(miette::Report::new(e), 1))?;
    Ok(Sources::new(cache, Settings::from_env()))
}

/// Reads `kiln.lock` (a missing file is an empty lock).
pub fn read_lock(project: &Project) -> Result<Lock, Failure> {
    Lock::read(&lock_path(project)).map_err(|r| Failure::Report(r, 2))
}

/// Resolves the remote sources of `project` in `mode` and writes the lock when the mode may
/// change it and it did. Projects without remote sources touch neither the cache nor the lock.
/// Unless `quiet`, a bar shows progress on a terminal and one summary line ends on stderr.
pub fn resolve(
    project: &Project,
    engine: impl FnOnce() -> Result<Sources, Failure>,
    mode: &Mode,
    quiet: bool,
) -> Result<Resolution, Failure> {
    let specs = specs(project)?;
    let old = read_lock(project)?;
    if specs.is_empty() && old.sources.is_empty() {
        return Ok(Resolution {
            lock: old,
            changes: Vec::new(),
            paths: BTreeMap::new(),
        });
    }
    let progress = FetchProgress::new(specs.len(), !quiet && std::io::stderr().is_terminal());
    let resolved = engine()?
        .with_progress(progress.hook())
        .resolve(&specs, &old, mode);
    let summary = progress.finish();
    let resolution = resolved.map_err(|e| report(project, e))?;
    if !quiet && !specs.is_empty() {
        eprintln!("{summary}");
    }
    let writes = matches!(mode, Mode::Lock | Mode::Update(_));
    if writes && resolution.lock != old {
        let path = lock_path(project);
        resolution.lock.write(&path).map_err(|e| {
            Failure::Kiln(
                Error::failure(
                    "kiln::lock::write",
                    format!("cannot write `{}`", path.display()),
                )
                .help("check that the project directory is writable")
                .caused_by(e),
            )
        })?;
    }
    Ok(resolution)
}

/// The lock as recorded in bundles: per source, its identity and content digest. `None` when
/// the project has no remote sources, so such bundles are unchanged.
pub fn bundle_lock(lock: &Lock) -> Option<Value> {
    if lock.sources.is_empty() {
        return None;
    }
    let sources: serde_json::Map<String, Value> = lock
        .sources
        .iter()
        .map(|(name, entry)| (name.clone(), entry_json(entry)))
        .collect();
    Some(json!({ "sources": sources }))
}

fn entry_json(entry: &LockEntry) -> Value {
    let pin = match &entry.pin {
        Pin::Git { commit } => json!({ "git": { "commit": commit } }),
        Pin::HelmRepo {
            version,
            url,
            digest,
        } => json!({ "helm-repo": { "version": version, "url": url, "digest": digest } }),
        Pin::Oci { tag, digest } => json!({ "oci": { "tag": tag, "digest": digest } }),
    };
    json!({ "pin": pin, "content": entry.content })
}

/// Wraps a `kiln-sources` diagnostic, pointing each failure at the `source` node that declares
/// it (or the `kiln.lock` entry of an undeclared one). Problems the user fixes by editing the
/// project or the lock (or by going online once) exit 2; fetch failures exit 1.
fn report(project: &Project, e: kiln_sources::ResolveError) -> Failure {
    const INPUT: &[&str] = &[
        "kiln::lock::",
        "kiln::source::not_cached",
        "kiln::source::invalid",
        "kiln::source::no_match",
        "kiln::source::constraint",
        "kiln::source::not_found",
        "kiln::source::tls",
    ];
    let input = !e.errors.is_empty()
        && e.errors.iter().all(|s| {
            let code = s.code().map(|c| c.to_string()).unwrap_or_default();
            INPUT.iter().any(|p| code.starts_with(p))
        });
    let kdl = NamedSource::new(&project.file.name, project.file.text.clone());
    let lock_text: Option<Arc<str>> = std::fs::read_to_string(lock_path(project))
        .ok()
        .map(Into::into);
    let errors = e
        .errors
        .into_iter()
        .map(|error| {
            let name = error.source_name().unwrap_or_default().to_string();
            let at = if let Some(source) = project.sources.get(&name) {
                let label = match &error {
                    kiln_sources::SourceError::NotLocked { .. } => "not pinned in kiln.lock",
                    kiln_sources::SourceError::Stale { .. } => "differs from its kiln.lock entry",
                    kiln_sources::SourceError::NotCached { .. } => "not in the cache",
                    _ => "declared here",
                };
                Some((kdl.clone(), source.span, label))
            } else {
                lock_text.as_ref().and_then(|text| {
                    let span = lock_entry_span(text, &name)?;
                    let file = NamedSource::new(LOCK_FILE, text.clone());
                    Some((file, span, "pinned here, declared nowhere"))
                })
            };
            AtDeclaration { error, at }
        })
        .collect();
    Failure::Report(
        miette::Report::new(SourcesFailed { errors }),
        if input { 2 } else { 1 },
    )
}

/// The span of the `[source.NAME]` header of `kiln.lock`.
fn lock_entry_span(text: &str, name: &str) -> Option<SourceSpan> {
    [format!("[source.{name}]"), format!("[source.\"{name}\"]")]
        .iter()
        .find_map(|header| {
            text.find(header.as_str())
                .map(|at| SourceSpan::new(at.into(), header.len()))
        })
}

/// One failing source, with the place in `kiln.kdl` (or `kiln.lock`) it comes from.
#[derive(Debug)]
struct AtDeclaration {
    error: kiln_sources::SourceError,
    at: Option<(NamedSource<Arc<str>>, SourceSpan, &'static str)>,
}

impl std::fmt::Display for AtDeclaration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for AtDeclaration {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

impl Diagnostic for AtDeclaration {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.error.code()
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.error.help()
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.at
            .as_ref()
            .map(|(file, _, _)| file as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let (_, span, label) = self.at.as_ref()?;
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some(label.to_string()),
            *span,
        ))))
    }
}

/// Every failing source of one resolution.
#[derive(Debug)]
struct SourcesFailed {
    errors: Vec<AtDeclaration>,
}

impl std::fmt::Display for SourcesFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.errors.len() {
            1 => f.write_str("1 source failed"),
            n => write!(f, "{n} sources failed"),
        }
    }
}

impl std::error::Error for SourcesFailed {}

impl Diagnostic for SourcesFailed {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new("kiln::sources"))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(self.errors.iter().map(|e| e as &dyn Diagnostic)))
    }
}

/// The sources step of `kiln build`: resolves in the mode the flags ask for (a plain build
/// pins what is missing and writes the lock) and points `project` at the fetched content.
/// `quiet` (`kiln build --quiet`) silences the progress and the summary line.
pub fn for_build(
    project: &mut Project,
    args: &crate::cli::build::Args,
    quiet: bool,
) -> Result<Resolution, Failure> {
    let mode = match (args.offline, args.locked) {
        (true, _) => Mode::Offline,
        (false, true) => Mode::Locked,
        (false, false) => Mode::Lock,
    };
    let cache_dir = args.cache_dir.clone();
    let resolution = resolve(project, || open_engine(cache_dir), &mode, quiet)?;
    project.fetched = resolution.paths.clone();
    Ok(resolution)
}

/// How kustomize reads the remote resources of one project: only through its declared Git
/// sources, from the content fetched for them.
#[derive(Debug, Clone, Default)]
pub struct RemoteBases {
    /// What a render cache key must cover: every Git source and its (content-addressed)
    /// directory, since any of them may be read as a remote base.
    pub key: String,
    pub resolver: Option<RemoteResolver>,
}

/// The [`RemoteBases`] of `project` (its sources must have been resolved, see [`for_build`]).
pub fn remote_bases(project: &Project) -> RemoteBases {
    let specs: Vec<SourceSpec> = specs(project)
        .unwrap_or_default()
        .into_iter()
        .filter(|s| matches!(s.kind, kiln_sources::SourceKind::Git(_)))
        .collect();
    let fetched: BTreeMap<String, PathBuf> = specs
        .iter()
        .filter_map(|s| Some((s.name.clone(), project.fetched.get(&s.name)?.clone())))
        .collect();
    let key = fetched
        .iter()
        .map(|(name, dir)| format!("{name}={}\n", dir.display()))
        .collect();
    let resolver = move |url: &str| -> Result<PathBuf, RemoteRefusal> {
        let Some(found) = find_declared(&specs, url) else {
            return Err(RemoteRefusal {
                message: format!("remote resource `{url}` is not a declared source"),
                help: undeclared_hint(&specs, url),
            });
        };
        let Some(root) = fetched.get(&found.source_name) else {
            return Err(RemoteRefusal {
                message: format!(
                    "remote resource `{url}` is source `{}`, which was not fetched",
                    found.source_name
                ),
                help: "run `kiln build` or `kiln lock` to fetch the project's sources".into(),
            });
        };
        Ok(if found.path.is_empty() {
            root.clone()
        } else {
            root.join(&found.path)
        })
    };
    RemoteBases {
        key,
        resolver: Some(RemoteResolver(std::sync::Arc::new(resolver))),
    }
}
