//! Errors of the kustomize engine: one diagnostic type that names the kustomization file, the
//! field and the offending value, so users can find what to fix without reading Go traces.

use std::path::PathBuf;

/// Everything that can go wrong while building a kustomization.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum KustomizeError {
    /// A field of a kustomization file holds a value kiln cannot use.
    #[error("{file}: field `{field}`: {message}")]
    #[diagnostic(code(kiln::kustomize::field))]
    Field {
        file: PathBuf,
        field: String,
        message: String,
        #[help]
        help: Option<String>,
    },
    /// A file could not be read or decoded.
    #[error("{file}: {message}")]
    #[diagnostic(code(kiln::kustomize::file))]
    File {
        file: PathBuf,
        message: String,
        #[help]
        help: Option<String>,
    },
    /// An error that is not tied to one file (resource ids, references, ...).
    #[error("{message}")]
    #[diagnostic(code(kiln::kustomize::build))]
    Build {
        message: String,
        #[help]
        help: Option<String>,
    },
}

impl KustomizeError {
    pub fn field(
        file: impl Into<PathBuf>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        KustomizeError::Field {
            file: file.into(),
            field: field.into(),
            message: message.into(),
            help: None,
        }
    }

    pub fn file(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        KustomizeError::File {
            file: file.into(),
            message: message.into(),
            help: None,
        }
    }

    pub fn build(message: impl Into<String>) -> Self {
        KustomizeError::Build {
            message: message.into(),
            help: None,
        }
    }

    /// Adds a hint telling the user how to fix the problem.
    pub fn with_help(mut self, text: impl Into<String>) -> Self {
        match &mut self {
            KustomizeError::Field { help, .. }
            | KustomizeError::File { help, .. }
            | KustomizeError::Build { help, .. } => *help = Some(text.into()),
        }
        self
    }

    /// Prefixes the message with context (which kustomization was being built).
    pub fn context(self, ctx: impl std::fmt::Display) -> Self {
        match self {
            KustomizeError::Build { message, help } => KustomizeError::Build {
                message: format!("{ctx}: {message}"),
                help,
            },
            other => other,
        }
    }
}

pub type Result<T, E = KustomizeError> = std::result::Result<T, E>;
