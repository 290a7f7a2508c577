//! `kiln diff A B`: what changes between two bundles, for review (text, markdown, JSON).

use std::path::PathBuf;
use std::process::ExitCode;

use super::{Global, Outcome, open_bundle};

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
    let from = open_bundle(&args.from)?;
    let to = open_bundle(&args.to)?;
    let diff = kiln_bundle::diff(&from, &to);
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
