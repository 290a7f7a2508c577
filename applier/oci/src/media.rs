//! The media types and annotation keys of a kiln bundle artifact.
//!
//! A bundle travels as an OCI image manifest whose `artifactType` and config media type are
//! [`ARTIFACT_TYPE`], with one layer of type [`LAYER`]: the bundle's canonical tar, gzipped (as
//! Flux's OCIRepository extracts layers). Readers refuse any other artifact type.

/// `artifactType` of the manifest and media type of its config blob.
pub const ARTIFACT_TYPE: &str = "application/vnd.kiln.bundle.v1+json";
/// Media type of the one layer: the bundle in its canonical tar form, gzipped.
pub const LAYER: &str = "application/vnd.kiln.bundle.layer.v1.tar+gzip";
/// Media type of the manifest itself.
pub const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// When the artifact was pushed (RFC 3339).
pub const CREATED: &str = "org.opencontainers.image.created";
/// Where the project that the bundle was built from lives (a Git URL).
pub const SOURCE: &str = "org.opencontainers.image.source";
/// The project's revision (e.g. `main@sha1:…`, as `flux push artifact` writes it).
pub const REVISION: &str = "org.opencontainers.image.revision";
/// File name of the layer, as ORAS names pulled files.
pub const TITLE: &str = "org.opencontainers.image.title";
/// The bundle digest (`blake3:…`), also in the config.
pub const BUNDLE_DIGEST: &str = "dev.kiln.bundle.digest";
pub const BUNDLE_PROJECT: &str = "dev.kiln.bundle.project";
pub const BUNDLE_TARGET: &str = "dev.kiln.bundle.target";

/// The layer's file name ([`TITLE`]).
pub const LAYER_TITLE: &str = "bundle.tar.gz";
