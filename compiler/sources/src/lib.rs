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
//! All calls block (an internal single-threaded tokio runtime does the I/O); call them outside
//! an async context.
//!
//! ```no_run
//! use kiln_sources::{Cache, Lock, Mode, Settings, Sources, Which};
//! # fn specs_from_kdl() -> Vec<kiln_sources::SourceSpec> { vec![] }
//! # fn main() -> miette::Result<()> {
//! let engine = Sources::new(Cache::open(Cache::default_root())?, Settings::from_env());
//! let lock_path = std::path::Path::new("kiln.lock");
//! let old = Lock::read(lock_path)?;                    // missing file = empty lock
//! let specs = specs_from_kdl();                         // `source` nodes → SourceSpec
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
//! `kiln cache gc` calls [`Cache::gc`] with the content digests of the current lock to keep.
//! Errors are [`miette::Diagnostic`]s: [`ResolveError`] lists one [`SourceError`] per failing
//! source (its name, the URL with credentials removed, and a hint).
//!
//! The compiler embeds the `paths` (not the lock digests) as its inputs; the bundle records
//! the lock so that a build can be reproduced.
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
mod resolve;
mod settings;
mod spec;

pub use archive::pack_tar_gz;
pub use cache::{Cache, GcReport, tree_digest};
pub use error::{LockParseError, ResolveError, SourceError};
pub use lock::{Lock, LockEntry, Pin};
pub use resolve::{Change, Mode, Resolution, Sources, Which, diff};
pub use settings::{Progress, Settings, Stage};
pub use spec::{
    GitSelect, GitSpec, HelmRepoSpec, OciSelect, OciSpec, SourceKind, SourceSpec, redact_url,
};
