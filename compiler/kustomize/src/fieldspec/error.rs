//! Errors of transformer configurations and field-spec traversal.

use thiserror::Error;

/// A malformed transformer configuration, or a field path that does not fit an object.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum FieldSpecError {
    /// A configuration value of the wrong shape.
    #[error("{at}: {message}")]
    Invalid { at: String, message: String },
    /// A configuration key kustomize does not know (configurations are read strictly).
    #[error("{at}: unknown field `{field}`")]
    UnknownField { at: String, field: String },
    /// Two specs for the same field disagree on `create`.
    #[error("conflicting fieldspecs in {section}: `{path}` is given both with and without create")]
    Conflict { section: String, path: String },
    /// The path meets a value it cannot step into.
    #[error("considering field '{path}': {message}")]
    Traversal { path: String, message: String },
}

impl FieldSpecError {
    pub(super) fn invalid(at: &str, message: &str) -> FieldSpecError {
        FieldSpecError::Invalid {
            at: at.to_string(),
            message: message.to_string(),
        }
    }

    pub(super) fn unknown_field(at: &str, field: &str) -> FieldSpecError {
        FieldSpecError::UnknownField {
            at: at.to_string(),
            field: field.to_string(),
        }
    }
}
