//! `helm`-shaped entry point for the engine alone (`helm template NAME CHART ...`), used to run the
//! conformance corpus and benchmarks without building the whole `kiln` binary.

use clap::Parser;

#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    cmd: kiln_helm::cli::Command,
}

fn main() -> std::process::ExitCode {
    // Accept `helm template ...` as well as `template ...`, so it can stand in for `kiln helm`.
    let args = std::env::args()
        .enumerate()
        .filter(|(i, a)| !(*i == 1 && a == "helm"))
        .map(|(_, a)| a);
    kiln_helm::cli::run(&Args::parse_from(args).cmd)
}
