//! The `kiln` subcommands other than the engines' own (`kustomize`, `helm`): argument types and
//! what each command does, printing results on stdout and diagnostics and progress on stderr.

pub mod apply;
pub mod build;
pub mod diff;
pub mod drift;
pub mod graph;
pub mod inspect;
pub mod push;
pub mod rollback;
pub mod sources;
pub mod verify;

use std::io::IsTerminal;
use std::process::ExitCode;

use miette::Diagnostic;

use crate::diag::Error;

/// Options every subcommand takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Global {
    /// Print nothing but errors.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Log more on stderr (-v info, -vv debug); `KILN_LOG` takes a tracing filter.
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// A failed command: a diagnostic and the exit code it maps to.
pub enum Failure {
    Kiln(Error),
    Bundle(Box<kiln_bundle::BundleError>, u8),
    /// Another crate's diagnostic (kept whole) and its exit code.
    Report(miette::Report, u8),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Kiln(e)
    }
}

/// What a command returns: the exit code on success (0, or 1 for "different"/"tampered").
pub type Outcome = Result<ExitCode, Failure>;

/// Sets up `tracing` on stderr.
pub fn init_logging(global: &Global) {
    let default = match (global.quiet, global.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        _ => "debug",
    };
    // The Kubernetes client logs each failed connection; `kiln apply` reports them as one
    // diagnostic, so its own logs show only with -vv.
    let default = if global.verbose < 2 {
        format!("{default},kube_client=off")
    } else {
        default.to_string()
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("KILN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .without_time()
        .try_init();
}

/// Prints a failure and turns the outcome into the process exit code.
pub fn finish(outcome: Outcome) -> ExitCode {
    match outcome {
        Ok(code) => code,
        Err(Failure::Kiln(e)) => {
            eprint!("{}", render(&e));
            ExitCode::from(e.exit_code())
        }
        Err(Failure::Bundle(e, code)) => {
            eprint!("{}", render(&*e));
            ExitCode::from(code)
        }
        Err(Failure::Report(e, code)) => {
            eprint!("{}", render(e.as_ref()));
            ExitCode::from(code)
        }
    }
}

/// Renders a diagnostic for stderr: colours only on a terminal.
pub fn render(d: &dyn Diagnostic) -> String {
    if std::io::stderr().is_terminal() {
        let mut out = String::new();
        let handler = miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode())
            .with_width(terminal_width());
        if handler.render_report(&mut out, d).is_ok() {
            return out;
        }
    }
    crate::diag::render_plain(d)
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100)
}

/// Progress and status lines on stderr, shown only on a terminal and never with `--quiet`.
pub struct Progress {
    enabled: bool,
}

impl Progress {
    pub fn new(global: &Global) -> Self {
        Progress {
            enabled: !global.quiet && std::io::stderr().is_terminal(),
        }
    }

    pub fn status(&self, verb: &str, message: &str) {
        if self.enabled {
            eprintln!("{verb:>12} {message}");
        }
    }
}

/// Opens a bundle, mapping failure to exit 2 (the path is the user's input).
pub fn open_bundle(path: &std::path::Path) -> Result<kiln_bundle::Bundle, Failure> {
    kiln_bundle::Bundle::open(path).map_err(|e| Failure::Bundle(Box::new(e), 2))
}
