//! `kiln kustomize DIR`: the command-line face of the engine, shaped like `kubectl kustomize DIR`.

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `kiln kustomize`, matching `kubectl kustomize`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The kustomization directory to build.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// `LoadRestrictionsRootOnly` (default) or `LoadRestrictionsNone`.
    #[arg(long, default_value = "LoadRestrictionsRootOnly")]
    pub load_restrictor: String,
}

/// Runs the command, printing multi-document YAML on stdout and diagnostics on stderr.
pub fn run(args: &Args) -> ExitCode {
    eprintln!(
        "kiln kustomize {}: the engine is being built",
        args.dir.display()
    );
    ExitCode::from(1)
}
