//! The kiln bundle format: the contract between the compiler and the applier.
//!
//! Links no renderer and no Kubernetes client, so the applier can verify a bundle with nothing
//! but this crate.
//!
//! - The compiler hands a [`BundleSpec`] to [`write_dir`] or [`write_tar`] (or [`build`] for the
//!   bytes in memory); both forms have the same [`Digest`], the blake3 of the canonical manifest.
//! - Readers call [`Bundle::open`], which verifies every file before it hands out an object, or
//!   [`verify`] for a report naming every tampered, missing or extra file.
//! - [`diff`] compares two bundles object by object and field by field.
//!
//! The exact format (layout, canonical object YAML, canonical manifest JSON) is specified in
//! [`canonical`], [`layout`] and `FORMAT.md`.

mod build;
mod bundle;
pub mod canonical;
pub mod diff;
mod digest;
mod error;
pub mod layout;
mod model;
mod par;
mod read;
mod verify;
mod write;

pub use build::{BuiltBundle, build};
pub use bundle::{Bundle, BundleObject, read_verified, verify, verify_expecting};
pub use diff::{BundleDiff, diff, diff_paths};
pub use digest::{Digest, ParseDigestError};
pub use error::BundleError;
pub use model::{
    BundleSpec, ComponentEntry, ComponentSpec, FORMAT, Manifest, ObjectEntry, ObjectId, ObjectKey,
    Provenance, Tenancy,
};
pub use verify::{Problem, VerifyReport};
pub use write::{
    Previous, tar_bytes, write_built_dir, write_built_tar, write_dir, write_dir_over, write_tar,
};
