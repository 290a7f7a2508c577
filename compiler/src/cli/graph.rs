//! `kiln graph`: the components of a project in dependency waves, as text or Graphviz DOT.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{Global, Outcome};
use crate::graph::Graph;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The project directory (holding kiln.kdl) or file.
    #[arg(default_value = ".")]
    pub project: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Dot,
}

pub fn run(_global: &Global, args: &Args) -> Outcome {
    let project = crate::project::load(&args.project)?;
    let graph = Graph::build(&project)?;
    match args.format {
        Format::Dot => print!("{}", graph.to_dot(&project.name.value)),
        Format::Text => print!("{}", text(&project, &graph)),
    }
    Ok(ExitCode::SUCCESS)
}

/// One line per wave, then each component with what it depends on.
pub fn text(project: &crate::model::Project, graph: &Graph) -> String {
    let mut out = String::new();
    for (i, wave) in graph.wave_names().iter().enumerate() {
        out.push_str(&format!("wave {i}\n"));
        for name in wave {
            let c = &project.components[name];
            let deps: Vec<&str> = c.depends_on.iter().map(|d| d.value.as_str()).collect();
            if deps.is_empty() {
                out.push_str(&format!("  {name} ({})\n", c.renderer.kind()));
            } else {
                out.push_str(&format!(
                    "  {name} ({}) <- {}\n",
                    c.renderer.kind(),
                    deps.join(", ")
                ));
            }
        }
    }
    out
}
