//! Per-target resolution: evaluates a component's template strings against one target and turns
//! its renderer into a [`Job`] with every path resolved to a declared source.
//!
//! Paths are written `source:path` (or a plain path, relative to the project directory); a
//! `helm` chart may also name a source alone (`helm "podinfo"`), meaning the chart at its root.
//! Remote sources (Git, Helm repositories, OCI) must have been fetched by [`crate::sources`]
//! before planning; their content directories are in [`Project::fetched`].

use std::path::{Path, PathBuf};

use miette::SourceSpan;
use serde_json::Value;

use crate::diag::{Error, Result, suggestion};
use crate::model::{Component, Project, Renderer, SourceKind, Spanned, Target};
use crate::stdlib::{self, StdComponent};
use crate::template::{Templater, target_context};

/// A file or directory (or glob) inside a source, as a render job reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    /// The declared source, `None` for the project directory itself.
    pub source: Option<String>,
    /// The source's root directory.
    pub root: PathBuf,
    /// The path inside the root, `/`-separated, possibly a glob.
    pub path: String,
    /// Where the path was written in `kiln.kdl`.
    pub span: SourceSpan,
}

impl Location {
    /// The absolute (or cwd-relative) path on disk.
    pub fn full(&self) -> PathBuf {
        if self.path.is_empty() || self.path == "." {
            self.root.clone()
        } else {
            self.root.join(&self.path)
        }
    }

    /// How the location is written for users: `source:path`.
    pub fn display(&self) -> String {
        match &self.source {
            Some(s) => format!("{s}:{}", self.path),
            None => self.path.clone(),
        }
    }
}

/// What rendering one component takes, with every template evaluated for the target.
#[derive(Debug, Clone)]
pub enum Job {
    Manifests {
        inputs: Vec<Location>,
    },
    Kustomize {
        dir: Location,
        /// Where remote resources of the kustomization are read from.
        remote: crate::sources::RemoteBases,
    },
    Helm {
        chart: Location,
        release: String,
        namespace: String,
        values_files: Vec<Location>,
        values: Value,
    },
    Stdlib {
        component: &'static StdComponent,
        params: serde_json::Map<String, Value>,
        context: Value,
    },
}

/// A component ready to render for one target.
#[derive(Debug, Clone)]
pub struct Planned {
    pub name: String,
    pub depends_on: Vec<String>,
    /// The renderer node, for diagnostics about the component's output.
    pub span: SourceSpan,
    pub job: Job,
}

/// The template context of a target: `project`, `target` and `vars`.
pub fn context(project: &Project, target: &Target) -> Result<Value> {
    let bare = target_context(&project.name.value, &target.name.value, None, Value::Null);
    let templater = Templater::new(&project.file, bare);
    let vars = templater.value(&target.vars)?;
    Ok(target_context(
        &project.name.value,
        &target.name.value,
        target.context.as_ref().map(|c| c.value.as_str()),
        vars,
    ))
}

/// Resolves every component of `project` for `target`, in declaration order.
pub fn plan(project: &Project, target: &Target) -> Result<Vec<Planned>> {
    let ctx = context(project, target)?;
    let templater = Templater::new(&project.file, ctx.clone());
    let remote = crate::sources::remote_bases(project);
    project
        .components
        .values()
        .map(|c| plan_component(project, c, &templater, &ctx, &remote))
        .collect()
}

fn plan_component(
    project: &Project,
    component: &Component,
    t: &Templater<'_>,
    ctx: &Value,
    remote: &crate::sources::RemoteBases,
) -> Result<Planned> {
    let locate = |s: &Spanned<String>| -> Result<Location> { locate(project, s, &t.string(s)?) };
    let job = match &component.renderer {
        Renderer::Manifests { paths, .. } => Job::Manifests {
            inputs: paths.iter().map(locate).collect::<Result<_>>()?,
        },
        Renderer::Kustomize { path, .. } => Job::Kustomize {
            dir: locate(path)?,
            remote: remote.clone(),
        },
        Renderer::Helm {
            chart,
            release,
            namespace,
            values_files,
            values,
            ..
        } => Job::Helm {
            chart: {
                let value = t.string(chart)?;
                match project.sources.get(value.as_str()) {
                    Some(_) if !value.contains(':') => {
                        self::locate(project, chart, &format!("{value}:."))?
                    }
                    _ => self::locate(project, chart, &value)?,
                }
            },
            release: match release {
                Some(r) => t.string(r)?,
                None => component.name.value.clone(),
            },
            namespace: match namespace {
                Some(n) => t.string(n)?,
                None => "default".to_string(),
            },
            values_files: values_files.iter().map(locate).collect::<Result<_>>()?,
            values: match values {
                Some(v) => t.value(v)?,
                None => Value::Object(Default::default()),
            },
        },
        Renderer::Use { span, name, params } => {
            let Some(std) = stdlib::get(&name.value)? else {
                return Err(stdlib::unknown(&project.file, name)?);
            };
            Job::Stdlib {
                component: std,
                params: std.bind(&project.file, *span, params, t)?,
                context: ctx.clone(),
            }
        }
    };
    Ok(Planned {
        name: component.name.value.clone(),
        depends_on: component
            .depends_on
            .iter()
            .map(|d| d.value.clone())
            .collect(),
        span: component.renderer.span(),
        job,
    })
}

/// Resolves an evaluated `source:path` string to a location on disk.
fn locate(project: &Project, written: &Spanned<String>, value: &str) -> Result<Location> {
    let (source, path) = match value.split_once(':') {
        Some((s, p)) if !s.is_empty() && !s.contains('/') => (Some(s), p),
        _ => (None, value),
    };
    let path = path.trim_start_matches("./").to_string();
    if Path::new(&path).is_absolute() || path.split('/').any(|seg| seg == "..") {
        return Err(Error::input("kiln::source::escape", format!("path `{value}` leaves its source"))
            .at(&project.file, written.span, "absolute or `..` path")
            .help("paths are relative to their source (or the project directory) and stay inside it, so builds do not depend on where they run"));
    }
    let Some(name) = source else {
        return Ok(Location {
            source: None,
            root: project.root.clone(),
            path,
            span: written.span,
        });
    };
    let Some(src) = project.sources.get(name) else {
        let names: Vec<&str> = project.sources.keys().map(String::as_str).collect();
        return Err(Error::input(
            "kiln::source::undefined",
            format!("`{value}` refers to source `{name}`, which is not defined"),
        )
        .at(&project.file, written.span, "undefined source")
        .help(if names.is_empty() {
            format!("declare it, e.g. `source \"{name}\" path=\"./{name}\"`")
        } else {
            suggestion(name, &names)
        }));
    };
    match &src.kind {
        SourceKind::Path { path: root } => {
            let root_path = root.value.trim_start_matches("./");
            if Path::new(root_path).is_absolute() || root_path.split('/').any(|seg| seg == "..") {
                return Err(Error::input("kiln::source::escape", format!("source `{name}` points outside the project"))
                    .at(&project.file, root.span, "absolute or `..` path")
                    .help("a local source is a directory inside the project, so the build is the same wherever the project is checked out"));
            }
            Ok(Location { source: Some(name.to_string()), root: project.root.join(root_path), path, span: written.span })
        }
        _ if project.fetched.contains_key(name) => Ok(Location { source: Some(name.to_string()), root: project.fetched[name].clone(), path, span: written.span }),
        remote => Err(Error::input("kiln::source::not-fetched", format!("{} source `{name}` was not fetched", remote.describe()))
            .at(&project.file, written.span, format!("uses the {} source `{name}`", remote.describe()))
            .and_label(src.span, "declared here")
            .help("remote sources are fetched (and pinned in kiln.lock) before rendering: `kiln build` does it, or run `kiln lock` first")),
    }
}
