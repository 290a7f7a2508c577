//! Native Helm: renders charts into the objects `helm template` (Helm v4) prints, using the
//! Go template engine of `kiln-gotemplate` and Helm's function library.
//!
//! The pipeline follows Helm's: [`chart`] loads a directory (honouring `.helmignore`) or a `.tgz`;
//! user values (`-f` files, `--set` in Helm's [`strvals`] syntax, inline values) are merged;
//! dependencies are enabled by `condition`/`tags`, aliased and their `import-values` applied;
//! values are coalesced with Helm's null-deletion and `global` rules and checked against every
//! `values.schema.json`; all templates are parsed into one set (parent `define`s win) and every
//! non-partial one is executed with its chart's scope; the output is split into documents, parsed
//! (invalid YAML is an error naming the template), hooks are separated and manifests ordered by
//! kind exactly as `helm template` prints them.
//!
//! # Determinism
//!
//! kiln builds must be pure functions of their inputs, while several Sprig functions are random or
//! read the clock in Helm:
//! - `randAlphaNum`, `randAlpha`, `randNumeric`, `randAscii`, `randInt`, `randBytes`, `shuffle`,
//!   `uuidv4`, the keys, serials and salts of `genCA`/`genSelfSignedCert`/`genSignedCert`/
//!   `genPrivateKey`/`htpasswd`/`bcrypt` and the IV of `encryptAES` draw from a ChaCha PRNG seeded
//!   with blake3(release name, template path) — the template path names the chart too
//!   (`parent/charts/sub/templates/x.yaml`). The output has Helm's shape (length, alphabet, UUID v4
//!   bits, RSA 2048 PEM that parses and verifies) and is identical on every build.
//! - `now` returns `SOURCE_DATE_EPOCH` when set, else the Unix epoch; generated certificates start
//!   their validity there. Charts that need real certificates or secrets should get them from
//!   values (most charts offer a knob).
//! - `lookup` returns an empty map and `getHostByName` an empty string, as in `helm template`
//!   (without `--enable-dns`); `.Capabilities` is Helm's offline default (API versions built into
//!   Helm v4.1.4, Kubernetes version from `--kube-version`). `derivePassword` is deterministic by
//!   design and gives Helm's exact output.
//!
//! # Numbers
//!
//! Values files (and inline values) decode to float64 as in Helm (`1000000` prints `1e+06`);
//! `--set` integers and Sprig's integer math are Go `int64`s, template literals `int`s, so
//! `typeOf`, `kindIs`, `deepEqual`, `printf` and `int`-typed parameters behave as in Helm.
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
pub mod dispose;
mod error;
mod filedata;
mod funcs;
mod glob;
pub mod gofmt;
mod ignore;
mod objects;
mod parallel;
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
    objects(render::render_path(chart, opts)?)
}

/// Renders an already loaded chart into objects, in `helm template` order.
pub fn render_loaded(
    chart: &Chart,
    opts: &RenderOptions,
) -> Result<Vec<RenderedObject>, HelmError> {
    objects(render::render_chart(chart, opts)?)
}

/// The objects of a render, in `helm template` order.
fn objects(rendered: Rendered) -> Result<Vec<RenderedObject>, HelmError> {
    let mut out = Vec::new();
    for (path, content) in &rendered.crds {
        for (doc, line) in sortmanifests::split_manifests(&render::file_text(content)) {
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
    let kept: Vec<&Manifest> = rendered
        .manifests
        .iter()
        .chain(&rendered.hooks)
        .filter(|m| m.present)
        .collect();
    let objects = parallel::map(&kept, |m| {
        yamlvalues::decode(&m.content).map(yamlvalues::to_float_numbers)
    });
    for (m, object) in kept.into_iter().zip(objects) {
        let object = object.map_err(|e| {
            HelmError::msg(format!("YAML parse error on {}: {}", m.path, e.message))
        })?;
        out.push(RenderedObject {
            template_path: m.path.clone(),
            object,
            line: m.line,
        });
    }
    Ok(out)
}
