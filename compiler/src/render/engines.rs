//! The `kustomize` and `helm` renderers, backed by the native engines `kiln-kustomize` and
//! `kiln-helm`.
//!
//! Their cache keys cover every file the engine may read: the whole source a kustomization lives
//! in (overlays reach sibling bases), or the chart directory plus the values files and values.

use std::path::Path;

use kiln_bundle::Provenance;
use serde_json::Value;

use super::{Object, Prepared, RenderContext, check_object};
use crate::cache::KeyBuilder;
use crate::diag::{Error, Result};
use crate::resolve::{Job, Location, Planned};

/// Reads and hashes what the engine of a `kustomize` or `helm` component may read.
pub fn prepare<'a>(planned: &'a Planned, cx: &'a RenderContext<'a>) -> Result<Prepared<'a>> {
    match &planned.job {
        Job::Kustomize { dir, remote } => kustomize(planned, dir, remote, cx),
        Job::Helm {
            chart,
            release,
            namespace,
            values_files,
            values,
        } => helm(planned, chart, release, namespace, values_files, values, cx),
        _ => Err(Error::failure("kiln::build::internal", "not an engine job")),
    }
}

fn kustomize<'a>(
    planned: &'a Planned,
    dir: &'a Location,
    remote: &'a crate::sources::RemoteBases,
    cx: &'a RenderContext<'a>,
) -> Result<Prepared<'a>> {
    let full = dir.full();
    if !full.is_dir() {
        return Err(missing(planned, dir, cx, "kustomization directory"));
    }
    let mut key = KeyBuilder::new("kustomize");
    key.field(planned.name.as_bytes())
        .field(dir.source.as_deref().unwrap_or("").as_bytes())
        .field(dir.path.as_bytes())
        .field(remote.key.as_bytes());
    hash_tree(&mut key, &dir.root, cx, dir)?;
    Ok(Prepared::new(key.finish(), move || {
        let options = kiln_kustomize::Options {
            remote: remote.resolver.clone(),
            ..Default::default()
        };
        let rendered = kiln_kustomize::build_with_provenance(&full, &options)
            .map_err(|e| engine_failed(planned, "kustomize", dir, cx, e))?;
        let base = dir.path.trim_end_matches('/');
        rendered
            .into_iter()
            .map(|r| {
                let file = match &r.origin {
                    Some(o) => join(base, o),
                    None => join(base, "kustomization.yaml"),
                };
                checked(
                    planned,
                    cx,
                    r.object,
                    Provenance {
                        component: planned.name.clone(),
                        source: dir.source.clone(),
                        file,
                        line: 1,
                        producer: "kustomize".into(),
                    },
                )
            })
            .collect()
    }))
}

fn helm<'a>(
    planned: &'a Planned,
    chart: &'a Location,
    release: &'a str,
    namespace: &'a str,
    values_files: &[Location],
    values: &'a Value,
    cx: &'a RenderContext<'a>,
) -> Result<Prepared<'a>> {
    let full = chart.full();
    if !full.exists() {
        return Err(missing(planned, chart, cx, "chart"));
    }
    let mut key = KeyBuilder::new("helm");
    key.field(planned.name.as_bytes())
        .field(release.as_bytes())
        .field(namespace.as_bytes());
    key.field(&serde_json::to_vec(values).unwrap_or_default());
    hash_tree(&mut key, &full, cx, chart)?;
    let mut files = Vec::new();
    for vf in values_files {
        let path = vf.full();
        let bytes = std::fs::read(&path).map_err(|e| {
            Error::input(
                "kiln::helm::values-file",
                format!("cannot read values file `{}`", vf.display()),
            )
            .at(cx.project_file, vf.span, "unreadable values file")
            .help("the path is relative to its source, like every `source:path`")
            .caused_by(e)
        })?;
        key.field(vf.display().as_bytes()).field(&bytes);
        files.push(path);
    }
    Ok(Prepared::new(key.finish(), move || {
        let opts = kiln_helm::RenderOptions {
            release: release.to_string(),
            namespace: namespace.to_string(),
            values_files: files,
            values: values.clone(),
            include_crds: true,
            ..Default::default()
        };
        let rendered = kiln_helm::render(&full, &opts)
            .map_err(|e| engine_failed(planned, "helm", chart, cx, e))?;
        let base = chart.path.trim_end_matches('/');
        rendered
            .into_iter()
            .map(|r| {
                // Helm names templates `<chart name>/templates/…`; record the path inside the source.
                let inner = r
                    .template_path
                    .split_once('/')
                    .map(|(_, rest)| rest)
                    .unwrap_or(&r.template_path);
                let file = join(base, inner);
                checked(
                    planned,
                    cx,
                    r.object,
                    Provenance {
                        component: planned.name.clone(),
                        source: chart.source.clone(),
                        file,
                        line: r.line,
                        producer: "helm".into(),
                    },
                )
            })
            .collect()
    }))
}

fn join(base: &str, rel: &str) -> String {
    if base.is_empty() || base == "." {
        rel.to_string()
    } else {
        format!("{base}/{rel}")
    }
}

fn checked(
    planned: &Planned,
    cx: &RenderContext<'_>,
    object: Value,
    provenance: Provenance,
) -> Result<Object> {
    if let Err(problem) = check_object(&object) {
        return Err(Error::input(
            "kiln::engine::not-an-object",
            format!(
                "component `{}` produced a document that {problem} ({}:{})",
                planned.name, provenance.file, provenance.line
            ),
        )
        .at(cx.project_file, planned.span, "rendered here")
        .help("every rendered document needs `apiVersion`, `kind` and `metadata.name`"));
    }
    Ok((object, provenance))
}

fn missing(planned: &Planned, loc: &Location, cx: &RenderContext<'_>, what: &str) -> Error {
    Error::input(
        "kiln::engine::missing",
        format!(
            "{what} `{}` of component `{}` does not exist",
            loc.display(),
            planned.name
        ),
    )
    .at(cx.project_file, loc.span, "no such directory")
    .help(match &loc.source {
        Some(s) => format!("the path is relative to the directory of source `{s}`"),
        None => "the path is relative to the project directory".into(),
    })
}

fn engine_failed(
    planned: &Planned,
    engine: &str,
    loc: &Location,
    cx: &RenderContext<'_>,
    e: impl miette::Diagnostic + Send + Sync + 'static,
) -> Error {
    Error::input(
        if engine == "helm" {
            "kiln::engine::helm"
        } else {
            "kiln::engine::kustomize"
        },
        format!(
            "{engine} failed to render `{}` for component `{}`",
            loc.display(),
            planned.name
        ),
    )
    .at(cx.project_file, loc.span, format!("rendered by {engine}"))
    .related(e)
}

/// Hashes every regular file under `root` (hidden entries skipped), in path order.
fn hash_tree(
    key: &mut KeyBuilder,
    root: &Path,
    cx: &RenderContext<'_>,
    loc: &Location,
) -> Result<()> {
    if root.is_file() {
        let bytes = std::fs::read(root).map_err(|e| {
            Error::io_input("file", root, e).at(cx.project_file, loc.span, "unreadable")
        })?;
        key.field(&bytes);
        return Ok(());
    }
    let mut entries: Vec<_> = std::fs::read_dir(root)
        .map_err(|e| {
            Error::io_input("directory", root, e).at(cx.project_file, loc.span, "unreadable")
        })?
        .filter_map(|e| e.ok())
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        key.field(entry.file_name().to_string_lossy().as_bytes());
        if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            hash_tree(key, &path, cx, loc)?;
        } else if std::fs::metadata(&path).is_ok_and(|m| m.is_file())
            && let Ok(bytes) = std::fs::read(&path)
        {
            // Only regular files (or links to them): reading a FIFO would block.
            key.field(&bytes);
        }
    }
    Ok(())
}
