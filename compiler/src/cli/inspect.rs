//! `kiln inspect BUNDLE`: a verified bundle's waves, components, objects, digests and provenance.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{Global, Outcome, open_bundle};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A bundle directory or tar file.
    pub bundle: PathBuf,
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Text,
    Json,
}

pub fn run(_global: &Global, args: &Args) -> Outcome {
    let bundle = open_bundle(&args.bundle)?;
    match args.output {
        Output::Json => {
            let out = serde_json::json!({
                "digest": bundle.digest(),
                "manifest": bundle.manifest(),
            });
            println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        }
        Output::Text => print!("{}", text(&bundle)),
    }
    Ok(ExitCode::SUCCESS)
}

/// The human-readable listing.
pub fn text(bundle: &kiln_bundle::Bundle) -> String {
    let m = bundle.manifest();
    let objects: usize = m.components.iter().map(|c| c.objects.len()).sum();
    let mut out = format!(
        "bundle   {}\nproject  {}\ntarget   {}\ncompiler {}\n{} objects in {} components, {} waves\n",
        bundle.digest(),
        m.project,
        m.target,
        m.compiler,
        objects,
        m.components.len(),
        m.waves.len()
    );
    for (w, wave) in m.waves.iter().enumerate() {
        out.push_str(&format!("\nwave {w}: {}\n", wave.join(", ")));
        for c in m.components.iter().filter(|c| c.wave == w) {
            let deps = if c.depends_on.is_empty() {
                String::new()
            } else {
                format!(" <- {}", c.depends_on.join(", "))
            };
            out.push_str(&format!("  component {}{deps}\n", c.name));
            for o in &c.objects {
                let p = &o.provenance;
                let source = p
                    .source
                    .as_deref()
                    .map(|s| format!("{s}:"))
                    .unwrap_or_default();
                out.push_str(&format!(
                    "    {}  {}\n      {}  from {source}{}:{} ({})\n",
                    o.id,
                    o.file,
                    o.digest.short(16),
                    p.file,
                    p.line,
                    p.producer
                ));
            }
        }
    }
    out
}
