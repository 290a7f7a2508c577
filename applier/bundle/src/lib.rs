//! The kiln bundle format: the contract between the compiler and the applier.
//!
//! Links no renderer and no Kubernetes client, so the applier can verify a bundle with nothing
//! but this crate.
