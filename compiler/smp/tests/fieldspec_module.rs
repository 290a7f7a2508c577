//! Builds kiln-kustomize's `fieldspec` module (owned by the same engineer as this crate) on its
//! own, so its unit tests run here whether or not kiln-kustomize declares the module yet.

#[allow(dead_code, unused_imports)]
#[path = "../../kustomize/src/fieldspec/mod.rs"]
mod fieldspec;
