//! `kiln diff A B`: what changes between two bundles, for review (text, markdown, JSON).
//!
//! Both bundles are verified in full (every digest), but only objects whose digest differs
//! between the two are decoded, which keeps a diff of large bundles fast. Either side may be an
//! artifact (`oci://…`), pulled and verified into the bundle cache first.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{Failure, Global, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The old bundle (directory, tar or oci:// reference).
    pub from: PathBuf,
    /// The new bundle (directory, tar or oci:// reference).
    pub to: PathBuf,
    #[command(flatten)]
    pub registry: super::apply::RegistryArgs,
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
    let (from, from_name) = local(global, &args.registry, &args.from)?;
    let (to, to_name) = local(global, &args.registry, &args.to)?;
    let mut diff =
        kiln_bundle::diff_paths(&from, &to).map_err(|e| Failure::Bundle(Box::new(e), 2))?;
    diff.from.path = from_name;
    diff.to.path = to_name;
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

/// The local path of one side (pulling an artifact first) and the name to show for it.
fn local(
    global: &Global,
    registry: &super::apply::RegistryArgs,
    input: &Path,
) -> Result<(PathBuf, String), Failure> {
    match super::apply::oci_reference(input)? {
        Some(reference) => {
            let pulled = registry.pull(global, &reference)?;
            Ok((
                pulled.bundle.path().to_path_buf(),
                pulled.reference.to_string(),
            ))
        }
        None => Ok((input.to_path_buf(), input.display().to_string())),
    }
}
