//! YAML for kiln: decoding Kubernetes manifests the way Go tooling does, and emitting YAML.
//!
//! Everything kiln reads (manifests, values files, kustomizations, chart metadata) is YAML, and
//! users expect it decoded the way `sigs.k8s.io/yaml` (Kubernetes, Helm, kustomize) decodes it.
//! This crate is the one place that knows how: callers get `serde_json::Value` documents with the
//! line each document starts on, so provenance can point at the source.
//!
//! Decoding first tries a hand-written reader for the common subset of YAML (module `fast`),
//! then builds values straight from parser events (module `decode`, scalars typed by `resolve`)
//! and leaves what neither covers, and every error, to serde-saphyr, so messages keep their
//! file positions. [`helm`] decodes as Helm does and scans a rendered manifest's head.
//!
//! It also writes YAML: [`to_canonical_string`] is the canonical form hashed into bundles
//! ([`emit`]), [`to_string`] prints objects as `kubectl kustomize` does ([`gostyle`]), and
//! [`parse_emitted`] reads the emitter's own output fast ([`emitted`]).

mod decode;
pub mod emit;
pub mod emitted;
mod eof_block_scalar;
mod fast;
pub mod gostyle;
pub mod helm;
mod resolve;

pub use emit::{EmitOptions, to_canonical_string, to_string, to_string_with};
pub use emitted::parse_emitted;
use serde_json::Value;

/// A decoded YAML document and the 1-based line where it starts in its file.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub value: Value,
    pub line: usize,
}

/// A YAML syntax or decoding error, with the 1-based position when the parser knows it.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub message: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

/// Which implicit types plain scalars resolve to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Resolution {
    /// YAML 1.1 as Go's `yaml.v2` (Helm, `sigs.k8s.io/yaml`) reads it: `yes`/`no`/`on`/`off`/
    /// `y`/`n` are booleans.
    #[default]
    Yaml11,
    /// YAML 1.2 as `yaml.v3` (kustomize's kyaml) reads it: only `true`/`false` (any case
    /// variant YAML lists) are booleans; `on`, `yes`, `y` stay strings.
    Yaml12,
}

fn options_for(resolution: Resolution) -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.legacy_octal_numbers = true;
    options.strict_booleans = resolution == Resolution::Yaml12;
    // Comments are not data; buffering them only fails texts with long commented-out blocks.
    options.emit_comments = false;
    options
}

fn to_error(e: serde_saphyr::Error) -> Error {
    let (line, column) = match e.location() {
        Some(loc) => (Some(loc.line() as usize), Some(loc.column() as usize)),
        None => (None, None),
    };
    Error {
        message: e.to_string(),
        line,
        column,
    }
}

/// Decodes one YAML document.
pub fn from_str(text: &str) -> Result<Value, Error> {
    from_str_with(text, Resolution::Yaml11)
}

/// Decodes one YAML document with the given scalar resolution.
pub fn from_str_with(text: &str, resolution: Resolution) -> Result<Value, Error> {
    let mode = decode::Mode {
        resolution,
        duplicates: decode::Duplicates::Unsupported,
        go_keys: false,
    };
    if let Some(value) = fast::single(text, mode) {
        return Ok(value);
    }
    match decode::single(text, mode) {
        Ok(value) => Ok(value),
        Err(decode::Unsupported) => complete(text, resolution),
    }
}

/// The complete decoder (serde-saphyr), for what the fast one leaves to it: rare constructs and
/// every error, so messages and positions are those users have always seen.
fn complete(text: &str, resolution: Resolution) -> Result<Value, Error> {
    let mut value: Value =
        serde_saphyr::from_str_with_options(text, options_for(resolution)).map_err(to_error)?;
    eof_block_scalar::trim_final_line_feed(text, &mut value);
    Ok(value)
}

/// Decodes a multi-document YAML stream, skipping empty documents, and records where each starts.
pub fn parse_documents(text: &str) -> Result<Vec<Document>, Error> {
    parse_documents_with(text, Resolution::Yaml11)
}

/// [`parse_documents`] with the given scalar resolution.
pub fn parse_documents_with(text: &str, resolution: Resolution) -> Result<Vec<Document>, Error> {
    let mut out = Vec::new();
    for (chunk, line) in split_documents(text) {
        if chunk.trim().is_empty() {
            continue;
        }
        let value = from_str_with(chunk, resolution).map_err(|mut err| {
            err.line = err.line.map(|l| l + line - 1);
            err
        })?;
        if value.is_null() {
            continue;
        }
        out.push(Document { value, line });
    }
    Ok(out)
}

/// Splits a stream at `---` document markers, returning each chunk with its 1-based start line
/// (the first line of content after the marker).
fn split_documents(text: &str) -> Vec<(&str, usize)> {
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut start_line = 1;
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let trimmed = line.trim_end();
        let is_marker =
            trimmed == "---" || trimmed.starts_with("--- ") || trimmed.starts_with("---\t");
        if is_marker {
            chunks.push((&text[start..offset], start_line));
            start = offset + line.len();
            start_line = i + 2;
            if trimmed.len() > 3 {
                // `--- value` starts a document on the marker line itself.
                start = offset + 4;
                start_line = i + 1;
            }
        }
        offset += line.len();
    }
    chunks.push((&text[start..], start_line));
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_keep_their_start_line() {
        let docs = parse_documents("a: 1\n---\n# c\nb: 2\n---\n---\nc: 3\n").unwrap();
        let lines: Vec<_> = docs.iter().map(|d| d.line).collect();
        assert_eq!(lines, vec![1, 3, 7]);
        assert_eq!(docs[1].value["b"], 2);
    }

    #[test]
    fn yaml_1_2_keeps_old_booleans_as_strings() {
        let text = "a: on\nb: yes\nc: y\nd: No\ne: true\nf: False\ng: 0777\n";
        let v12 = from_str_with(text, Resolution::Yaml12).unwrap();
        assert_eq!(v12["a"], "on");
        assert_eq!(v12["b"], "yes");
        assert_eq!(v12["c"], "y");
        assert_eq!(v12["d"], "No");
        assert_eq!(v12["e"], true);
        assert_eq!(v12["f"], false);
        assert_eq!(v12["g"], 511);
        let v11 = from_str(text).unwrap();
        assert_eq!(v11["a"], true);
        assert_eq!(v11["d"], false);
        let docs = parse_documents_with("x: off\n---\ny: on\n", Resolution::Yaml12).unwrap();
        assert_eq!(docs[0].value["x"], "off");
        assert_eq!(docs[1].value["y"], "on");
    }

    #[test]
    fn go_style_scalars() {
        let v = from_str("mode: 0777\nname: '0777'\n").unwrap();
        assert_eq!(v["mode"], 511);
        assert_eq!(v["name"], "0777");
    }
}

#[cfg(test)]
mod differential_tests;

#[cfg(test)]
mod fast_tests;
