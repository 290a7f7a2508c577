//! The `kiln` command line.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod allocator;

#[derive(Debug, Parser)]
#[command(
    name = "kiln",
    version,
    about = "A declarative GitOps config compiler for Kubernetes"
)]
struct Cli {
    #[command(flatten)]
    global: kiln::cli::Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compile a project into one bundle per target.
    Build(kiln::cli::build::Args),
    /// Pin the project's remote sources in kiln.lock (resolving only what is missing).
    Lock(kiln::cli::sources::LockArgs),
    /// Move sources to the newest match of their declaration and print what changed.
    Update(kiln::cli::sources::UpdateArgs),
    /// Manage the shared sources cache.
    #[command(subcommand)]
    Cache(kiln::cli::sources::CacheCommand),
    /// Compare two bundles object by object (exit 0 when equal, 1 when different).
    Diff(kiln::cli::diff::Args),
    /// Show a bundle's objects, digests, provenance and waves.
    Inspect(kiln::cli::inspect::Args),
    /// Show the components of a project in dependency waves.
    Graph(kiln::cli::graph::Args),
    /// Recompute every digest of a bundle (exit 1 when anything was tampered with).
    Verify(kiln::cli::verify::Args),
    /// Push a bundle (or a project's target, built first) to an OCI registry; prints oci://…@sha256:….
    Push(kiln::cli::push::Args),
    /// Converge a cluster to a bundle (or to a project's target, built first).
    Apply(kiln::cli::apply::Args),
    /// List fields changed in the cluster since the last apply (exit 1 when anything drifted).
    Drift(kiln::cli::drift::Args),
    /// Apply again a previous bundle from a target's history.
    Rollback(kiln::cli::rollback::Args),
    /// Render a kustomization like `kubectl kustomize DIR`.
    Kustomize(kiln_kustomize::cli::Args),
    /// Helm-compatible commands (`kiln helm template`).
    #[command(subcommand)]
    Helm(kiln_helm::cli::Command),
}

fn main() -> ExitCode {
    allocator::keep_freed_memory();
    let cli = Cli::parse();
    kiln::cli::init_logging(&cli.global);
    let result = match &cli.command {
        Command::Build(args) => kiln::cli::build::run(&cli.global, args),
        Command::Lock(args) => kiln::cli::sources::run_lock(&cli.global, args),
        Command::Update(args) => kiln::cli::sources::run_update(&cli.global, args),
        Command::Cache(cmd) => kiln::cli::sources::run_cache(&cli.global, cmd),
        Command::Diff(args) => kiln::cli::diff::run(&cli.global, args),
        Command::Inspect(args) => kiln::cli::inspect::run(&cli.global, args),
        Command::Graph(args) => kiln::cli::graph::run(&cli.global, args),
        Command::Verify(args) => kiln::cli::verify::run(&cli.global, args),
        Command::Push(args) => kiln::cli::push::run(&cli.global, args),
        Command::Apply(args) => kiln::cli::apply::run(&cli.global, args),
        Command::Drift(args) => kiln::cli::drift::run(&cli.global, args),
        Command::Rollback(args) => kiln::cli::rollback::run(&cli.global, args),
        Command::Kustomize(args) => return kiln_kustomize::cli::run(args),
        Command::Helm(cmd) => return kiln_helm::cli::run(cmd),
    };
    kiln::cli::finish(result)
}
