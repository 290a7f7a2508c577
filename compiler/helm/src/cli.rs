//! `kiln helm template NAME CHART ...`: the command-line face of the engine, shaped like `helm template`.

use std::path::PathBuf;
use std::process::ExitCode;

/// `kiln helm` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Render a chart like `helm template`.
    Template(TemplateArgs),
}

/// Arguments of `kiln helm template`, matching `helm template`.
#[derive(Debug, clap::Args)]
pub struct TemplateArgs {
    /// Release name.
    pub name: String,
    /// Chart directory or .tgz.
    pub chart: PathBuf,
    #[arg(long, short = 'n', default_value = "default")]
    pub namespace: String,
    #[arg(long)]
    pub kube_version: Option<String>,
    /// Values files, later ones win.
    #[arg(long = "values", short = 'f')]
    pub values: Vec<PathBuf>,
    /// `key=value` overrides with Helm's --set syntax.
    #[arg(long = "set")]
    pub set: Vec<String>,
    #[arg(long)]
    pub include_crds: bool,
}

/// Runs the command, printing what `helm template` prints on stdout and diagnostics on stderr.
pub fn run(cmd: &Command) -> ExitCode {
    match cmd {
        Command::Template(args) => {
            eprintln!(
                "kiln helm template {}: the engine is being built",
                args.name
            );
            ExitCode::from(1)
        }
    }
}
