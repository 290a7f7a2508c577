//! Template errors, displayed exactly as Go's `text/template` prints them and structured so that
//! callers can build diagnostics (file, line, column, byte offset, the chain of nested templates).

use std::fmt;

/// A place in a parsed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Name the file was parsed under (Go's `ParseName`), e.g. `mychart/templates/x.yaml`.
    pub parse_name: String,
    /// 1-based line.
    pub line: usize,
    /// 0-based byte column, as Go prints it.
    pub col: usize,
    /// Byte offset into the file's text.
    pub offset: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.parse_name, self.line, self.col)
    }
}

/// A syntax error. Go prints `template: NAME:LINE: MESSAGE` (no column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub location: Location,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "template: {}:{}: {}",
            self.location.parse_name, self.location.line, self.message
        )
    }
}

impl std::error::Error for ParseError {}

/// An error while executing. Go prints
/// `template: FILE:LINE:COL: executing "NAME" at <NODE>: MESSAGE`.
#[derive(Debug, Clone)]
pub struct ExecError {
    /// The template being executed (Go's `ExecError.Name`).
    pub template: String,
    /// Where in the source, when the error is tied to a node.
    pub location: Option<Location>,
    /// Go's rendering of the node being evaluated (what sits between `<` and `>`).
    pub context: String,
    /// The message after the location part (includes `error calling F: ` prefixes and nested
    /// errors' text, as in Go).
    pub message: String,
    /// The nested template error, when a function such as `include` failed running another template.
    pub cause: Option<Box<Error>>,
    /// `{{ template }}` calls that led here, outermost first: (called template name, call site).
    pub call_stack: Vec<(String, Location)>,
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(loc) => write!(
                f,
                "template: {loc}: executing {} at <{}>: {}",
                crate::gofmt::quote(&self.template),
                self.context,
                self.message
            ),
            None => write!(f, "template: {}: {}", self.template, self.message),
        }
    }
}

impl std::error::Error for ExecError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Any error of the engine.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error(transparent)]
    Exec(#[from] Box<ExecError>),
    /// Executing a name no template has (Go: `template: no template "x" associated with template "y"`).
    #[error(
        "template: no template {} associated with template {}",
        crate::gofmt::quote(name),
        crate::gofmt::quote(set)
    )]
    NoTemplate { name: String, set: String },
    /// A bad `Option` string (Go panics: `unrecognized option: X`).
    #[error("unrecognized option: {0}")]
    BadOption(String),
}

impl Error {
    /// The innermost error of an include chain (the one that actually failed).
    pub fn innermost(&self) -> &Error {
        match self {
            Error::Exec(e) if e.cause.is_some() => {
                e.cause.as_deref().map_or(self, Error::innermost)
            }
            other => other,
        }
    }

    /// Where the error happened in this template (not in nested ones).
    pub fn location(&self) -> Option<&Location> {
        match self {
            Error::Parse(p) => Some(&p.location),
            Error::Exec(e) => e.location.as_ref(),
            _ => None,
        }
    }
}
