//! Errors of a strategic merge: malformed patches and unreadable OpenAPI documents.

use miette::Diagnostic;
use thiserror::Error;

/// Why a strategic merge patch could not be applied.
#[derive(Debug, Error, Diagnostic, Clone, PartialEq, Eq)]
pub enum SmpError {
    /// The patch and the object disagree on the shape of a field (map, list or scalar).
    #[error("wrong node kind at `{path}`: expected {expected} but got {found}")]
    #[diagnostic(
        code(kiln::smp::kind_mismatch),
        help(
            "a patch must give a field the same shape (map, list or scalar) as the object, or null to delete it"
        )
    )]
    KindMismatch {
        /// Dotted path of the field.
        path: String,
        /// Shape of the object's field (or the first non-null side).
        expected: &'static str,
        /// Shape of the other side.
        found: &'static str,
    },
    /// A `$patch` directive with a value other than `delete`, `replace` or `merge`.
    #[error("unknown patch strategy '{value}' at `{path}`")]
    #[diagnostic(
        code(kiln::smp::unknown_directive),
        help("`$patch` takes `delete`, `replace` or `merge`")
    )]
    UnknownDirective {
        /// Dotted path of the map or list holding the directive.
        path: String,
        /// The directive's value.
        value: String,
    },
    /// Objects nested deeper than any real resource.
    #[error("object nested deeper than {limit} levels at `{path}`")]
    #[diagnostic(code(kiln::smp::too_deep))]
    TooDeep {
        /// Dotted path where the limit was reached.
        path: String,
        /// The nesting limit.
        limit: usize,
    },
    /// A custom OpenAPI document that cannot serve as merge schema.
    #[error("invalid OpenAPI document: {reason}")]
    #[diagnostic(
        code(kiln::smp::invalid_openapi),
        help(
            "the document needs a `definitions` map of OpenAPI v2 schemas, as `kubectl get --raw /openapi/v2` prints"
        )
    )]
    InvalidOpenApi {
        /// What is wrong with it.
        reason: String,
    },
}

impl SmpError {
    /// The same error, located one step further from the root (`segment` is a field name or
    /// a `[key=value]` list item).
    pub(crate) fn within(mut self, segment: &str) -> SmpError {
        if let SmpError::KindMismatch { path, .. } | SmpError::UnknownDirective { path, .. } =
            &mut self
        {
            *path = match path.as_str() {
                "" => segment.to_string(),
                rest if rest.starts_with('[') => format!("{segment}{rest}"),
                rest => format!("{segment}.{rest}"),
            };
        }
        self
    }
}
