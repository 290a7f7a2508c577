//! `kiln lock`, `kiln update [SOURCE…]` and `kiln cache gc`: pinning remote sources in
//! `kiln.lock` and keeping the shared sources cache small.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use kiln_sources::{Mode, Which};

use super::{Failure, Global, Outcome, Progress};
use crate::sources::{self, LOCK_FILE};

/// Where the project is and where the sources cache lives.
#[derive(Debug, clap::Args)]
pub struct ProjectArgs {
    /// The project directory (holding kiln.kdl) or file.
    #[arg(long, short, default_value = ".")]
    pub project: PathBuf,
    /// The cache [default: $KILN_CACHE_DIR, else the user cache directory].
    #[arg(long, env = "KILN_CACHE_DIR", hide_env_values = true)]
    pub cache_dir: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct LockArgs {
    /// The project directory (holding kiln.kdl) or file.
    #[arg(default_value = ".")]
    pub project: PathBuf,
    /// The cache [default: $KILN_CACHE_DIR, else the user cache directory].
    #[arg(long, env = "KILN_CACHE_DIR", hide_env_values = true)]
    pub cache_dir: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// The sources to move to the newest match of their declaration [default: all].
    pub sources: Vec<String>,
    #[command(flatten)]
    pub project: ProjectArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum CacheCommand {
    /// Remove cached sources that the project's lock does not pin and that were not used
    /// recently (other projects share the cache).
    Gc(GcArgs),
}

#[derive(Debug, clap::Args)]
pub struct GcArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    /// Keep unpinned entries used within this many days.
    #[arg(long, default_value_t = 30)]
    pub keep_days: u64,
}

/// `kiln lock`: resolve what `kiln.lock` is missing (or what changed), drop what is no longer
/// declared, and write it.
pub fn run_lock(global: &Global, args: &LockArgs) -> Outcome {
    let project = ProjectArgs {
        project: args.project.clone(),
        cache_dir: args.cache_dir.clone(),
    };
    resolve_and_print(global, &project, &Mode::Lock)
}

/// `kiln update [SOURCE…]`: move sources to the newest match and print what changed.
pub fn run_update(global: &Global, args: &UpdateArgs) -> Outcome {
    let which = if args.sources.is_empty() {
        Which::All
    } else {
        Which::Only(args.sources.clone())
    };
    resolve_and_print(global, &args.project, &Mode::Update(which))
}

fn resolve_and_print(global: &Global, args: &ProjectArgs, mode: &Mode) -> Outcome {
    let progress = Progress::new(global);
    let project = crate::project::load(&args.project)?;
    progress.status("Resolving", &format!("sources of {}", project.name.value));
    let cache_dir = args.cache_dir.clone();
    let r = sources::resolve(
        &project,
        || sources::open_engine(cache_dir),
        mode,
        global.quiet,
    )?;
    if !global.quiet {
        for change in &r.changes {
            println!("{change}");
        }
        if r.changes.is_empty() {
            println!("{LOCK_FILE}: up to date ({} sources)", r.lock.sources.len());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `kiln cache gc`: keeps what the project's lock pins.
pub fn run_cache(global: &Global, command: &CacheCommand) -> Outcome {
    let CacheCommand::Gc(args) = command;
    let path = &args.project.project;
    let keep: BTreeSet<String> = if path.is_file() || path.join("kiln.kdl").is_file() {
        let project = crate::project::load(path)?;
        sources::read_lock(&project)?
            .sources
            .values()
            .map(|e| e.content.clone())
            .collect()
    } else {
        BTreeSet::new()
    };
    let engine = sources::open_engine(args.project.cache_dir.clone())?;
    let report = engine
        .cache()
        .gc(&keep, Duration::from_secs(args.keep_days * 24 * 3600))
        .map_err(|e| Failure::Report(miette::Report::new(e), 1))?;
    if !global.quiet {
        println!(
            "removed {} entries ({} bytes), kept {}",
            report.removed_entries, report.removed_bytes, report.kept_entries
        );
    }
    Ok(ExitCode::SUCCESS)
}
