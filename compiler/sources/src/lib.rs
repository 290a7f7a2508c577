//! Sources (Git, Helm repositories, OCI registries), their resolution into `kiln.lock`, and the
//! content-addressed cache that holds what was fetched.
//!
//! # Model
//! A project declares [`SourceSpec`]s. Resolving one yields a [`LockEntry`]: the declaration it
//! came from, an immutable identity ([`Pin`]: commit SHA; chart version + URL + sha256; OCI
//! manifest digest) and the blake3 digest of the content tree. Content lives in the [`Cache`]
//! under that digest and is verified every time it is handed out.
//!
//! # Integration guide (for the `kiln` CLI)
//! Build one engine per command, then call [`Sources::resolve`] with the mode of the command.
//! All calls block (an internal single-threaded tokio runtime does the I/O); inside an async
//! context they run on a helper thread, so they may be called from anywhere.
//!
//! ```no_run
//! use kiln_sources::{Cache, Lock, Mode, Settings, Sources, Which};
//! # fn specs_from_kdl() -> Vec<kiln_sources::SourceSpec> { vec![] }
//! # fn main() -> miette::Result<()> {
//! let engine = Sources::new(Cache::open(Cache::default_root())?, Settings::from_env());
//! let lock_path = std::path::Path::new("kiln.lock");
//! let old = Lock::read(lock_path)?;                    // missing file = empty lock
//! // `source "app" git="…" ref="main" path="deploy"` → SourceSpec (validated, with diagnostics):
//! let app = kiln_sources::SourceSpec::from_attributes(
//!     "app",
//!     [("git", "https://example.com/acme/shop.git"), ("ref", "main"), ("path", "deploy")],
//! )?;
//! let specs = [vec![app], specs_from_kdl()].concat();
//!
//! // `kiln lock` (and a plain `kiln build`): resolve what is missing or changed.
//! let r = engine.resolve(&specs, &old, &Mode::Lock)?;
//! if r.lock != old { r.lock.write(lock_path).map_err(|e| miette::miette!("{e}"))?; }
//!
//! // `kiln update [SOURCE…]`: move sources to the newest match; print `r.changes`.
//! let r = engine.resolve(&specs, &old, &Mode::Update(Which::Only(vec!["podinfo".into()])))?;
//! for change in &r.changes { eprintln!("{change}"); }
//!
//! // `kiln build --locked`: fails (kiln::lock::missing / stale / extra) unless the lock covers
//! // the declarations exactly; fetches only pinned identities that are not cached.
//! // `kiln build --offline`: the same without any network access.
//! let r = engine.resolve(&specs, &old, &Mode::Locked)?;
//! let app_dir = &r.paths["app"];                        // content of `app:…` references
//! # let _ = app_dir; Ok(()) }
//! ```
//!
//! `kiln cache gc` calls [`Cache::gc`] with the content digests of the current lock to keep
//! (and an age, e.g. 30 days, below which other entries are kept too, for other projects).
//! Progress goes to [`Settings::progress`] ([`Stage::Resolving`], [`Stage::Fetching`],
//! [`Stage::Ready`] per source); [`FetchProgress`] turns it into a bar on a terminal and one
//! summary line (`sources: 12 ready (3 fetched, 9 cached) in 1.24s`). Bundles (or test fixtures) are published to a registry with
//! [`Sources::push_artifact`], in the format of `flux push artifact`.
//! Errors are [`miette::Diagnostic`]s: [`ResolveError`] lists one [`SourceError`] per failing
//! source (its name, the URL with credentials removed, and a hint).
//!
//! A kustomization `resources:` entry naming a remote URL is mapped with [`find_declared`] onto
//! a declared Git source (same repository and ref); anything else is an error for the caller to
//! report, never a network fetch of its own: [`undeclared_hint`] says why no source matched and
//! shows the `source` node to add.
//!
//! A source served over HTTPS by a private CA names the CA's PEM file with
//! [`SourceSpec::with_ca_file`] (`ca-file=` in the project); it applies to Helm repositories,
//! registries and Git smart HTTP, and is not part of the locked identity.
//!
//! Renderers read the `paths` (shared cache directories: never write to them); a `source:path`
//! reference resolves to `paths[source].join(path)`. The bundle records the lock so that a
//! build can be reproduced; the content digests in the lock are the render cache keys.
//!
//! # Guarantees
//! - `Locked` and `Offline` never change the lock; `Offline` opens no connection at all, and a
//!   `Locked` resolution with a warm cache opens none either.
//! - Content is only ever handed out after its tree digest was recomputed and matched; a
//!   corrupted cache entry is removed and fetched again (or reported under `Offline`).
//! - A failed or interrupted fetch leaves nothing in `content/` (staging + atomic rename);
//!   concurrent builds on one cache serialize on file locks per identity.
//! - Archives and Git trees cannot write outside their directory (`..`, absolute paths,
//!   symlinks leaving the tree or written through are refused).
//! - Credentials come from the environment, netrc or the Docker config, never from the
//!   project; they are never printed nor written to the lock, and Git sends them over https only.
//!
//! # Environment
//! `KILN_CACHE_DIR` (cache root), `KILN_AUTH_<HOST>=user:password`, `~/.netrc`, the Docker
//! config (registries), `KILN_INSECURE_REGISTRIES` (plain-HTTP registries),
//! `KILN_CA_CERTIFICATES` (extra PEM roots).

mod archive;
pub mod cache;
pub mod constraint;
pub mod credentials;
mod error;
mod git;
mod helm_repo;
mod http;
pub mod lock;
pub mod oci;
mod remote;
mod resolve;
mod settings;
mod spec;
mod terminal;
mod tls;

pub use archive::pack_tar_gz;
pub use cache::{Cache, GcReport, tree_digest};
pub use error::{LockParseError, ResolveError, SourceError};
pub use lock::{Lock, LockEntry, Pin};
pub use remote::{DeclaredRemote, find_declared, undeclared_hint};
pub use resolve::{Change, Mode, Resolution, Sources, Which, diff};
pub use settings::{Progress, Settings, Stage};
pub use spec::{
    GitSelect, GitSpec, HelmRepoSpec, OciSelect, OciSpec, SourceKind, SourceSpec, redact_url,
};
pub use terminal::FetchProgress;
