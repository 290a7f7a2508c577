//! Decoding YAML the way Helm does (`sigs.k8s.io/yaml`): YAML → JSON → Go values, so every number
//! becomes a float64 (`1000000` later prints as `1e+06`, as in Helm).

use std::path::Path;

use serde_json::{Map, Number, Value};

use crate::error::HelmError;

/// A YAML decoding error with its position.
#[derive(Debug)]
pub struct YamlError {
    pub message: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl YamlError {
    /// Turns the error into a diagnostic about `path`, prefixed like Helm's messages.
    pub fn into_helm(self, path: &Path, context: &str) -> HelmError {
        let mut e = HelmError::msg(format!("{context}: {}", self.message));
        if let (Some(line), Ok(text)) = (self.line, std::fs::read_to_string(path)) {
            e = e.at(
                &path.display().to_string(),
                &text,
                line,
                self.column.unwrap_or(1),
                "here",
            );
        } else {
            e.file = Some(path.display().to_string());
        }
        e
    }
}

fn options() -> serde_saphyr::Options {
    let mut o = serde_saphyr::Options::default();
    o.legacy_octal_numbers = true;
    // go-yaml (non-strict, as sigs.k8s.io/yaml calls it) keeps the last of duplicate keys.
    o.duplicate_keys = serde_saphyr::options::DuplicateKeyPolicy::LastWins;
    // Charts carry large commented-out blocks and big CRDs: no comment buffering, no size budget.
    o.emit_comments = false;
    o.budget = None;
    o
}

/// Decodes the first YAML document of `text` (go-yaml's `Unmarshal` ignores later ones) with Go
/// (yaml.v2) scalar rules; numbers keep their int/float kind.
pub fn decode(text: &str) -> Result<Value, YamlError> {
    serde_saphyr::from_multiple_with_options::<Value>(text, options())
        .map(|docs| docs.into_iter().next().unwrap_or(Value::Null))
        .map_err(|e| {
            let (line, column) = match e.location() {
                Some(l) => (Some(l.line() as usize), Some(l.column() as usize)),
                None => (None, None),
            };
            let message = e.to_string();
            let message = message
                .lines()
                .next()
                .unwrap_or_default()
                .trim_start_matches("error: ")
                .to_string();
            YamlError {
                message,
                line,
                column,
            }
        })
}

/// Decodes one YAML document into a value with float64 numbers.
pub fn parse_value(data: &[u8]) -> Result<Value, YamlError> {
    let text = String::from_utf8_lossy(data);
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    let v = decode(&text)?;
    Ok(to_float_numbers(v))
}

/// Decodes a YAML mapping (a values file); an empty document is an empty map.
pub fn parse_map(data: &[u8]) -> Result<Map<String, Value>, YamlError> {
    match parse_value(data)? {
        Value::Null => Ok(Map::new()),
        Value::Object(m) => Ok(m),
        other => Err(YamlError {
            message: format!(
                "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_kind(&other)
            ),
            line: None,
            column: None,
        }),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        _ => "object",
    }
}

/// Converts every number to float64, as a JSON round trip through Go's `interface{}` does.
pub fn to_float_numbers(v: Value) -> Value {
    match v {
        Value::Number(n) => {
            let f = n.as_f64().unwrap_or(0.0);
            Number::from_f64(f)
                .map(Value::Number)
                .unwrap_or(Value::Null)
        }
        Value::Array(a) => Value::Array(a.into_iter().map(to_float_numbers).collect()),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k, to_float_numbers(v)))
                .collect(),
        ),
        other => other,
    }
}
