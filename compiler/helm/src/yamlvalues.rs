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
    /// A values file's error, worded as Helm's values loading wraps it.
    pub fn into_helm_values(mut self, path: &Path, context: &str) -> HelmError {
        if !self.message.starts_with("error unmarshaling JSON") {
            self.message = format!(
                "cannot unmarshal yaml document: error converting YAML to JSON: yaml: {}",
                self.message
            );
        }
        self.into_helm(path, context)
    }

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

/// Decodes the first YAML document of `text` (go-yaml's `Unmarshal` ignores later ones) with Go
/// (yaml.v2) scalar rules; numbers keep their int/float kind.
///
/// kiln-yaml's Helm decoder reads it; errors are then worded as go-yaml words them. A text without
/// a final line break gets one, so a block scalar ending it keeps its line feed as Helm's values
/// reading does.
pub fn decode(text: &str) -> Result<Value, YamlError> {
    let fast = if text.ends_with('\n') {
        kiln_yaml::helm::from_str(text)
    } else {
        kiln_yaml::helm::from_str(&format!("{text}\n"))
    };
    // An error is reported for the text as given, so its position is the one Helm shows.
    fast.or_else(|_| kiln_yaml::helm::from_str(text))
        .map_err(yaml_error)
}

/// What Helm reads of a rendered document to sort it (`releaseutil.SimpleHead`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Head {
    /// False for a document that decodes to null (only comments, or `~`).
    pub present: bool,
    /// `kind` when it is a string, else empty.
    pub kind: String,
    /// `metadata.annotations["helm.sh/hook"]` when it is a string.
    pub hook: Option<String>,
}

/// Checks `text` as [`decode`] does (same errors) but only builds the [`Head`] of its first
/// document: rendered documents are printed as they are, so the rest is never needed.
pub fn decode_head(text: &str) -> Result<Head, YamlError> {
    // The scan answers for documents that are empty or name their kind; anything odder (a
    // scalar, a list, a kind-less map) and every error go through the complete decoder.
    match kiln_yaml::helm::scan_head(text) {
        Ok(None) => return Ok(Head::default()),
        Ok(Some(head)) if head.kind.is_some() => {
            return Ok(Head {
                present: true,
                hook: head.annotation("helm.sh/hook").map(str::to_string),
                kind: head.kind.unwrap_or_default(),
            });
        }
        _ => {}
    }
    kiln_yaml::helm::from_str(text)
        .map(|value| Head::of(&value))
        .map_err(yaml_error)
}

fn yaml_error(e: kiln_yaml::Error) -> YamlError {
    let message = go_yaml_message(
        e.message
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches("error: "),
    );
    YamlError {
        message,
        line: e.line,
        column: e.column,
    }
}

impl Head {
    /// The head of a decoded document: null is no document; any other value is one, with a
    /// kind only when it is a mapping whose `kind` is a string.
    fn of(value: &Value) -> Head {
        Head {
            present: !value.is_null(),
            kind: value
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            hook: value
                .pointer("/metadata/annotations/helm.sh~1hook")
                .and_then(Value::as_str)
                .map(str::to_string),
        }
    }
}

/// go-yaml's layout of a syntax error: `line N: problem`, without libyaml's `while parsing ...`
/// context, where N is 1-based for scanner errors but the 0-based line for parser errors
/// (`did not find expected ...`), and no line at all when that 0-based line is 0.
fn go_yaml_message(raw: &str) -> String {
    let Some(rest) = raw.strip_prefix("line ") else {
        return raw.to_string();
    };
    let Some((line, rest)) = rest.split_once(' ') else {
        return raw.to_string();
    };
    let Ok(line) = line.parse::<usize>() else {
        return raw.to_string();
    };
    let problem = rest
        .strip_prefix("column ")
        .and_then(|r| r.split_once(": "))
        .map_or(rest, |(_, p)| p);
    let problem = match problem.strip_prefix("while ") {
        Some(p) => p.split_once(", ").map_or(problem, |(_, q)| q),
        None => problem,
    };
    let zero_based = line.saturating_sub(1);
    if zero_based == 0 {
        return problem.to_string();
    }
    let shown = if problem.starts_with("did not find expected") {
        zero_based
    } else {
        line
    };
    format!("line {shown}: {problem}")
}

/// Decodes one YAML document into a value with float64 numbers.
pub fn parse_value(data: &[u8]) -> Result<Value, YamlError> {
    let text = crate::render::file_text(data);
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
pub fn to_float_numbers(mut v: Value) -> Value {
    floats_in_place(&mut v);
    v
}

/// [`to_float_numbers`] without rebuilding maps (re-inserting every key costs more than the walk).
fn floats_in_place(v: &mut Value) {
    match v {
        Value::Number(n) if !n.is_f64() => {
            let f = n.as_f64().unwrap_or(0.0);
            *v = Number::from_f64(f).map_or(Value::Null, Value::Number);
        }
        Value::Array(a) => a.iter_mut().for_each(floats_in_place),
        Value::Object(m) => m.values_mut().for_each(floats_in_place),
        _ => {}
    }
}
