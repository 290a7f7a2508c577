//! `helm`-shaped entry point for the engine alone (`helm template NAME CHART ...`), used to run the
//! conformance corpus and benchmarks without building the whole `kiln` binary.

use clap::Parser;

#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    cmd: kiln_helm::cli::Command,
}

fn main() -> std::process::ExitCode {
    kiln_helm::cli::run(&Args::parse().cmd)
}
