//! The build of one target: plan the components, render them in parallel, check the objects of
//! the whole target (duplicates), and assemble the `kiln-bundle` spec.
//!
//! Rendering runs on a fixed number of worker threads pulling components from a shared counter;
//! results land in per-component slots and everything after is sequential in declaration order,
//! so the output (and the error reported, if several components fail) never depends on thread
//! count or scheduling.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use kiln_bundle::{BundleSpec, ComponentSpec, ObjectId, ObjectKey, Provenance, Tenancy};

use crate::cache::Cache;
use crate::diag::{Error, Result, SourceFile};
use crate::graph::Graph;
use crate::model::{Project, SourceKind, Target};
use crate::render::manifests::display_name;
use crate::render::{Object, RenderContext, render};
use crate::resolve::{Planned, plan};

/// How to build.
#[derive(Debug, Clone)]
pub struct Options {
    pub cache: Option<Cache>,
    /// Worker threads for rendering (at least one).
    pub threads: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            cache: None,
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
        }
    }
}

/// The compiler's version as recorded in bundles.
pub fn compiler_version() -> String {
    format!("kiln {}", env!("CARGO_PKG_VERSION"))
}

/// Compiles `target` of `project` into a bundle spec.
pub fn compile(
    project: &Project,
    graph: &Graph,
    target: &Target,
    options: &Options,
) -> Result<BundleSpec> {
    let planned = plan(project, target)?;
    let cx = RenderContext {
        project_file: &project.file,
        project_root: project.root.clone(),
        cache: options.cache.as_ref(),
    };
    let rendered = render_all(&planned, &cx, options.threads.max(1));
    let mut components = Vec::with_capacity(planned.len());
    for (p, result) in planned.iter().zip(rendered) {
        components.push(ComponentSpec {
            name: p.name.clone(),
            depends_on: p.depends_on.clone(),
            objects: result?,
            tenancy: tenancy(project, &p.name),
        });
    }
    check_duplicates(project, &planned, &components)?;
    Ok(BundleSpec {
        project: project.name.value.clone(),
        target: target.name.value.clone(),
        compiler_version: compiler_version(),
        components,
        waves: graph.wave_names(),
        lock: None,
    })
}

/// The tenant policy a component declares, as the bundle records it.
fn tenancy(project: &Project, component: &str) -> Tenancy {
    let Some(c) = project.components.get(component) else {
        return Tenancy::default();
    };
    Tenancy {
        namespaces: c
            .namespaces
            .as_ref()
            .map(|ns| ns.iter().map(|n| n.value.clone()).collect()),
        service_account: c.service_account.as_ref().map(|s| s.value.clone()),
    }
}

fn render_all(
    planned: &[Planned],
    cx: &RenderContext<'_>,
    threads: usize,
) -> Vec<Result<Vec<Object>>> {
    let slots: Vec<Mutex<Option<Result<Vec<Object>>>>> =
        planned.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let work = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(p) = planned.get(i) else { break };
            let result = render(p, cx);
            *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
        }
    };
    let workers = threads.min(planned.len()).max(1);
    if workers == 1 {
        work();
    } else {
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(work);
            }
        });
    }
    slots
        .into_iter()
        .map(|s| {
            s.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .unwrap_or_else(|| {
                    Err(Error::failure(
                        "kiln::build::internal",
                        "a render worker stopped before finishing",
                    ))
                })
        })
        .collect()
}

/// Fails when two objects of the target have the same group, kind, namespace and name, showing
/// both places they came from.
fn check_duplicates(
    project: &Project,
    planned: &[Planned],
    components: &[ComponentSpec],
) -> Result<()> {
    let total = components.iter().map(|c| c.objects.len()).sum();
    let mut seen: HashMap<ObjectKey, (usize, usize)> = HashMap::with_capacity(total);
    for (ci, c) in components.iter().enumerate() {
        for (oi, (object, _)) in c.objects.iter().enumerate() {
            let id = ObjectId::of(object).map_err(|problem| {
                Error::failure(
                    "kiln::build::internal",
                    format!("an unchecked object {problem}"),
                )
            })?;
            if let Some(&(fc, fo)) = seen.get(&id.key()) {
                let first = &components[fc].objects[fo].1;
                let second = &c.objects[oi].1;
                let message = format!("{} is defined twice in target objects", id.key());
                let second_err = locate(project, &planned[ci], second, Error::input("kiln::build::duplicate", message), "defined again here")
                    .help("an object may appear once per target; remove one, or change its name or namespace");
                let first_err = locate(
                    project,
                    &planned[fc],
                    first,
                    Error::input(
                        "kiln::build::duplicate",
                        format!("first definition of {}", id.key()),
                    ),
                    "first defined here",
                );
                return Err(second_err.related(first_err));
            }
            seen.insert(id.key(), (ci, oi));
        }
    }
    Ok(())
}

/// Points `err` at where an object came from: its manifest document, or the renderer node.
fn locate(project: &Project, planned: &Planned, p: &Provenance, err: Error, label: &str) -> Error {
    if p.producer == "manifests" {
        let root: Option<PathBuf> = match &p.source {
            None => Some(project.root.clone()),
            Some(s) => match project.sources.get(s).map(|s| &s.kind) {
                Some(SourceKind::Path { path }) => {
                    Some(project.root.join(path.value.trim_start_matches("./")))
                }
                _ => None,
            },
        };
        if let Some(path) = root.map(|r| r.join(&p.file))
            && let Ok(text) = std::fs::read_to_string(&path)
        {
            let file = SourceFile::new(display_name(&path, &project.root), path, text);
            let span = file.line_span(p.line);
            return err.at(
                &file,
                span,
                format!("{label} (component `{}`)", p.component),
            );
        }
    }
    err.at(
        &project.file,
        planned.span,
        format!(
            "{label} (component `{}`, {}:{})",
            p.component, p.file, p.line
        ),
    )
}
