//! The `kiln` command line.

use std::ffi::OsStr;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod allocator;

/// The command line, over every subcommand ([`Cli`]) or the engines alone ([`EngineCli`]).
#[derive(Debug, Parser)]
#[command(
    name = "kiln",
    version,
    about = "A declarative GitOps config compiler for Kubernetes"
)]
struct CommandLine<C: Subcommand> {
    #[command(flatten)]
    global: kiln::cli::Global,
    #[command(subcommand)]
    command: C,
}

type Cli = CommandLine<Command>;

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
    #[command(flatten)]
    Engine(Engine),
}

/// The rendering engines, run once per overlay or chart, often hundreds of times in a CI job.
#[derive(Debug, Subcommand)]
enum Engine {
    /// Render a kustomization like `kubectl kustomize DIR`.
    Kustomize(kiln_kustomize::cli::Args),
    /// Helm-compatible commands (`kiln helm template`).
    #[command(subcommand)]
    Helm(kiln_helm::cli::Command),
}

/// The command line of `kiln kustomize …` and `kiln helm …` alone: parsing against it spares
/// building the whole command tree, a tenth of a small render's start-up. What users see (help,
/// errors, versions) is the same as under [`Cli`] (tested below).
type EngineCli = CommandLine<Engine>;

/// The engines report through their own diagnostics and do not log, so they skip logging set-up.
fn run_engine(engine: &Engine) -> ExitCode {
    match engine {
        Engine::Kustomize(args) => kiln_kustomize::cli::run(args),
        Engine::Helm(cmd) => kiln_helm::cli::run(cmd),
    }
}

fn names_an_engine(arg: Option<&OsStr>) -> bool {
    matches!(arg.and_then(OsStr::to_str), Some("kustomize" | "helm"))
}

fn main() -> ExitCode {
    if names_an_engine(std::env::args_os().nth(1).as_deref()) {
        return run_engine(&EngineCli::parse().command);
    }
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
        Command::Engine(engine) => return run_engine(engine),
    };
    kiln::cli::finish(result)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// What a user sees for `argv` under a command line: the parsed command, or the rendered
    /// help/usage/error text with its exit code.
    fn outcome<C: Parser + std::fmt::Debug>(argv: &[&str], pick: fn(&C) -> &Engine) -> String {
        match C::try_parse_from(argv) {
            Ok(cli) => format!("{:?}", pick(&cli)),
            Err(e) => format!("{} (exit {})", e.render(), e.exit_code()),
        }
    }

    #[test]
    fn engine_command_line_is_the_full_one_for_engines() {
        Cli::command().debug_assert();
        EngineCli::command().debug_assert();
        let cases: &[&[&str]] = &[
            &["kiln", "helm", "--help"],
            &["kiln", "helm", "template", "--help"],
            &["kiln", "helm", "template", "-h"],
            &["kiln", "kustomize", "--help"],
            &["kiln", "helm"],
            &["kiln", "helm", "templat"],
            &["kiln", "helm", "template"],
            &["kiln", "helm", "template", "r", "./chart", "--namespace"],
            &[
                "kiln", "helm", "template", "r", "./c", "-f", "v.yaml", "--set", "a=b", "-q",
            ],
            &["kiln", "helm", "--version"],
            &["kiln", "kustomize", "--bogus", "dir"],
            &["kiln", "kustomize", "overlay", "-v"],
        ];
        for argv in cases {
            let full = outcome::<Cli>(argv, |c| match &c.command {
                Command::Engine(e) => e,
                other => panic!("{other:?}"),
            });
            let lean = outcome::<EngineCli>(argv, |c| &c.command);
            assert_eq!(full, lean, "{argv:?}");
        }
    }

    #[test]
    fn only_an_engine_as_first_argument_takes_the_short_path() {
        assert!(names_an_engine(Some(OsStr::new("helm"))));
        assert!(names_an_engine(Some(OsStr::new("kustomize"))));
        for other in ["-v", "build", "--help", "helmx", "--version"] {
            assert!(!names_an_engine(Some(OsStr::new(other))), "{other}");
        }
        assert!(!names_an_engine(None));
    }
}
