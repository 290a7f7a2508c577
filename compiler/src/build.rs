//! The build of one target: plan the components, render them in parallel, check the objects of
//! the whole target (duplicates), and assemble the `kiln-bundle` spec.
//!
//! A build runs in two parallel phases. First every component's inputs are read and hashed into
//! its render key ([`crate::render::prepare`]); the keys and the rest of the spec (names,
//! dependencies, waves, policies) make the *build key*, which names the whole output. A caller
//! that already holds the output for that key (see [`crate::cache::outputs`]) can stop there:
//! nothing is rendered, loaded or hashed again. Otherwise each component's objects come from
//! the render cache or its renderer, and [`Stats`] says which.
//!
//! Work is spread over a fixed number of worker threads pulling components from a shared
//! counter; results land in per-component slots and everything after is sequential in
//! declaration order, so the output (and the error reported, if several components fail) never
//! depends on thread count or scheduling.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use kiln_bundle::{BundleSpec, ComponentSpec, ObjectId, ObjectKey, Provenance, Tenancy};

use crate::cache::{Cache, KeyBuilder};
use crate::diag::{Error, Result, SourceFile};
use crate::graph::Graph;
use crate::model::{Project, SourceKind, Target};
use crate::render::manifests::display_name;
use crate::render::{Origin, Prepared, RenderContext, prepare};
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

/// How each component's objects were obtained in one build, by component name in declaration
/// order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Components whose renderer ran.
    pub rendered: Vec<String>,
    /// Components whose objects came from the render cache (their renderer did not run).
    pub cached: Vec<String>,
}

/// The result of [`build`].
#[derive(Debug)]
pub enum Built {
    /// The caller holds the output of this build key already; nothing was rendered.
    UpToDate { key: String },
    Compiled {
        key: String,
        spec: Box<BundleSpec>,
        stats: Stats,
    },
}

/// Compiles `target` of `project` into a bundle spec.
pub fn compile(
    project: &Project,
    graph: &Graph,
    target: &Target,
    options: &Options,
) -> Result<BundleSpec> {
    match build(project, graph, target, options, |_| false)? {
        Built::Compiled { spec, .. } => Ok(*spec),
        Built::UpToDate { .. } => Err(Error::failure(
            "kiln::build::internal",
            "a build that may not be skipped was skipped",
        )),
    }
}

/// Compiles `target` of `project`, unless `up_to_date` says the output of the build key (the
/// digest of every input of the bundle) is already in place.
pub fn build(
    project: &Project,
    graph: &Graph,
    target: &Target,
    options: &Options,
    up_to_date: impl FnOnce(&str) -> bool,
) -> Result<Built> {
    let planned = plan(project, target)?;
    let cx = RenderContext {
        project_file: &project.file,
        project_root: project.root.clone(),
        cache: options.cache.as_ref(),
    };
    let threads = options.threads.max(1);
    let prepared = parallel(&planned, threads, |_, p| prepare(p, &cx))
        .into_iter()
        .collect::<Result<Vec<_>>>()?;
    let mut skeleton = BundleSpec {
        project: project.name.value.clone(),
        target: target.name.value.clone(),
        compiler_version: compiler_version(),
        components: planned
            .iter()
            .map(|p| ComponentSpec {
                name: p.name.clone(),
                depends_on: p.depends_on.clone(),
                objects: Vec::new(),
                tenancy: tenancy(project, &p.name),
            })
            .collect(),
        waves: graph.wave_names(),
        lock: None,
    };
    let key = build_key(&skeleton, &prepared);
    if up_to_date(&key) {
        tracing::info!(target = %target.name.value, key, "output is up to date");
        return Ok(Built::UpToDate { key });
    }
    let slots: Vec<Mutex<Option<Prepared<'_>>>> =
        prepared.into_iter().map(|p| Mutex::new(Some(p))).collect();
    let results = parallel(&planned, threads, |i, p| {
        let job = slots[i].lock().unwrap_or_else(|e| e.into_inner()).take();
        let job = job.ok_or_else(|| {
            Error::failure("kiln::build::internal", "a component was rendered twice")
        })?;
        let result = job.run(options.cache.as_ref());
        if let Ok((_, origin)) = &result {
            tracing::info!(component = %p.name, ?origin, "objects ready");
        }
        result
    });
    let mut stats = Stats::default();
    for ((component, p), result) in skeleton.components.iter_mut().zip(&planned).zip(results) {
        let (objects, origin) = result?;
        component.objects = objects;
        match origin {
            Origin::Rendered => stats.rendered.push(p.name.clone()),
            Origin::Cached => stats.cached.push(p.name.clone()),
        }
    }
    check_duplicates(project, &planned, &skeleton.components)?;
    Ok(Built::Compiled {
        key,
        spec: Box::new(skeleton),
        stats,
    })
}

/// The digest of everything a bundle is made from: the spec without objects (every field it has
/// now or gains later, through its `Debug` form, which is deterministic) and each component's
/// render key, which covers its objects.
fn build_key(skeleton: &BundleSpec, prepared: &[Prepared<'_>]) -> String {
    let mut key = KeyBuilder::new("build");
    key.field(format!("{skeleton:?}").as_bytes());
    for p in prepared {
        key.field(p.key.as_bytes());
    }
    key.finish()
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

/// Runs `f` on every item on up to `threads` threads; results in item order.
fn parallel<'a, T: Sync, R: Send>(
    items: &'a [T],
    threads: usize,
    f: impl Fn(usize, &'a T) -> Result<R> + Sync,
) -> Vec<Result<R>> {
    let slots: Vec<Mutex<Option<Result<R>>>> = items.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let work = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else { break };
            let result = f(i, item);
            *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
        }
    };
    let workers = threads.min(items.len()).max(1);
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
                        "a worker stopped before finishing",
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
