//! Where a bundle comes from: a path (directory or tar) or an OCI artifact
//! (`oci://REGISTRY/REPOSITORY:TAG` or `@sha256:…`). Either way the caller gets a
//! [`kiln_bundle::Bundle`], which exists only once every digest verified.

use crate::error::ApplyError;
use kiln_bundle::Bundle;
use kiln_oci::{BundleRef, Puller, Registry, RegistryOptions};
use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BundleSource {
    Path(PathBuf),
    Oci(BundleRef),
}

impl BundleSource {
    /// `oci://…` is a registry reference; anything else a path.
    pub fn parse(input: &str) -> Result<BundleSource, ApplyError> {
        if kiln_oci::is_oci(input) {
            Ok(BundleSource::Oci(BundleRef::parse(input)?))
        } else {
            Ok(BundleSource::Path(PathBuf::from(input)))
        }
    }

    /// A puller for an OCI source (`None` for a path): plain HTTP for the reference's registry
    /// when `insecure`, extra roots from `ca_files`, the environment's settings on top.
    pub fn puller(
        &self,
        insecure: bool,
        ca_files: &[PathBuf],
        cache: Option<PathBuf>,
    ) -> Result<Option<Puller>, ApplyError> {
        let BundleSource::Oci(r) = self else {
            return Ok(None);
        };
        let mut options = RegistryOptions::from_env();
        if insecure {
            options.insecure.push(r.registry.clone());
        }
        options.ca_files.extend(ca_files.iter().cloned());
        Ok(Some(Puller::new(Registry::new(options)?, cache)?))
    }

    /// Opens and verifies the bundle (pulling it first for an OCI source).
    pub async fn open(&self, puller: Option<&Puller>) -> Result<Bundle, ApplyError> {
        match (self, puller) {
            (BundleSource::Path(p), _) => crate::open_bundle(p),
            (BundleSource::Oci(r), Some(puller)) => Ok(puller.pull(r).await?.bundle),
            (BundleSource::Oci(r), None) => Err(ApplyError::Config {
                message: format!("no registry client configured for {r}"),
            }),
        }
    }
}

impl fmt::Display for BundleSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BundleSource::Path(p) => write!(f, "{}", p.display()),
            BundleSource::Oci(r) => write!(f, "{r}"),
        }
    }
}
