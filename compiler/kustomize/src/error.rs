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
    /// A file that is not valid YAML, pointing at the offending spot.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Yaml(Box<YamlError>),
    /// An error that is not tied to one file (resource ids, references, ...).
    #[error("{message}")]
    #[diagnostic(code(kiln::kustomize::build))]
    Build {
        message: String,
        #[help]
        help: Option<String>,
    },
}

/// A YAML syntax error with the source text, so the report can show the offending line.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{file}: line {line}, column {column}: {message}")]
#[diagnostic(code(kiln::kustomize::yaml))]
pub struct YamlError {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
    #[source_code]
    pub src: miette::NamedSource<String>,
    #[label("{message}")]
    pub span: miette::SourceSpan,
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

    /// A YAML syntax error in `text` (the content of `file`) at a 1-based line and column.
    pub fn yaml(file: &str, text: &str, line: usize, column: usize, message: &str) -> Self {
        let start: usize = text
            .split_inclusive('\n')
            .take(line.saturating_sub(1))
            .map(str::len)
            .sum();
        let line_text = text[start.min(text.len())..].lines().next().unwrap_or("");
        let col_bytes: usize = line_text
            .chars()
            .take(column.saturating_sub(1))
            .map(char::len_utf8)
            .sum();
        let offset = (start + col_bytes).min(text.len());
        // The decoder's message repeats the position and draws its own snippet; the span
        // below replaces both.
        let first = message.lines().next().unwrap_or(message);
        let (context, first) = match first.split_once("error: ") {
            Some((context, rest)) => (context, rest),
            None => ("", first),
        };
        let first = match first.split_once(": ") {
            Some((pos, rest)) if pos.starts_with("line ") && pos.contains(" column ") => rest,
            _ => first,
        };
        let first = format!("{context}{first}");
        KustomizeError::Yaml(Box::new(YamlError {
            file: file.into(),
            line,
            column,
            message: first,
            src: miette::NamedSource::new(file, text.to_string()),
            span: (offset, 0).into(),
        }))
    }

    /// Adds a hint telling the user how to fix the problem.
    pub fn with_help(mut self, text: impl Into<String>) -> Self {
        match &mut self {
            KustomizeError::Field { help, .. }
            | KustomizeError::File { help, .. }
            | KustomizeError::Build { help, .. } => *help = Some(text.into()),
            KustomizeError::Yaml(_) => {}
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
