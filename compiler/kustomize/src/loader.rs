//! File access for one kustomization root: load restrictions (files must stay inside the root
//! unless `LoadRestrictionsNone`), cycle detection between kustomization roots, and rejection of
//! remote resources (kiln fetches repositories as declared sources, never during a render).

use std::path::{Component, Path, PathBuf};

use crate::error::{KustomizeError, Result};

#[derive(Debug, Clone)]
pub struct Loader {
    /// The kustomization directory (symlinks resolved).
    pub root: PathBuf,
    pub restrict: bool,
    /// Roots of the kustomizations that led here, outermost first.
    pub ancestors: Vec<PathBuf>,
    /// Maps remote resources onto local directories (the caller's declared sources).
    pub remote: Option<RemoteResolver>,
}

/// Why a [`RemoteResolver`] refused a remote resource: the message and a hint for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRefusal {
    pub message: String,
    pub help: String,
}

/// The function behind [`RemoteResolver`].
pub type RemoteFn = dyn Fn(&str) -> std::result::Result<PathBuf, RemoteRefusal> + Send + Sync;

/// Turns a remote resource URL into a local directory holding the same files; the engine never
/// fetches anything itself.
#[derive(Clone)]
pub struct RemoteResolver(pub std::sync::Arc<RemoteFn>);

impl std::fmt::Debug for RemoteResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RemoteResolver(..)")
    }
}

/// Does this resource entry name a remote location kustomize would fetch?
pub fn is_remote(path: &str) -> bool {
    path.contains("://")
        || path.starts_with("git@")
        || path.starts_with("github.com/")
        || path.starts_with("gitlab.com/")
        || path.starts_with("bitbucket.org/")
        || path.contains("?ref=")
        || path.contains(".git//")
}

fn lexical_clean(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

impl Loader {
    pub fn new_root(dir: &Path, restrict: bool) -> Result<Self> {
        let root = dir.canonicalize().map_err(|e| {
            KustomizeError::file(dir, format!("cannot open the kustomization directory: {e}"))
        })?;
        if !root.is_dir() {
            return Err(KustomizeError::file(dir, "must be a directory"));
        }
        Ok(Loader {
            root,
            restrict,
            ancestors: Vec::new(),
            remote: None,
        })
    }

    /// Resolves a path relative to the root, following symlinks.
    fn resolve(&self, path: &str) -> PathBuf {
        let joined = self.root.join(path);
        joined
            .canonicalize()
            .unwrap_or_else(|_| lexical_clean(&joined))
    }

    /// Reads a file, enforcing the load restriction.
    pub fn load(&self, path: &str) -> Result<Vec<u8>> {
        let full = self.resolve(path);
        if self.restrict && !full.starts_with(&self.root) {
            return Err(KustomizeError::file(
                self.root.join(path),
                format!(
                    "security; file '{}' is not in or below '{}'",
                    path,
                    self.root.display()
                ),
            )
            .with_help("keep files inside the kustomization directory, or build with --load-restrictor LoadRestrictionsNone"));
        }
        if full.is_dir() {
            return Err(KustomizeError::file(
                full,
                format!("'{path}' must resolve to a file"),
            ));
        }
        std::fs::read(&full).map_err(|e| KustomizeError::file(self.root.join(path), e.to_string()))
    }

    pub fn load_string(&self, path: &str) -> Result<String> {
        let bytes = self.load(path)?;
        String::from_utf8(bytes)
            .map_err(|_| KustomizeError::file(self.root.join(path), "file is not valid UTF-8"))
    }

    /// A loader for a nested kustomization directory, refusing cycles.
    pub fn child(&self, path: &str) -> Result<Loader> {
        let full = if is_remote(path) && !self.root.join(path).exists() {
            let Some(remote) = &self.remote else {
                return Err(KustomizeError::build(format!(
                    "remote resource '{path}' is not fetched by kiln"
                ))
                .with_help(
                    "declare the repository as a kiln source in the project file and refer to it by path",
                ));
            };
            let dir =
                (remote.0)(path).map_err(|r| KustomizeError::build(r.message).with_help(r.help))?;
            dir.canonicalize().unwrap_or(dir)
        } else {
            self.resolve(path)
        };
        if !full.is_dir() {
            return Err(KustomizeError::file(
                self.root.join(path),
                format!("'{path}' is neither a readable file nor a directory"),
            ));
        }
        let mut chain = self.ancestors.clone();
        chain.push(self.root.clone());
        for visited in &chain {
            if visited.starts_with(&full) {
                return Err(KustomizeError::build(format!(
                    "cycle detected: candidate root '{}' contains visited root '{}'",
                    full.display(),
                    visited.display()
                )));
            }
        }
        Ok(Loader {
            root: full,
            restrict: self.restrict,
            ancestors: chain,
            remote: self.remote.clone(),
        })
    }

    /// Path of `path` relative to the current directory for messages.
    pub fn display(&self, path: &str) -> PathBuf {
        self.root.join(path)
    }
}
