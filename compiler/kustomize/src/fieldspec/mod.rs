//! Field specs: which fields of which kinds each kustomize transformer touches (namePrefix and
//! nameSuffix, commonLabels with selectors and pod template labels, commonAnnotations,
//! namespace, images, replicas, name references, var references), and the engine that walks an
//! object along a spec's path.
//!
//! The built-in specs are data (`builtin.yaml`, the same entries as kustomize v5.7.1's
//! defaults); a kustomization's `configurations:` files add to them through
//! [`TransformerConfig::with_user_configs`]. Transformers call [`visit`] with a spec and a
//! closure that edits each field found.
//!
//! This module stands apart from the rest of the crate: it needs only `serde_json` values
//! (and `kiln_yaml` to read its embedded data).

mod builtin_config;
mod config;
mod error;
mod spec;
mod visit;

pub use config::{NameBackReferences, TransformerConfig};
pub use error::FieldSpecError;
pub use spec::{FieldSpec, Gvk, ORDER_FIRST, ORDER_LAST, split_path};
pub use visit::{CreateKind, visit};
