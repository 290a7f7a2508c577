//! The `kiln-applier` agent binary.

use clap::Parser;

#[derive(Debug, Parser)]
#[command(
    name = "kiln-applier",
    version,
    about = "Verify a kiln bundle and converge a cluster to it"
)]
struct Cli {}

fn main() {
    let _ = Cli::parse();
}
