//! `kiln diff A B`: what changes between two bundles, for review (text, markdown, JSON).
//!
//! Both bundles are verified in full (every digest), but only objects whose digest differs
//! between the two are decoded, which keeps a diff of large bundles fast.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{Failure, Global, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The old bundle (directory or tar).
    pub from: PathBuf,
    /// The new bundle (directory or tar).
    pub to: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Markdown,
    Json,
}

pub fn run(global: &Global, args: &Args) -> Outcome {
    let diff = kiln_bundle::diff_paths(&args.from, &args.to)
        .map_err(|e| Failure::Bundle(Box::new(e), 2))?;
    let out = match args.format {
        Format::Text => diff.to_text(),
        Format::Markdown => diff.to_markdown(),
        Format::Json => diff.to_json(),
    };
    if !global.quiet || args.format == Format::Json {
        print!("{out}");
        if !out.ends_with('\n') {
            println!();
        }
    }
    Ok(if diff.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
