//! Errors of building, writing and opening bundles.
//!
//! Each is a `miette` diagnostic with a code and a hint; errors about a file carry its path, and
//! errors about an object carry its provenance so the user can find the document that caused it.

use crate::model::Provenance;
use crate::verify::VerifyReport;
use miette::Diagnostic;
use std::path::PathBuf;

/// Anything that can go wrong building, writing or opening a bundle.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum BundleError {
    #[error("{}: object {reason}", at(provenance))]
    #[diagnostic(
        code(kiln::bundle::invalid_object),
        help("every object needs `apiVersion`, `kind` and `metadata.name` strings")
    )]
    InvalidObject {
        provenance: Box<Provenance>,
        reason: String,
    },

    #[error("{id} is defined twice: at {} and at {}", at(first), at(second))]
    #[diagnostic(
        code(kiln::bundle::duplicate_object),
        help(
            "an object may appear once per target; remove one or give it another name or namespace"
        )
    )]
    DuplicateObject {
        id: String,
        first: Box<Provenance>,
        second: Box<Provenance>,
    },

    #[error("provenance of an object in component `{component}` names an absolute file `{file}`")]
    #[diagnostic(
        code(kiln::bundle::absolute_provenance),
        help(
            "record files relative to their source or project root, so the bundle does not depend on where it was built"
        )
    )]
    AbsoluteProvenance { component: String, file: String },

    #[error("invalid bundle spec: {0}")]
    #[diagnostic(
        code(kiln::bundle::invalid_spec),
        help("every component must be in exactly one wave, after the components it depends on")
    )]
    InvalidSpec(String),

    #[error("cannot {action} `{}`", path.display())]
    #[diagnostic(code(kiln::bundle::io))]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("refusing to replace `{}`: it exists and is not a kiln bundle", path.display())]
    #[diagnostic(
        code(kiln::bundle::output_not_a_bundle),
        help("choose an output path that does not exist, is empty, or holds a previous bundle")
    )]
    OutputNotABundle { path: PathBuf },

    #[error("`{}` is not a bundle: {reason}", path.display())]
    #[diagnostic(
        code(kiln::bundle::unreadable),
        help(
            "a bundle is a directory with a `bundle.json`, or a tar file written by `kiln build`"
        )
    )]
    Unreadable { path: PathBuf, reason: String },

    #[error("bundle `{}` failed verification:\n{}", report.path, problem_lines(report))]
    #[diagnostic(
        code(kiln::bundle::unverified),
        help("rebuild the bundle with `kiln build`; run `kiln verify` to list every problem")
    )]
    Unverified { report: Box<VerifyReport> },

    #[error("cannot serialize the manifest")]
    #[diagnostic(code(kiln::bundle::serialize))]
    Serialize(#[source] serde_json::Error),
}

/// The first problems of a report, one per line, for the error message.
fn problem_lines(report: &VerifyReport) -> String {
    const SHOWN: usize = 10;
    let mut lines: Vec<String> = report
        .problems
        .iter()
        .take(SHOWN)
        .map(|p| format!("  {}", p.describe()))
        .collect();
    if report.problems.len() > SHOWN {
        lines.push(format!("  … and {} more", report.problems.len() - SHOWN));
    }
    lines.join("\n")
}

fn at(p: &Provenance) -> String {
    let source = p
        .source
        .as_deref()
        .map(|s| format!("{s}:"))
        .unwrap_or_default();
    format!(
        "{source}{}:{} (component `{}`)",
        p.file, p.line, p.component
    )
}

impl BundleError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        BundleError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
