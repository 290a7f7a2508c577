//! The kiln applier: verifies a bundle and converges a cluster to it.
//!
//! The flow is `verify -> plan -> apply in waves (SSA) -> wait healthy -> prune -> record`:
//! [`open_bundle`] verifies every digest before anything touches the cluster, [`plan::plan`]
//! reads the cluster and server-side dry-runs every object, [`apply::apply`] applies in order
//! with field manager `kiln`, waits for health ([`health`]), prunes ([`prune`]) and records the
//! [`inventory`]. [`drift::drift`] and [`rollback::rollback`] read the inventory; [`agent`]
//! loops over all of it inside a cluster, reading bundles from a path or an OCI registry
//! ([`source`]).
//!
//! The `kiln` CLI wires these as `kiln apply --target T`, `kiln drift`, `kiln rollback`.

// Diagnostics carry the API server's full answer; they are built on cold paths only.
#![allow(clippy::result_large_err)]

pub mod agent;
pub mod apply;
pub mod client;
pub mod discovery;
pub mod drift;
pub mod error;
pub mod health;
pub mod inventory;
pub mod metrics;
pub mod options;
pub mod plan;
pub mod prepare;
pub mod prune;
pub mod render;
pub mod rollback;
pub mod source;
pub mod store;
pub mod tenants;

pub use apply::{ApplyReport, apply};
pub use client::{ClusterSelection, Kube, RetryPolicy};
pub use drift::{DriftReport, drift};
pub use error::{ApplyError, KubeError};
pub use options::ApplyOptions;
pub use plan::{Action, Plan, plan};
pub use rollback::rollback;
pub use source::BundleSource;
pub use tenants::TenantPolicy;

/// Opens a bundle directory or tar and verifies it; the only way the applier gets objects.
pub fn open_bundle(path: &std::path::Path) -> Result<kiln_bundle::Bundle, ApplyError> {
    kiln_bundle::Bundle::open(path).map_err(|source| ApplyError::Bundle {
        path: path.display().to_string(),
        source,
    })
}
