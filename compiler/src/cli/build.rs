//! `kiln build`: compiles a project into one bundle per target, written atomically.
//!
//! Every selected target is compiled before anything is written, so a failure in one target
//! leaves every previous bundle untouched.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use super::{Failure, Global, Outcome, Progress};
use crate::build::{Built, Options, build};
use crate::cache::outputs::{OutputState, Written};
use crate::cache::{Cache, KeyBuilder};
use crate::diag::{Error, suggestion};
use crate::graph::Graph;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The project directory (holding kiln.kdl) or file.
    #[arg(default_value = ".")]
    pub project: PathBuf,
    /// The target to build (needed when the project has several).
    #[arg(long, short, conflicts_with = "all_targets")]
    pub target: Option<String>,
    /// Build every target, each into OUT/TARGET.
    #[arg(long)]
    pub all_targets: bool,
    /// Where to write: the bundle itself for one target, a directory of bundles for several
    /// [default: PROJECT/build/TARGET, or PROJECT/build with --all-targets].
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// A directory for review, or a single tar file (same digest).
    #[arg(long, value_enum, default_value_t = Format::Dir)]
    pub format: Format,
    /// The render cache [default: $KILN_CACHE_DIR, else the user cache directory].
    #[arg(long, env = "KILN_CACHE_DIR", hide_env_values = true)]
    pub cache_dir: Option<PathBuf>,
    /// Render everything again without reading or writing the cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Fail unless kiln.lock pins every remote source exactly (never writes the lock).
    #[arg(long)]
    pub locked: bool,
    /// Never use the network: remote sources must be locked and cached.
    #[arg(long)]
    pub offline: bool,
    /// Components rendered at once [default: the number of CPUs].
    #[arg(long, short, env = "KILN_JOBS")]
    pub jobs: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Dir,
    Tar,
}

pub fn run(global: &Global, args: &Args) -> Outcome {
    let started = Instant::now();
    let progress = Progress::new(global);
    let mut project = crate::project::load(&args.project)?;
    let graph = Graph::build(&project)?;
    let target_names: Vec<String> = match (&args.target, args.all_targets) {
        (_, true) => project.targets.keys().cloned().collect(),
        (Some(name), false) => match project.targets.get(name) {
            Some(_) => vec![name.clone()],
            None => {
                let names: Vec<&str> = project.targets.keys().map(String::as_str).collect();
                return Err(Error::input(
                    "kiln::cli::unknown-target",
                    format!("project `{}` has no target `{name}`", project.name.value),
                )
                .help(suggestion(name, &names))
                .into());
            }
        },
        (None, false) if project.targets.len() == 1 => project.targets.keys().cloned().collect(),
        (None, false) => {
            let names: Vec<String> = project.targets.keys().map(|n| format!("`{n}`")).collect();
            return Err(Error::input(
                "kiln::cli::choose-target",
                format!(
                    "project `{}` has {} targets",
                    project.name.value,
                    names.len()
                ),
            )
            .help(format!(
                "choose one with `--target` ({}) or build them all with `--all-targets`",
                names.join(", ")
            ))
            .into());
        }
    };
    let cache = if args.no_cache {
        None
    } else {
        args.cache_dir
            .clone()
            .or_else(Cache::default_dir)
            .map(Cache::new)
    };
    let sources = crate::sources::for_build(&mut project, args, global.quiet)?;
    let targets: Vec<&crate::model::Target> =
        target_names.iter().map(|n| &project.targets[n]).collect();
    let options = Options {
        cache,
        threads: args
            .jobs
            .unwrap_or_else(|| Options::default().threads)
            .max(1),
    };
    let several = args.all_targets;
    let base = args.out.clone().unwrap_or_else(|| {
        let build = project.root.join("build");
        if several {
            build
        } else {
            build.join(&targets[0].name.value)
        }
    });
    let lock = crate::sources::bundle_lock(&sources.lock);
    let mut results = Vec::new();
    for target in &targets {
        let mut out = if several {
            base.join(&target.name.value)
        } else {
            base.clone()
        };
        if several && args.format == Format::Tar {
            out.set_extension("tar");
        }
        progress.status(
            "Compiling",
            &format!(
                "{} for target {} ({} components)",
                project.name.value,
                target.name.value,
                project.components.len()
            ),
        );
        let mut state = OutputState::Unknown;
        let built = build(&project, &graph, target, &options, |key| {
            let key = output_key(key, lock.as_ref(), args.format);
            if let Some(cache) = &options.cache {
                state = cache.output_state(&out, &key);
            }
            matches!(state, OutputState::Current(_))
        })?;
        results.push((target, out, built, state));
    }
    for (target, out, built, state) in results {
        let written = match (built, state) {
            (Built::UpToDate { .. }, OutputState::Current(written)) => {
                progress.status("Fresh", &out.display().to_string());
                tracing::info!(target = %target.name.value, "bundle up to date: nothing rendered");
                written
            }
            (Built::UpToDate { .. }, _) => {
                return Err(Error::failure(
                    "kiln::build::internal",
                    "a build was skipped without a current output",
                )
                .into());
            }
            (
                Built::Compiled {
                    key,
                    mut spec,
                    stats,
                },
                state,
            ) => {
                tracing::info!(
                    target = %target.name.value,
                    rendered = stats.rendered.len(),
                    cached = stats.cached.len(),
                    "components rendered, components from the render cache"
                );
                spec.lock = lock.clone();
                progress.status("Writing", &out.display().to_string());
                if let Some(cache) = &options.cache {
                    cache.forget_output(&out);
                }
                let digest = match args.format {
                    Format::Dir => {
                        let previous = match state {
                            OutputState::Intact => kiln_bundle::Previous::Intact,
                            OutputState::Current(_) | OutputState::Unknown => {
                                kiln_bundle::Previous::Unknown
                            }
                        };
                        kiln_bundle::write_dir_over(&spec, &out, previous)
                    }
                    Format::Tar => kiln_bundle::write_tar(&spec, &out),
                }
                .map_err(|e| write_failure(e, &out))?;
                let written = Written {
                    digest: digest.to_string(),
                    objects: spec.components.iter().map(|c| c.objects.len()).sum(),
                    components: spec.components.len(),
                    waves: spec.waves.len(),
                };
                if let Some(cache) = &options.cache {
                    let key = output_key(&key, lock.as_ref(), args.format);
                    cache.record_output(&out, &key, &written);
                }
                written
            }
        };
        if !global.quiet {
            println!(
                "{}: {} objects in {} components, {} waves -> {} ({})",
                target.name.value,
                written.objects,
                written.components,
                written.waves,
                out.display(),
                written.digest
            );
        }
    }
    progress.status(
        "Finished",
        &format!("in {:.2}s", started.elapsed().as_secs_f64()),
    );
    Ok(ExitCode::SUCCESS)
}

/// The key an output stamp is recorded under: the build key, the lock the bundle embeds, the
/// output format and the identity of this `kiln` executable (so a rebuilt compiler never trusts
/// outputs of another build of itself).
fn output_key(build_key: &str, lock: Option<&serde_json::Value>, format: Format) -> String {
    let mut key = KeyBuilder::new("output");
    key.field(build_key.as_bytes())
        .field(&serde_json::to_vec(&lock).unwrap_or_default())
        .field(format!("{format:?}").as_bytes());
    if let Some(meta) = std::env::current_exe()
        .ok()
        .and_then(|exe| std::fs::metadata(exe).ok())
    {
        key.field(&meta.len().to_le_bytes());
        if let Ok(modified) = meta.modified() {
            key.field(format!("{modified:?}").as_bytes());
        }
    }
    key.finish()
}

/// Writing the output: a path the user chose that cannot be written is bad input (exit 2).
fn write_failure(e: kiln_bundle::BundleError, out: &Path) -> Failure {
    match e {
        kiln_bundle::BundleError::Io { .. } => Failure::Kiln(
            Error::input(
                "kiln::output",
                format!("cannot write the bundle to `{}`", out.display()),
            )
            .help(
                "choose an `--out` path whose parent is a writable directory; nothing was written",
            )
            .caused_by(e),
        ),
        other => Failure::Bundle(Box::new(other), 2),
    }
}
