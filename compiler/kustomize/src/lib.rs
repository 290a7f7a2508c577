//! Native Kustomize: renders a kustomization directory into the objects `kubectl kustomize`
//! (kustomize v5.7.1) prints, in the same order, with no Go binary involved.
//!
//! The pipeline follows kustomize's: [`target`] accumulates resources (files, nested
//! kustomizations, components), runs generators and transformers per kustomization, then the
//! top level adds content-hash suffixes, fixes name references, resolves vars, drops local
//! configs and sorts ([`output`]).

pub mod cli;
pub mod crds;
pub mod decode;
pub mod error;
pub mod fieldspec;
pub mod generators;
pub mod hash;
pub mod iam_policy;
pub mod kustomization;
pub mod loader;
pub mod origin;
pub mod output;
pub mod patch;
pub mod pattern;
pub mod resid;
pub mod resource;
pub mod selector;
pub mod smp;
pub mod target;
pub mod transform;

use std::path::Path;

use serde_json::Value;

pub use error::KustomizeError;
pub use loader::{RemoteRefusal, RemoteResolver};

/// Build options (the flags of `kubectl kustomize`).
#[derive(Debug, Clone)]
pub struct Options {
    /// `LoadRestrictionsRootOnly` (true, the default) or `LoadRestrictionsNone` (false).
    pub restrict_to_root: bool,
    /// Where remote resources (`https://host/org/repo//dir?ref=v1`, …) are read from; without
    /// one they are an error.
    pub remote: Option<RemoteResolver>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            restrict_to_root: true,
            remote: None,
        }
    }
}

/// An object of the build and the file it came from (relative to the kustomization), if any.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub object: Value,
    pub origin: Option<String>,
}

/// Builds the kustomization in `dir` into the objects `kubectl kustomize dir` prints, in order.
pub fn build(dir: &Path, options: &Options) -> Result<Vec<Value>, KustomizeError> {
    Ok(build_with_provenance(dir, options)?
        .into_iter()
        .map(|r| r.object)
        .collect())
}

/// Like [`build`], with the origin file of each object.
pub fn build_with_provenance(
    dir: &Path,
    options: &Options,
) -> Result<Vec<Rendered>, KustomizeError> {
    smp::reset();
    let mut ldr = loader::Loader::new_root(dir, options.restrict_to_root)?;
    ldr.remote = options.remote.clone();
    let top = target::Target::load(ldr, String::new())?;
    let build_metadata = top.k.build_metadata.clone().unwrap_or_default();
    let has = |option: &str| build_metadata.iter().any(|b| b == option);
    let ctx = target::Ctx {
        origin_annotations: true,
        transformer_annotations: has("transformerAnnotations"),
    };
    let mut ra = target::Accumulator::default();
    top.accumulate(&mut ra, &ctx)?;
    transform::finish(&mut ra)?;
    output::sort(&mut ra.resmap, top.k.sort_options.as_ref())?;
    let keep_origin = has("originAnnotations");
    Ok(ra
        .resmap
        .resources
        .into_iter()
        .map(|mut r| {
            let origin = r
                .origin
                .as_ref()
                .and_then(|o| o.get("path"))
                .and_then(Value::as_str)
                .map(str::to_string);
            if !r.transformations.is_empty() {
                let text = origin::transformations_text(&r.transformations);
                r.set_annotation("alpha.config.kubernetes.io/transformations", &text);
            }
            if keep_origin && let Some(o) = &r.origin {
                r.set_annotation("config.kubernetes.io/origin", &origin::origin_text(o));
            }
            Rendered {
                object: r.obj,
                origin,
            }
        })
        .collect())
}
