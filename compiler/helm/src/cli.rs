//! `kiln helm template NAME CHART ...`: the command-line face of the engine, shaped like `helm template`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::{Chart, RenderOptions};

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
        Command::Template(args) => match template(args) {
            Ok(text) => {
                let mut out = std::io::stdout().lock();
                if out
                    .write_all(text.as_bytes())
                    .and_then(|_| out.flush())
                    .is_err()
                {
                    return ExitCode::from(1);
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{:?}", miette::Report::new(e));
                ExitCode::from(1)
            }
        },
    }
}

fn template(args: &TemplateArgs) -> Result<String, crate::HelmError> {
    let chart = Chart::load(&args.chart)?;
    let opts = RenderOptions {
        release: args.name.clone(),
        namespace: args.namespace.clone(),
        kube_version: args.kube_version.clone(),
        values_files: args.values.clone(),
        set: args.set.clone(),
        values: serde_json::Value::Object(serde_json::Map::new()),
        include_crds: args.include_crds,
    };
    let rendered = crate::render::render_chart(&chart, &opts)?;
    Ok(rendered.to_helm_output())
}
