//! What can go wrong moving a bundle through a registry, each naming the reference and what to
//! do next. [`OciError::exit_code`]: 2 when the reference or the artifact is wrong (nothing
//! touched the cluster), 1 when the registry could not be used.

use miette::Diagnostic;
use thiserror::Error;

#[derive(Debug, Error, Diagnostic)]
pub enum OciError {
    #[error("`{input}` is not a bundle reference: {reason}")]
    #[diagnostic(
        code(kiln::oci::reference),
        help("write oci://REGISTRY/REPOSITORY:TAG or oci://REGISTRY/REPOSITORY@sha256:DIGEST")
    )]
    InvalidReference { input: String, reason: String },

    #[error("cannot reach the registry of {reference}: {detail}")]
    #[diagnostic(
        code(kiln::oci::unreachable),
        help(
            "check the registry address; a plain-HTTP registry needs --insecure (or its host:port in KILN_INSECURE_REGISTRIES), a private CA --ca-file (or KILN_CA_CERTIFICATES)"
        )
    )]
    Unreachable { reference: String, detail: String },

    #[error("the registry refused access to {reference}")]
    #[diagnostic(
        code(kiln::oci::denied),
        help("log in with `docker login {registry}`, or set {env_var}=user:password")
    )]
    Denied {
        reference: String,
        registry: String,
        env_var: String,
    },

    #[error("{reference} does not exist in the registry")]
    #[diagnostic(
        code(kiln::oci::not_found),
        help("check the repository, tag or digest; `kiln push` prints the digest it pushed")
    )]
    NotFound { reference: String },

    #[error("{reference} is not a kiln bundle: {found}")]
    #[diagnostic(
        code(kiln::oci::artifact_type),
        help(
            "push bundles with `kiln push` (artifact type application/vnd.kiln.bundle.v1+json); nothing was applied"
        )
    )]
    WrongArtifactType { reference: String, found: String },

    #[error("{reference} failed verification: {what}")]
    #[diagnostic(
        code(kiln::oci::tampered),
        help(
            "the artifact in the registry does not match its digests; nothing was applied. Push the bundle again and find out who changed it"
        )
    )]
    Tampered { reference: String, what: String },

    #[error("{reference} failed verification: the bundle in the layer does not verify")]
    #[diagnostic(
        code(kiln::oci::unverified),
        help(
            "the layer's files do not match the bundle's digests; nothing was applied. Push the bundle again and find out who changed it"
        )
    )]
    Unverified {
        reference: String,
        #[source]
        #[diagnostic_source]
        source: kiln_bundle::BundleError,
    },

    #[error("the registry failed on {reference}: {detail}")]
    #[diagnostic(
        code(kiln::oci::registry),
        help("retry later; the registry answered with an error")
    )]
    Registry { reference: String, detail: String },

    #[error("cannot push the bundle")]
    #[diagnostic(
        code(kiln::oci::bundle),
        help("nothing was pushed; rebuild the bundle with `kiln build`")
    )]
    Bundle {
        #[source]
        #[diagnostic_source]
        source: kiln_bundle::BundleError,
    },

    #[error("{message}")]
    #[diagnostic(code(kiln::oci::io))]
    Io {
        message: String,
        #[source]
        source: std::io::Error,
    },
}

impl OciError {
    /// 2 for a wrong reference or artifact, 1 when the registry (or the disk) failed.
    pub fn exit_code(&self) -> u8 {
        match self {
            OciError::InvalidReference { .. }
            | OciError::NotFound { .. }
            | OciError::WrongArtifactType { .. }
            | OciError::Tampered { .. }
            | OciError::Unverified { .. }
            | OciError::Bundle { .. } => 2,
            OciError::Unreachable { .. }
            | OciError::Denied { .. }
            | OciError::Registry { .. }
            | OciError::Io { .. } => 1,
        }
    }

    /// The registry was not reachable or failed: worth trying again later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            OciError::Unreachable { .. } | OciError::Registry { .. }
        )
    }
}
