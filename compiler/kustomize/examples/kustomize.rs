//! `kiln kustomize` without the rest of kiln: a small binary for profiling the engine
//! (`cargo build --release -p kiln-kustomize --example kustomize`), whose start-up cost is
//! the engine's own rather than the whole CLI's.

use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: kiln_kustomize::cli::Args,
}

fn main() -> std::process::ExitCode {
    kiln_kustomize::cli::run(&Cli::parse().args)
}
