//! `kiln verify BUNDLE`: recomputes every digest and names every tampered, missing or extra file.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{Failure, Global, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A bundle directory or tar file.
    pub bundle: PathBuf,
    #[arg(long, value_enum, default_value_t = super::inspect::Output::Text)]
    pub output: super::inspect::Output,
}

pub fn run(global: &Global, args: &Args) -> Outcome {
    let report = kiln_bundle::verify(&args.bundle).map_err(|e| Failure::Bundle(Box::new(e), 2))?;
    match args.output {
        super::inspect::Output::Json => println!("{}", report.to_json()),
        super::inspect::Output::Text if !report.is_ok() || !global.quiet => {
            print!("{}", report.to_text())
        }
        super::inspect::Output::Text => {}
    }
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
