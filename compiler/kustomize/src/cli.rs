//! `kiln kustomize DIR`: the command-line face of the engine, shaped like `kubectl kustomize DIR`.

use std::io::Write;
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
    let restrict_to_root = match args.load_restrictor.as_str() {
        "LoadRestrictionsRootOnly" | "rootOnly" => true,
        "LoadRestrictionsNone" | "none" => false,
        other => {
            eprintln!(
                "error: --load-restrictor must be LoadRestrictionsRootOnly or LoadRestrictionsNone, got {other}"
            );
            return ExitCode::from(2);
        }
    };
    let options = crate::Options {
        restrict_to_root,
        remote: None,
    };
    let result = crate::build(&args.dir, &options)
        .and_then(|objects| crate::output::to_yaml_stream(&objects));
    match result {
        Ok(text) => {
            let mut out = std::io::stdout().lock();
            if out.write_all(text.as_bytes()).is_err() {
                return ExitCode::from(1);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{:?}", miette::Report::new(e));
            ExitCode::from(1)
        }
    }
}
