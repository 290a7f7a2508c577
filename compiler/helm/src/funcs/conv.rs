//! Conversions Sprig applies to `interface{}` arguments: `strval`, `cast.ToInt64`/`ToFloat64`,
//! `empty`, and turning values into string or item lists, with Go's semantics; Go's `int64`
//! (what `--set` integers and Sprig's integer math produce) and `reflect.DeepEqual`.

use kiln_gotemplate::{FuncError, Object, Value};

/// A Go `int64`. The template engine's integers are Go's `int` (literals, `len`, `int`, `atoi`);
/// Helm gives templates `int64`s from `--set` and Sprig's math, and charts can tell them apart
/// (`typeOf`, `kindIs "int64"`, `int`-typed parameters reject them, `duration` ignores `int`s).
#[derive(Debug, Clone, Copy)]
pub struct Int64(pub i64);

impl Object for Int64 {
    fn type_name(&self) -> &str {
        "int64"
    }
    fn underlying(&self) -> Option<Value> {
        Some(Value::Int(self.0))
    }
    fn format(&self) -> String {
        self.0.to_string()
    }
    fn to_json(&self) -> Option<serde_json::Value> {
        Some(serde_json::Value::from(self.0))
    }
}

/// An `int64` value.
pub fn int64(i: i64) -> Value {
    Value::object(Int64(i))
}

/// The `int64` inside `v`, if `v` is one.
pub fn as_int64(v: &Value) -> Option<i64> {
    match v {
        Value::Object(o) if o.type_name() == "int64" => o.underlying().and_then(|u| u.as_i64()),
        _ => None,
    }
}

/// Values as Helm hands them to templates: every integer (only `--set` gives integers; values
/// files and inline values decode to float64) is an `int64`. Parts without integers are returned
/// as they are, not copied.
pub fn values_with_int64(v: Value) -> Value {
    if !holds_int(&v) {
        return v;
    }
    match v {
        Value::Int(i) => int64(i),
        Value::List(l) => Value::list(l.iter().cloned().map(values_with_int64).collect::<Vec<_>>()),
        Value::Map(m) => Value::Map(
            m.entries()
                .into_iter()
                .map(|(k, x)| (k, values_with_int64(x)))
                .collect(),
        ),
        other => other,
    }
}

fn holds_int(v: &Value) -> bool {
    match v {
        Value::Int(_) => true,
        Value::List(l) => l.iter().any(holds_int),
        Value::Map(m) => m.read().values().any(holds_int),
        _ => false,
    }
}

/// Go's `reflect.DeepEqual` of two template values (`int` and `int64` differ; maps and lists
/// compare by content).
pub fn deep_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.type_name() == y.type_name()
                && match (x.underlying(), y.underlying()) {
                    (Some(u), Some(w)) => deep_equal(&u, &w),
                    _ => std::sync::Arc::ptr_eq(x, y),
                }
        }
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| deep_equal(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            let (x, y) = (x.entries(), y.entries());
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|((k, p), (l, q))| k == l && deep_equal(p, q))
        }
        _ => a == b,
    }
}

/// Sprig's `strval`: strings and bytes as they are, everything else as `fmt.Sprintf("%v")`.
pub fn strval(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        other => kiln_gotemplate::gofmt::sprint_value(other),
    }
}

/// `cast.ToInt64`: numbers truncate, bools are 0/1, numeric strings parse, anything else is 0.
pub fn to_i64(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        Value::Float(f) => *f as i64,
        Value::Bool(b) => i64::from(*b),
        Value::String(s) => parse_go_int(trim_zero_decimal(s)).unwrap_or(0),
        Value::Object(o) => o.underlying().map(|u| to_i64(&u)).unwrap_or(0),
        _ => 0,
    }
}

fn trim_zero_decimal(s: &str) -> &str {
    if let Some((int, frac)) = s.split_once('.')
        && !frac.is_empty()
        && frac.bytes().all(|b| b == b'0')
    {
        return int;
    }
    s
}

/// `strconv.ParseInt(s, 0, 64)`.
pub fn parse_go_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let body = body.replace('_', "");
    let lower = body.to_ascii_lowercase();
    let (digits, radix) = if let Some(r) = lower.strip_prefix("0x") {
        (r.to_string(), 16)
    } else if let Some(r) = lower.strip_prefix("0o") {
        (r.to_string(), 8)
    } else if let Some(r) = lower.strip_prefix("0b") {
        (r.to_string(), 2)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (lower[1..].to_string(), 8)
    } else {
        (lower, 10)
    };
    if digits.is_empty() {
        return None;
    }
    let v = i128::from_str_radix(&digits, radix).ok()?;
    let v = if neg { -v } else { v };
    i64::try_from(v).ok()
}

/// `cast.ToFloat64`.
pub fn to_f64(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::String(s) => s.trim().parse::<f64>().unwrap_or(0.0),
        Value::Object(o) => o.underlying().map(|u| to_f64(&u)).unwrap_or(0.0),
        _ => 0.0,
    }
}

/// Sprig's `empty`: nil, zero numbers, `false`, and empty strings, lists and maps.
pub fn empty(v: &Value) -> bool {
    match v {
        Value::Nil => true,
        Value::Bool(b) => !b,
        Value::Int(i) => *i == 0,
        Value::Float(f) => *f == 0.0,
        Value::String(s) => s.is_empty(),
        Value::Bytes(b) => b.is_empty(),
        Value::List(l) => l.is_empty(),
        Value::Map(m) => m.is_empty(),
        Value::Object(o) => match o.underlying() {
            Some(u) => empty(&u),
            None => false,
        },
    }
}

/// The items of a Go slice or array; `None` if `v` is not one.
pub fn items(v: &Value) -> Option<Vec<Value>> {
    match v {
        Value::List(l) => Some(l.as_ref().clone()),
        Value::Bytes(b) => Some(b.iter().map(|x| Value::Int(i64::from(*x))).collect()),
        Value::Object(o) => o.underlying().and_then(|u| match u {
            Value::List(l) => Some(l.as_ref().clone()),
            _ => None,
        }),
        _ => None,
    }
}

/// Sprig's `strslice`: a slice's non-nil items as strings, or a single value as a one-item list.
pub fn strslice(v: &Value) -> Vec<String> {
    match items(v) {
        Some(list) => list.iter().filter(|x| !x.is_nil()).map(strval).collect(),
        None if v.is_nil() => Vec::new(),
        None => vec![strval(v)],
    }
}

/// A list argument, or Sprig's "Cannot X on type T" error.
pub fn need_list(v: &Value, what: &str) -> Result<Vec<Value>, FuncError> {
    items(v).ok_or_else(|| FuncError::new(format!("Cannot {what} on type {}", v.type_name())))
}

/// Converts a value to JSON the way `encoding/json` would (bytes are base64 strings).
pub fn to_json_value(v: &Value) -> serde_json::Value {
    match v {
        Value::Bytes(b) => {
            use base64::Engine;
            serde_json::Value::String(base64::engine::general_purpose::STANDARD.encode(b))
        }
        Value::List(l) => serde_json::Value::Array(l.iter().map(to_json_value).collect()),
        Value::Map(m) => serde_json::Value::Object(
            m.read()
                .iter()
                .map(|(k, v)| (k.clone(), to_json_value(v)))
                .collect(),
        ),
        other => other.to_json(),
    }
}

/// Go values for JSON decoded the way `encoding/json` decodes into `interface{}` (float64 numbers).
pub fn from_json_value(v: &serde_json::Value) -> Value {
    Value::from_json_with(v, kiln_gotemplate::JsonNumbers::Float64)
}
