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

fn options() -> serde_saphyr::Options {
    let mut o = serde_saphyr::Options::default();
    o.legacy_octal_numbers = true;
    // go-yaml (non-strict, as sigs.k8s.io/yaml calls it) keeps the last of duplicate keys.
    o.duplicate_keys = serde_saphyr::options::DuplicateKeyPolicy::LastWins;
    // Charts carry large commented-out blocks and big CRDs: no comment buffering, no size limit.
    o.emit_comments = false;
    o.budget = Some(kiln_yaml::helm::nesting_budget());
    o
}

/// A YAML node decoded the way go-yaml resolves it, then made JSON like sigs.k8s.io/yaml does:
/// plain map keys are resolved as scalars too (`yes:`/`on:` are `true`, `0x10:` is 16) and printed
/// back as strings, so `on: x` becomes `{"true": "x"}` exactly as in Helm.
struct GoValue(Value);

impl<'de> serde::Deserialize<'de> for GoValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(GoVisitor).map(GoValue)
    }
}

struct GoVisitor;

impl<'de> serde::de::Visitor<'de> for GoVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::from(i))
    }
    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        Ok(Value::from(u))
    }
    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(Number::from_f64(f).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_string()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(GoVisitor)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(GoValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(GoValue(k)) = map.next_key()? {
            let key = map_key(k).map_err(serde::de::Error::custom)?;
            let GoValue(v) = map.next_value()?;
            // Later duplicates win, as in go-yaml's non-strict decoding.
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

/// A decoded map key as the string sigs.k8s.io/yaml makes of it, or go-yaml's error.
fn map_key(k: Value) -> Result<String, String> {
    match k {
        Value::String(s) => Ok(s),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(match n.as_f64() {
            Some(f) if n.is_f64() => go_float_key(f),
            _ => n.to_string(),
        }),
        other => Err(format!(
            "unsupported map key of type: {}",
            match other {
                Value::Null => "%!s(<nil>)",
                Value::Array(_) => "[]interface {}",
                _ => "map[interface {}]interface {}",
            }
        )),
    }
}

/// A float map key as sigs.k8s.io/yaml prints it (`strconv.FormatFloat(f, 'g', -1, 32)`).
fn go_float_key(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let short = format!("{:e}", f as f32);
    let (mantissa, exp) = short.split_once('e').unwrap_or((&short, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    format!("{}", f as f32)
}

/// Decodes the first YAML document of `text` (go-yaml's `Unmarshal` ignores later ones) with Go
/// (yaml.v2) scalar rules; numbers keep their int/float kind.
///
/// kiln-yaml's event decoder reads it; this crate's serde-saphyr decoder runs only when that one
/// fails, to report the error as go-yaml words it. A text without a final line break gets one, so
/// a block scalar ending it keeps its line feed as Helm's values reading does.
pub fn decode(text: &str) -> Result<Value, YamlError> {
    let fast = if text.ends_with('\n') {
        kiln_yaml::helm::from_str(text)
    } else {
        kiln_yaml::helm::from_str(&format!("{text}\n"))
    };
    fast.or_else(|_| {
        serde_saphyr::from_multiple_with_options::<GoValue>(text, options())
            .map(|docs| docs.into_iter().next().map_or(Value::Null, |d| d.0))
            .map_err(yaml_error)
    })
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
    serde_saphyr::from_multiple_with_options::<HeadDoc>(text, options())
        .map(|docs| docs.into_iter().next().map(|d| d.0).unwrap_or_default())
        .map_err(yaml_error)
}

fn yaml_error(e: serde_saphyr::Error) -> YamlError {
    let (line, column) = match e.location() {
        Some(l) => (Some(l.line() as usize), Some(l.column() as usize)),
        None => (None, None),
    };
    let message = e.to_string();
    let message = go_yaml_message(
        message
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches("error: "),
    );
    YamlError {
        message,
        line,
        column,
    }
}

struct HeadDoc(Head);

impl<'de> serde::Deserialize<'de> for HeadDoc {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(HeadVisitor).map(HeadDoc)
    }
}

/// The top level of a document: `kind` and `metadata` are decoded, everything else only checked.
struct HeadVisitor;

impl<'de> serde::de::Visitor<'de> for HeadVisitor {
    type Value = Head;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Head, E> {
        Ok(Head::scalar())
    }
    fn visit_i64<E>(self, _: i64) -> Result<Head, E> {
        Ok(Head::scalar())
    }
    fn visit_u64<E>(self, _: u64) -> Result<Head, E> {
        Ok(Head::scalar())
    }
    fn visit_f64<E>(self, f: f64) -> Result<Head, E> {
        Ok(if Number::from_f64(f).is_some() {
            Head::scalar()
        } else {
            Head::default()
        })
    }
    fn visit_str<E>(self, _: &str) -> Result<Head, E> {
        Ok(Head::scalar())
    }
    fn visit_unit<E>(self) -> Result<Head, E> {
        Ok(Head::default())
    }
    fn visit_none<E>(self) -> Result<Head, E> {
        Ok(Head::default())
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Head, D::Error> {
        d.deserialize_any(HeadVisitor)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Head, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Head::scalar())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Head, A::Error> {
        let mut kind = None;
        let mut metadata = None;
        while let Some(GoValue(k)) = map.next_key()? {
            // Later duplicates win, as in go-yaml's non-strict decoding.
            match map_key(k).map_err(serde::de::Error::custom)?.as_str() {
                "kind" => kind = Some(map.next_value::<GoValue>()?.0),
                "metadata" => metadata = Some(map.next_value::<GoValue>()?.0),
                _ => {
                    map.next_value::<Checked>()?;
                }
            }
        }
        Ok(Head {
            present: true,
            kind: kind
                .as_ref()
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            hook: metadata
                .as_ref()
                .and_then(|m| m.pointer("/annotations/helm.sh~1hook"))
                .and_then(Value::as_str)
                .map(str::to_string),
        })
    }
}

impl Head {
    fn scalar() -> Head {
        Head {
            present: true,
            ..Head::default()
        }
    }
}

/// What a checked value was, which is all a map key's check needs.
enum Shape {
    Null,
    Scalar,
    List,
    Map,
}

/// A value decoded only to be checked like [`GoValue`] (same errors), without building it.
struct Checked(Shape);

impl<'de> serde::Deserialize<'de> for Checked {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CheckVisitor).map(Checked)
    }
}

struct CheckVisitor;

impl<'de> serde::de::Visitor<'de> for CheckVisitor {
    type Value = Shape;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Shape, E> {
        Ok(Shape::Scalar)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Shape, E> {
        Ok(Shape::Scalar)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Shape, E> {
        Ok(Shape::Scalar)
    }
    fn visit_f64<E>(self, f: f64) -> Result<Shape, E> {
        Ok(if Number::from_f64(f).is_some() {
            Shape::Scalar
        } else {
            Shape::Null
        })
    }
    fn visit_str<E>(self, _: &str) -> Result<Shape, E> {
        Ok(Shape::Scalar)
    }
    fn visit_unit<E>(self) -> Result<Shape, E> {
        Ok(Shape::Null)
    }
    fn visit_none<E>(self) -> Result<Shape, E> {
        Ok(Shape::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Shape, D::Error> {
        d.deserialize_any(CheckVisitor)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Shape::List)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
        while let Some(Checked(k)) = map.next_key()? {
            let unsupported = match k {
                Shape::Scalar => None,
                Shape::Null => Some("%!s(<nil>)"),
                Shape::List => Some("[]interface {}"),
                Shape::Map => Some("map[interface {}]interface {}"),
            };
            if let Some(t) = unsupported {
                return Err(serde::de::Error::custom(format!(
                    "unsupported map key of type: {t}"
                )));
            }
            map.next_value::<Checked>()?;
        }
        Ok(Shape::Map)
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
