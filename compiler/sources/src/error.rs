//! Diagnostics for everything that can go wrong while resolving or fetching a source.
//!
//! Every error names the source (as declared in the project), the URL involved (with any
//! credentials removed) and says what the user can do about it.

use std::time::Duration;

use miette::{Diagnostic, NamedSource, SourceSpan};

/// One failure of one source.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum SourceError {
    #[error("source `{source_name}`: cannot reach {url}")]
    #[diagnostic(
        code(kiln::source::unreachable),
        help(
            "check the URL and your network connection; if the source was fetched before, `--offline` builds from the cache"
        )
    )]
    Unreachable {
        source_name: String,
        url: String,
        detail: String,
        #[source]
        cause: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    #[error("source `{source_name}`: TLS with {url} failed: {detail}")]
    #[diagnostic(
        code(kiln::source::tls),
        help(
            "the server's certificate is not trusted; if a private CA issued it, give that CA's certificate (PEM) with `ca-file=` on the source, or list it in KILN_CA_CERTIFICATES"
        )
    )]
    Tls {
        source_name: String,
        url: String,
        detail: String,
    },

    #[error("source `{source_name}`: {url} did not answer within {after:?}")]
    #[diagnostic(
        code(kiln::source::timeout),
        help("the server hangs or is very slow; retry later or raise the timeout")
    )]
    Timeout {
        source_name: String,
        url: String,
        after: Duration,
    },

    #[error("source `{source_name}`: {url} answered HTTP {status}{}", attempts_note(*attempts))]
    #[diagnostic(code(kiln::source::http), help("{hint}"))]
    Http {
        source_name: String,
        url: String,
        status: u16,
        attempts: u32,
        hint: String,
    },

    #[error("source `{source_name}`: {what} not found at {url}")]
    #[diagnostic(code(kiln::source::not_found), help("{hint}"))]
    NotFound {
        source_name: String,
        url: String,
        what: String,
        hint: String,
    },

    #[error("source `{source_name}`: no version of {what} at {url} matches `{constraint}`")]
    #[diagnostic(code(kiln::source::no_match), help("{}", available_hint(available)))]
    NoMatchingVersion {
        source_name: String,
        url: String,
        what: String,
        constraint: String,
        available: Vec<String>,
    },

    #[error("source `{source_name}`: invalid version constraint `{constraint}`: {reason}")]
    #[diagnostic(
        code(kiln::source::constraint),
        help(
            "use Helm's constraint syntax, e.g. `^1.2`, `~1.2.3`, `1.2.x`, `>=1 <2`, `1.x || 2.x`"
        )
    )]
    InvalidConstraint {
        source_name: String,
        constraint: String,
        reason: String,
    },

    #[error("source `{source_name}`: invalid declaration: {reason}")]
    #[diagnostic(code(kiln::source::invalid), help("{hint}"))]
    InvalidSpec {
        source_name: String,
        reason: String,
        hint: String,
    },

    #[error("source `{source_name}`: digest mismatch for {url}: expected {expected}, got {actual}")]
    #[diagnostic(
        code(kiln::source::digest_mismatch),
        help(
            "the server delivered different bytes than its index or the lock promises (a corrupted download or a republished artifact); retry, and if it persists ask the publisher, or run `kiln update {source_name}` to accept the new content"
        )
    )]
    DigestMismatch {
        source_name: String,
        url: String,
        expected: String,
        actual: String,
    },

    #[error("source `{source_name}`: unsafe archive from {url}: entry `{entry}` {reason}")]
    #[diagnostic(
        code(kiln::source::unsafe_archive),
        help(
            "the archive tries to write outside its directory; it was rejected and nothing was written to the cache"
        )
    )]
    UnsafeArchive {
        source_name: String,
        url: String,
        entry: String,
        reason: String,
    },

    #[error("source `{source_name}`: cannot read the archive from {url}: {detail}")]
    #[diagnostic(
        code(kiln::source::bad_archive),
        help("the download is not a valid (gzip) tar archive; it may be truncated or corrupted")
    )]
    BadArchive {
        source_name: String,
        url: String,
        detail: String,
    },

    #[error("source `{source_name}`: git: {detail} ({url})")]
    #[diagnostic(code(kiln::source::git), help("{hint}"))]
    Git {
        source_name: String,
        url: String,
        detail: String,
        hint: String,
    },

    #[error("source `{source_name}`: OCI registry: {detail} ({url})")]
    #[diagnostic(code(kiln::source::oci), help("{hint}"))]
    Oci {
        source_name: String,
        url: String,
        detail: String,
        hint: String,
    },

    #[error("source `{source_name}` is not in kiln.lock")]
    #[diagnostic(
        code(kiln::lock::missing),
        help("run `kiln lock` to pin it, then commit kiln.lock")
    )]
    NotLocked { source_name: String },

    #[error("source `{source_name}`: kiln.lock is stale ({detail})")]
    #[diagnostic(
        code(kiln::lock::stale),
        help(
            "the declaration changed since the lock was written; run `kiln lock` (or `kiln update {source_name}`) and commit kiln.lock"
        )
    )]
    Stale { source_name: String, detail: String },

    #[error("kiln.lock pins `{source_name}`, which the project no longer declares")]
    #[diagnostic(
        code(kiln::lock::extra),
        help("run `kiln lock` to drop it, then commit kiln.lock")
    )]
    Unused { source_name: String },

    #[error("source `{source_name}` is not in the cache and --offline forbids the network")]
    #[diagnostic(
        code(kiln::source::not_cached),
        help("run the same command once without --offline to fill the cache")
    )]
    NotCached { source_name: String },

    #[error(
        "source `{source_name}`: the fetched content is {actual}, but kiln.lock pins {expected}"
    )]
    #[diagnostic(
        code(kiln::source::content_changed),
        help(
            "the upstream content behind an immutable identity changed, or the fetch is not reproducible; inspect the source, then run `kiln update {source_name}` to accept it"
        )
    )]
    ContentChanged {
        source_name: String,
        expected: String,
        actual: String,
    },

    #[error("cache: {action} {path}")]
    #[diagnostic(
        code(kiln::cache::io),
        help(
            "check permissions and free space of the cache directory (set KILN_CACHE_DIR to move it)"
        )
    )]
    Cache {
        action: String,
        path: String,
        #[source]
        cause: std::io::Error,
    },
}

fn attempts_note(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}

fn available_hint(available: &[String]) -> String {
    if available.is_empty() {
        "nothing is published there; check the URL and name".to_string()
    } else {
        const SHOWN: usize = 10;
        let mut list = available
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if available.len() > SHOWN {
            list.push_str(&format!(", … ({} more)", available.len() - SHOWN));
        }
        format!("newest available: {list}; widen the constraint or pick one of these")
    }
}

impl SourceError {
    /// The declared name of the source the error is about (none for cache I/O).
    pub fn source_name(&self) -> Option<&str> {
        match self {
            SourceError::Unreachable { source_name, .. }
            | SourceError::Timeout { source_name, .. }
            | SourceError::Tls { source_name, .. }
            | SourceError::Http { source_name, .. }
            | SourceError::NotFound { source_name, .. }
            | SourceError::NoMatchingVersion { source_name, .. }
            | SourceError::InvalidConstraint { source_name, .. }
            | SourceError::InvalidSpec { source_name, .. }
            | SourceError::DigestMismatch { source_name, .. }
            | SourceError::UnsafeArchive { source_name, .. }
            | SourceError::BadArchive { source_name, .. }
            | SourceError::Git { source_name, .. }
            | SourceError::Oci { source_name, .. }
            | SourceError::NotLocked { source_name }
            | SourceError::Stale { source_name, .. }
            | SourceError::Unused { source_name }
            | SourceError::NotCached { source_name }
            | SourceError::ContentChanged { source_name, .. } => Some(source_name),
            SourceError::Cache { .. } => None,
        }
    }

    pub(crate) fn cache(action: &str, path: &std::path::Path, cause: std::io::Error) -> Self {
        SourceError::Cache {
            action: action.to_string(),
            path: path.display().to_string(),
            cause,
        }
    }
}

/// A malformed `kiln.lock`.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("kiln.lock is invalid: {message}")]
#[diagnostic(
    code(kiln::lock::parse),
    help("kiln.lock is generated; fix the conflict or delete it and run `kiln lock`")
)]
pub struct LockParseError {
    pub message: String,
    #[source_code]
    pub src: NamedSource<String>,
    #[label("here")]
    pub span: Option<SourceSpan>,
}

/// All failures of one resolution (every failing source is reported, not only the first).
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{} source(s) failed", errors.len())]
#[diagnostic(code(kiln::sources))]
pub struct ResolveError {
    #[related]
    pub errors: Vec<SourceError>,
}

impl From<SourceError> for ResolveError {
    fn from(e: SourceError) -> Self {
        ResolveError { errors: vec![e] }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(e: &SourceError) -> String {
        format!(
            "{e}\n  code: {}\n  help: {}",
            e.code().map(|c| c.to_string()).unwrap_or_default(),
            e.help().map(|h| h.to_string()).unwrap_or_default()
        )
    }

    #[test]
    fn messages_name_the_source_the_url_and_what_to_do() {
        let errors = [
            SourceError::NoMatchingVersion {
                source_name: "podinfo".into(),
                url: "https://charts.example".into(),
                what: "chart `podinfo`".into(),
                constraint: "^7".into(),
                available: (0..12).map(|i| format!("6.{i}.0")).collect(),
            },
            SourceError::DigestMismatch {
                source_name: "podinfo".into(),
                url: "https://charts.example/podinfo-6.5.4.tgz".into(),
                expected: "sha256:aaaa".into(),
                actual: "sha256:bbbb".into(),
            },
            SourceError::Http {
                source_name: "app".into(),
                url: "https://git.example/app.git".into(),
                status: 503,
                attempts: 4,
                hint: "the server failed; retry later".into(),
            },
            SourceError::NotCached {
                source_name: "app".into(),
            },
            SourceError::Stale {
                source_name: "app".into(),
                detail: "its declaration differs from the one recorded".into(),
            },
        ];
        let text = errors.iter().map(render).collect::<Vec<_>>().join("\n\n");
        insta::assert_snapshot!(text);
    }
}
