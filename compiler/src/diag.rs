//! Diagnostics: every failure of the compiler is an [`Error`] that miette renders with the file,
//! line, column, a label, a hint and related locations.
//!
//! One error type for the whole pipeline keeps the exit code policy in one place: input the user
//! can fix exits 2, everything else (I/O on the output, engines failing) exits 1.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceSpan};

/// The text of a file a diagnostic can point into, named as the user should see it.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name shown in diagnostics: relative to the project root where possible.
    pub name: String,
    /// Where the file was read from.
    pub path: PathBuf,
    pub text: Arc<str>,
}

impl SourceFile {
    pub fn new(
        name: impl Into<String>,
        path: impl Into<PathBuf>,
        text: impl Into<Arc<str>>,
    ) -> Self {
        SourceFile {
            name: name.into(),
            path: path.into(),
            text: text.into(),
        }
    }

    fn named(&self) -> NamedSource<Arc<str>> {
        NamedSource::new(&self.name, self.text.clone())
    }

    /// The byte span of the start of 1-based `line`, for labels on a whole document.
    pub fn line_span(&self, line: usize) -> SourceSpan {
        let mut offset = 0;
        for (i, l) in self.text.split_inclusive('\n').enumerate() {
            if i + 1 == line {
                let len = l.trim_end_matches(['\n', '\r']).len();
                return SourceSpan::new(offset.into(), len);
            }
            offset += l.len();
        }
        SourceSpan::new(self.text.len().into(), 0)
    }

    /// The byte span of 1-based `line` and `column` (one character wide).
    pub fn point_span(&self, line: usize, column: usize) -> SourceSpan {
        let start = self.line_span(line).offset();
        let rest = &self.text[start..];
        let col = rest
            .char_indices()
            .nth(column.saturating_sub(1))
            .map(|(i, _)| i)
            .unwrap_or(rest.len());
        let width = rest[col..].chars().next().map(char::len_utf8).unwrap_or(0);
        SourceSpan::new((start + col).into(), width)
    }
}

/// Whether a failure is the user's input (exit 2) or a failure to do the work (exit 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Input,
    Failure,
}

/// A compiler diagnostic. The details are boxed so `Result<T, Error>` stays small.
#[derive(Debug)]
pub struct Error {
    pub code: &'static str,
    pub kind: Kind,
    detail: Box<Detail>,
}

#[derive(Debug)]
struct Detail {
    message: String,
    source_code: Option<NamedSource<Arc<str>>>,
    labels: Vec<LabeledSpan>,
    help: Option<String>,
    related: Vec<Box<dyn Diagnostic + Send + Sync + 'static>>,
    cause: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

/// Results of the compiler.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A problem in the user's input (exit code 2).
    pub fn input(code: &'static str, message: impl Into<String>) -> Self {
        Error {
            code,
            kind: Kind::Input,
            detail: Box::new(Detail {
                message: message.into(),
                source_code: None,
                labels: Vec::new(),
                help: None,
                related: Vec::new(),
                cause: None,
            }),
        }
    }

    /// A failure to carry out the work (exit code 1).
    pub fn failure(code: &'static str, message: impl Into<String>) -> Self {
        let mut e = Error::input(code, message);
        e.kind = Kind::Failure;
        e
    }

    /// Points the diagnostic at `span` of `file` with `label`.
    pub fn at(mut self, file: &SourceFile, span: SourceSpan, label: impl Into<String>) -> Self {
        self.detail.source_code = Some(file.named());
        self.detail.labels = vec![LabeledSpan::new_with_span(Some(label.into()), span)];
        self
    }

    /// Adds one more label in the same file.
    pub fn and_label(mut self, span: SourceSpan, label: impl Into<String>) -> Self {
        self.detail
            .labels
            .push(LabeledSpan::new_with_span(Some(label.into()), span));
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.detail.help = Some(help.into());
        self
    }

    /// Attaches a related diagnostic, shown after this one (a second location, an engine's own
    /// report with its snippet).
    pub fn related(mut self, other: impl Diagnostic + Send + Sync + 'static) -> Self {
        self.detail.related.push(Box::new(other));
        self
    }

    /// Records the underlying error (I/O, engine) in the cause chain.
    pub fn caused_by(mut self, cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.detail.cause = Some(Box::new(cause));
        self
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self.kind {
            Kind::Input => 2,
            Kind::Failure => 1,
        }
    }

    /// Renders the diagnostic without colours at a fixed width, as tests and logs want it.
    pub fn render_plain(&self) -> String {
        render_plain(self)
    }

    /// An I/O error on a path the user named (a file or directory to read).
    pub fn io_input(what: &str, path: &Path, err: std::io::Error) -> Self {
        Error::input(
            "kiln::io",
            format!("cannot read {what} `{}`", path.display()),
        )
        .help(io_hint(&err))
        .caused_by(err)
    }
}

fn io_hint(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => {
            "check the path; paths are relative to the source they name".into()
        }
        std::io::ErrorKind::PermissionDenied => "check the permissions of the path".into(),
        _ => format!("the operating system said: {err}"),
    }
}

/// Renders any diagnostic the way the CLI prints it to a non-terminal.
pub fn render_plain(diagnostic: &dyn Diagnostic) -> String {
    let mut out = String::new();
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(100)
            .with_links(false);
    if handler.render_report(&mut out, diagnostic).is_err() {
        out = diagnostic.to_string();
    }
    out
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.detail
            .cause
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl Diagnostic for Error {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.detail
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.detail
            .source_code
            .as_ref()
            .map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.detail.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.detail.labels.iter().cloned()))
        }
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.detail.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.detail.related.iter().map(|e| &**e as &dyn Diagnostic),
            ))
        }
    }
}

/// The closest candidate to `word` among `candidates`, when it is close enough to suggest.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// A hint naming the closest candidate, or listing what is allowed.
pub fn suggestion(word: &str, candidates: &[&str]) -> String {
    match did_you_mean(word, candidates.iter().copied()) {
        Some(c) => format!("did you mean `{c}`?"),
        None if candidates.is_empty() => "nothing is defined here".into(),
        None => format!(
            "expected one of: {}",
            candidates
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_closest_name() {
        assert_eq!(
            did_you_mean("depend-on", ["depends-on", "manifests"]),
            Some("depends-on")
        );
        assert_eq!(did_you_mean("zzz", ["depends-on"]), None);
        assert_eq!(suggestion("zzz", &["a", "b"]), "expected one of: `a`, `b`");
    }

    #[test]
    fn spans_point_at_lines_and_columns() {
        let f = SourceFile::new("f", "f", "ab\ncdé\n");
        assert_eq!(f.line_span(2), SourceSpan::new(3.into(), 4));
        assert_eq!(f.point_span(2, 3), SourceSpan::new(5.into(), 2));
    }

    #[test]
    fn exit_codes_follow_the_kind() {
        assert_eq!(Error::input("x", "m").exit_code(), 2);
        assert_eq!(Error::failure("x", "m").exit_code(), 1);
    }
}
