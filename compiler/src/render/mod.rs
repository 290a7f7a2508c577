//! Rendering: turns a component's [`Job`] into Kubernetes objects with provenance, through the
//! render cache.
//!
//! Rendering is split in two steps so a build can decide what to do before any render runs:
//! [`prepare`] gathers a component's inputs (file bytes, values) and computes its cache key,
//! which covers exactly what the output depends on; [`Prepared::run`] then takes the objects
//! from the cache, or renders and stores them, and says which of the two happened.

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

/// A component whose inputs have been read and hashed, ready to render.
pub struct Prepared<'a> {
    /// The blake3 digest (hex) of everything the render reads.
    pub key: String,
    render: Box<dyn FnOnce() -> Result<Vec<Object>> + Send + 'a>,
}

/// How a component's objects were obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The renderer ran (no cache, or no entry for the key).
    Rendered,
    /// The objects came from the render cache; the renderer did not run.
    Cached,
}

impl<'a> Prepared<'a> {
    fn new(key: String, render: impl FnOnce() -> Result<Vec<Object>> + Send + 'a) -> Self {
        Prepared {
            key,
            render: Box::new(render),
        }
    }

    /// The objects for the key: from the cache if it has them, else rendered (and stored).
    pub fn run(self, cache: Option<&Cache>) -> Result<(Vec<Object>, Origin)> {
        if let Some(hit) = cache.and_then(|cache| cache.get(&self.key)) {
            tracing::debug!(key = %self.key, "render cache hit");
            return Ok((hit, Origin::Cached));
        }
        let objects = (self.render)()?;
        if let Some(cache) = cache {
            cache.put(&self.key, &objects);
        }
        Ok((objects, Origin::Rendered))
    }
}

/// Reads and hashes the inputs of one component.
pub fn prepare<'a>(component: &'a Planned, cx: &'a RenderContext<'a>) -> Result<Prepared<'a>> {
    let span = tracing::debug_span!("prepare", component = %component.name);
    let _guard = span.enter();
    match &component.job {
        Job::Manifests { inputs } => manifests::prepare(&component.name, inputs, cx),
        Job::Stdlib {
            component: std,
            params,
            context,
        } => stdlib::prepare(component, std, params, context, cx),
        Job::Kustomize { .. } | Job::Helm { .. } => engines::prepare(component, cx),
    }
}

/// Renders one component (through the cache).
pub fn render(component: &Planned, cx: &RenderContext<'_>) -> Result<Vec<Object>> {
    let span = tracing::debug_span!("render", component = %component.name);
    let _guard = span.enter();
    prepare(component, cx)?
        .run(cx.cache)
        .map(|(objects, _)| objects)
}

/// Checks that a document is a Kubernetes object: a mapping with `apiVersion`, `kind` and
/// `metadata.name` (non-empty strings). Returns what is wrong.
pub fn check_object(value: &Value) -> std::result::Result<(), String> {
    kiln_bundle::ObjectId::of(value).map(|_| ())
}
