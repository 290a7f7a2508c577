//! `kiln helm template NAME CHART ...`: the command-line face of the engine, shaped like `helm template`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::{HelmError, RenderOptions, Rendered};

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
///
/// Exit status: 0 on success, 2 when the input is at fault (missing chart, unreadable or invalid
/// values, template parse or execution errors, schema violations, `required`/`fail`), 1 when kiln
/// itself failed (output could not be written, or a bug).
pub fn run(cmd: &Command) -> ExitCode {
    match cmd {
        Command::Template(args) => {
            crate::dispose::leave_to_process_exit();
            let result =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    render(args).and_then(|rendered| {
                        let written = write_stdout(&rendered);
                        crate::dispose::dispose(rendered);
                        written
                    })
                }))
                .unwrap_or_else(|panic| {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    Err(HelmError::internal(format!("internal error: {what}")).with_help(
                    "this is a bug in kiln: please report it with the chart that triggers it",
                ))
                });
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    let code = e.exit_code();
                    eprintln!("{:?}", miette::Report::new(e));
                    ExitCode::from(code)
                }
            }
        }
    }
}

fn write_stdout(rendered: &Rendered) -> Result<(), HelmError> {
    let stdout = std::io::stdout().lock();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout);
    rendered
        .write_helm_output(&mut out)
        .and_then(|_| out.flush())
        .map_err(|e| HelmError::internal(format!("writing the output: {e}")))
}

/// Renders what `kiln helm template` prints, or the error it reports.
pub fn template(args: &TemplateArgs) -> Result<String, HelmError> {
    let rendered = render(args)?;
    let text = rendered.to_helm_output();
    crate::dispose::dispose(rendered);
    Ok(text)
}

fn render(args: &TemplateArgs) -> Result<Rendered, HelmError> {
    let opts = RenderOptions {
        release: args.name.clone(),
        namespace: args.namespace.clone(),
        kube_version: args.kube_version.clone(),
        values_files: args.values.clone(),
        set: args.set.clone(),
        values: serde_json::Value::Object(serde_json::Map::new()),
        include_crds: args.include_crds,
    };
    crate::render::render_path(&args.chart, &opts)
}
