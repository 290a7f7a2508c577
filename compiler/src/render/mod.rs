//! Rendering: turns a component's [`Job`] into Kubernetes objects with provenance, through the
//! render cache.
//!
//! Each renderer first gathers its inputs (file bytes, values) so the cache key covers exactly
//! what the output depends on; only on a miss does it parse and render.

mod engines;
pub mod manifests;
mod stdlib;

use std::path::PathBuf;

use kiln_bundle::Provenance;
use serde_json::Value;

use crate::cache::Cache;
use crate::diag::{Result, SourceFile};
use crate::resolve::{Job, Planned};

/// An object and where it came from.
pub type Object = (Value, Provenance);

/// What every render needs besides its job.
pub struct RenderContext<'a> {
    /// The project file, for diagnostics on renderer nodes.
    pub project_file: &'a SourceFile,
    /// The project directory, for naming files in diagnostics.
    pub project_root: PathBuf,
    pub cache: Option<&'a Cache>,
}

/// Renders one component.
pub fn render(component: &Planned, cx: &RenderContext<'_>) -> Result<Vec<Object>> {
    let span = tracing::debug_span!("render", component = %component.name);
    let _guard = span.enter();
    match &component.job {
        Job::Manifests { inputs } => manifests::render(&component.name, inputs, cx),
        Job::Stdlib {
            component: std,
            params,
            context,
        } => stdlib::render(component, std, params, context, cx),
        Job::Kustomize { .. } | Job::Helm { .. } => engines::render(component, cx),
    }
}

/// Looks `key` up in the cache, else renders and stores the result.
pub(crate) fn cached(
    cx: &RenderContext<'_>,
    key: String,
    render: impl FnOnce() -> Result<Vec<Object>>,
) -> Result<Vec<Object>> {
    if let Some(hit) = cx.cache.and_then(|cache| cache.get(&key)) {
        tracing::debug!(key, "render cache hit");
        return Ok(hit);
    }
    let objects = render()?;
    if let Some(cache) = cx.cache {
        cache.put(&key, &objects);
    }
    Ok(objects)
}

/// Checks that a document is a Kubernetes object: a mapping with `apiVersion`, `kind` and
/// `metadata.name` (non-empty strings). Returns what is wrong.
pub fn check_object(value: &Value) -> std::result::Result<(), String> {
    kiln_bundle::ObjectId::of(value).map(|_| ())
}
