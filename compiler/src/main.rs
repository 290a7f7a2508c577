//! The `kiln` command line.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "kiln",
    version,
    about = "A declarative GitOps config compiler for Kubernetes"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Render a kustomization like `kubectl kustomize DIR`.
    Kustomize(kiln_kustomize::cli::Args),
    /// Helm-compatible commands (`kiln helm template`).
    #[command(subcommand)]
    Helm(kiln_helm::cli::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Command::Kustomize(args) => kiln_kustomize::cli::run(args),
        Command::Helm(cmd) => kiln_helm::cli::run(cmd),
    }
}
