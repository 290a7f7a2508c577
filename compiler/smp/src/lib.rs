//! Kubernetes strategic merge patch, driven by OpenAPI merge metadata shipped as data.
//!
//! Written by hand: no Rust crate implements strategic merge patch. The semantics are those
//! kustomize v5 applies (kyaml's merge walker over the Kubernetes v1.21 schema), since kiln's
//! output must equal `kubectl kustomize`'s; see [`merge`] for the rules.
//!
//! ```
//! use serde_json::json;
//! let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
//!     "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "a:1"}]}}}});
//! let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "a:2"}]}}}});
//! let merged = kiln_smp::merge(&deployment, &patch, kiln_smp::Schema::builtin()).unwrap().unwrap();
//! assert_eq!(merged["spec"]["template"]["spec"]["containers"][0]["image"], "a:2");
//! ```

#[rustfmt::skip]
mod builtin_schema;
mod elements;
mod error;
mod merge;
mod schema;

pub use error::SmpError;
pub use merge::{merge, merge_owned};
pub use schema::{ListStrategy, NodeId, Schema};
