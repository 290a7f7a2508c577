//! kiln bundles as OCI artifacts, so registries (any CNCF distribution) carry them to clusters.
//!
//! - [`push`] packs a verified bundle in its canonical tar form, gzipped, as the single layer of
//!   an OCI image manifest with kiln's own artifact type ([`media`]), and returns the manifest
//!   digest.
//! - [`Puller::pull`] resolves a tag to a manifest digest, checks the artifact type, downloads
//!   config and layer (each checked against its sha256), and verifies the bundle inside (every
//!   blake3 digest, and the bundle digest the config names) before anything else sees it.
//!   Verified bundles are cached by manifest digest.
//!
//! Both the `kiln` CLI and the `kiln-applier` agent use this crate; it links no renderer and no
//! Kubernetes client. Credentials and TLS follow kiln-sources' conventions ([`credentials`],
//! [`RegistryOptions::from_env`]). The layout is specified in `applier/bundle/FORMAT.md`.

// Diagnostics carry the bundle verification report; they are built on cold paths only.
#![allow(clippy::result_large_err)]

pub mod credentials;
mod error;
pub mod media;
mod pull;
mod push;
mod reference;
mod registry;
#[cfg(feature = "testing")]
pub mod testing;

pub use credentials::{Credentials, env_var_for, for_registry};
pub use error::OciError;
pub use pull::{Pulled, Puller};
pub use push::{PushMeta, Pushed, push};
pub use reference::{BundleRef, is_oci};
pub use registry::{Registry, RegistryOptions};
