//! Native Helm: renders charts into the objects `helm template` (Helm v4) prints, using the
//! Go template engine of `kiln-gotemplate` and Helm's function library.
//!
//! ```no_run
//! let opts = kiln_helm::RenderOptions { release: "web".into(), ..Default::default() };
//! let objects = kiln_helm::render(std::path::Path::new("charts/web"), &opts)?;
//! # Ok::<(), kiln_helm::HelmError>(())
//! ```

pub mod chart;
pub mod cli;
mod coalesce;
mod dependencies;
mod error;
mod funcs;
mod glob;
pub mod gofmt;
mod ignore;
mod objects;
pub mod render;
mod schema;
pub mod semver;
mod sortmanifests;
pub mod strvals;
pub mod toyaml;
mod yamlvalues;

use std::path::Path;

pub use chart::Chart;
pub use error::HelmError;
pub use render::{RenderOptions, Rendered};
pub use sortmanifests::Manifest;

/// One object of a render, with the template that produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedObject {
    /// `chart/templates/x.yaml` (or `chart/crds/x.yaml` for CRDs).
    pub template_path: String,
    pub object: serde_json::Value,
    /// 1-based line of the document in the rendered file.
    pub line: usize,
}

/// Loads a chart (directory or `.tgz`) and renders it.
pub fn render(chart: &Path, opts: &RenderOptions) -> Result<Vec<RenderedObject>, HelmError> {
    let chart = Chart::load(chart)?;
    render_loaded(&chart, opts)
}

/// Renders an already loaded chart into objects, in `helm template` order.
pub fn render_loaded(
    chart: &Chart,
    opts: &RenderOptions,
) -> Result<Vec<RenderedObject>, HelmError> {
    let rendered = render::render_chart(chart, opts)?;
    let mut out = Vec::new();
    for (path, content) in &rendered.crds {
        for (doc, line) in sortmanifests::split_manifests(content) {
            let object = yamlvalues::decode(&doc).map_err(|e| {
                HelmError::msg(format!("YAML parse error on {path}: {}", e.message))
            })?;
            if object.is_null() {
                continue;
            }
            out.push(RenderedObject {
                template_path: path.clone(),
                object,
                line,
            });
        }
    }
    for m in rendered.manifests.iter().chain(&rendered.hooks) {
        if m.object.is_null() {
            continue;
        }
        out.push(RenderedObject {
            template_path: m.path.clone(),
            object: m.object.clone(),
            line: m.line,
        });
    }
    Ok(out)
}
