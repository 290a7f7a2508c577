//! The `kustomize` and `helm` renderers, backed by the native engines `kiln-kustomize` and
//! `kiln-helm`.

use super::{Object, RenderContext};
use crate::diag::{Error, Result};
use crate::resolve::{Job, Planned};

pub fn render(planned: &Planned, cx: &RenderContext<'_>) -> Result<Vec<Object>> {
    let engine = match &planned.job {
        Job::Kustomize { .. } => "kustomize",
        _ => "helm",
    };
    Err(Error::input(
        "kiln::engine::unavailable",
        format!(
            "component `{}` uses the {engine} renderer, which is not available in this build yet",
            planned.name
        ),
    )
    .at(
        cx.project_file,
        planned.span,
        format!("needs the {engine} engine"),
    )
    .help("render it ahead of time and use `manifests` until the native engine is wired in"))
}
