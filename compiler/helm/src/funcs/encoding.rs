//! Serialization and encoding functions: Helm's `toYaml`/`toYamlPretty`/`fromYaml`/`toJson`/
//! `fromJson`/`toToml` and Sprig's JSON, base64/base32 and checksum helpers. JSON text is written
//! the way Go's `encoding/json` writes it (sorted keys, HTML-safe escapes, Go float format).

use base64::Engine;
use kiln_gotemplate::{ArgType as A, FuncError, FuncMap, Signature, Value};
use serde_json::Value as J;
use sha2::Digest;

use super::conv::{from_json_value, to_json_value};
use crate::{gofmt, toyaml, yamlvalues};

/// Writes JSON like Go's `encoding/json`; `html` escapes `<`, `>`, `&`; `indent` pretty-prints.
pub fn go_json(v: &J, html: bool, indent: Option<&str>) -> String {
    let mut out = String::new();
    write_json(&mut out, v, html, indent, 0);
    out
}

fn write_str(out: &mut String, s: &str, html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' if html => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn newline(out: &mut String, indent: Option<&str>, level: usize) {
    if let Some(ind) = indent {
        out.push('\n');
        for _ in 0..level {
            out.push_str(ind);
        }
    }
}

fn write_json(out: &mut String, v: &J, html: bool, indent: Option<&str>, level: usize) {
    match v {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Number(n) => out.push_str(&gofmt::json_number(n)),
        J::String(s) => write_str(out, s, html),
        J::Array(a) => {
            if a.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, level + 1);
                write_json(out, x, html, indent, level + 1);
            }
            newline(out, indent, level);
            out.push(']');
        }
        J::Object(m) => {
            if m.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, level + 1);
                write_str(out, k, html);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write_json(out, x, html, indent, level + 1);
            }
            newline(out, indent, level);
            out.push('}');
        }
    }
}

fn error_map(msg: String) -> Value {
    let m = kiln_gotemplate::Map::new();
    m.insert("Error", Value::from(msg));
    Value::Map(m)
}

/// Texts longer than this are decoded each time instead of being kept.
const MAX_KEPT_TEXT: usize = 16 * 1024;
/// Decoded texts kept per thread before starting over.
const MAX_KEPT_TEXTS: usize = 256;

/// Helm's `fromYaml`: a map, or `{Error: ...}` when the text is not a YAML mapping.
///
/// Charts decode the same text again and again (Bitnami runs its labels helper through
/// `fromYaml` in every template); decoding costs far more than copying, so decoded texts are
/// kept and each call returns a fresh copy (the caller may change it, as a Go map).
pub fn from_yaml(text: &str) -> Value {
    thread_local! {
        static DECODED: std::cell::RefCell<std::collections::HashMap<Box<str>, Value>> =
            std::cell::RefCell::default();
    }
    if text.len() > MAX_KEPT_TEXT {
        return decode_yaml_map(text);
    }
    if let Some(v) = DECODED.with(|c| c.borrow().get(text).map(Value::deep_copy)) {
        return v;
    }
    let v = decode_yaml_map(text);
    DECODED.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= MAX_KEPT_TEXTS {
            c.clear();
        }
        c.insert(text.into(), v.deep_copy());
    });
    v
}

fn decode_yaml_map(text: &str) -> Value {
    match yamlvalues::parse_value(text.as_bytes()) {
        Ok(J::Object(m)) => from_json_value(&J::Object(m)),
        Ok(J::Null) => Value::Map(kiln_gotemplate::Map::new()),
        Ok(other) => error_map(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            json_kind(&other)
        )),
        Err(e) => error_map(format!(
            "error converting YAML to JSON: yaml: {}",
            e.message
        )),
    }
}

fn json_kind(v: &J) -> &'static str {
    match v {
        J::Array(_) => "array",
        J::String(_) => "string",
        J::Number(_) => "number",
        J::Bool(_) => "bool",
        J::Object(_) => "object",
        J::Null => "null",
    }
}

fn toml_key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        let mut s = String::new();
        write_str(&mut s, k, false);
        s
    }
}

fn toml_value(v: &J) -> Option<String> {
    Some(match v {
        J::Null => return None,
        J::Bool(b) => b.to_string(),
        J::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.to_string()
            } else {
                let f = n.as_f64().unwrap_or(0.0);
                let s = format!("{f}");
                if s.contains('.') || s.contains('e') || s.contains("inf") || s.contains("NaN") {
                    s
                } else {
                    format!("{s}.0")
                }
            }
        }
        J::String(s) => {
            let mut o = String::new();
            write_str(&mut o, s, false);
            o
        }
        J::Array(a) => {
            let items: Vec<String> = a.iter().filter_map(toml_value).collect();
            format!("[{}]", items.join(", "))
        }
        J::Object(m) => {
            let items: Vec<String> = m
                .iter()
                .filter_map(|(k, x)| toml_value(x).map(|s| format!("{} = {s}", toml_key(k))))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    })
}

fn is_table_array(v: &J) -> bool {
    matches!(v, J::Array(a) if !a.is_empty() && a.iter().all(J::is_object))
}

fn write_toml(out: &mut String, m: &serde_json::Map<String, J>, path: &[String], level: usize) {
    let ind = "  ".repeat(level);
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    for k in &keys {
        let v = &m[k.as_str()];
        if v.is_object() || is_table_array(v) {
            continue;
        }
        if let Some(s) = toml_value(v) {
            out.push_str(&format!("{ind}{} = {s}\n", toml_key(k)));
        }
    }
    for k in &keys {
        let v = &m[k.as_str()];
        let mut p = path.to_vec();
        p.push(toml_key(k));
        let header_ind = "  ".repeat(level);
        match v {
            J::Object(sub) => {
                out.push_str(&format!("\n{header_ind}[{}]\n", p.join(".")));
                write_toml(out, sub, &p, level + 1);
            }
            J::Array(a) if is_table_array(v) => {
                for item in a {
                    out.push_str(&format!("\n{header_ind}[[{}]]\n", p.join(".")));
                    if let J::Object(sub) = item {
                        write_toml(out, sub, &p, level + 1);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Helm's `toToml` (BurntSushi/toml layout: plain keys first, then indented sub-tables).
pub fn to_toml(v: &J) -> String {
    match v {
        J::Object(m) => {
            let mut out = String::new();
            write_toml(&mut out, m, &[], 0);
            out.strip_prefix('\n').map(str::to_string).unwrap_or(out)
        }
        _ => "toml: top-level values must be Go maps or structs".to_string(),
    }
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

pub fn register(m: &mut FuncMap) {
    let fixed = Signature::fixed;
    m.insert("toYaml", fixed(&[A::Any]), |_, a| {
        Ok(toyaml::to_yaml(&a[0]).into())
    });
    m.insert("mustToYaml", fixed(&[A::Any]), |_, a| {
        Ok(toyaml::to_yaml(&a[0]).into())
    });
    m.insert("toYamlPretty", fixed(&[A::Any]), |_, a| {
        Ok(toyaml::to_yaml_pretty(&a[0]).into())
    });
    m.insert("fromYaml", fixed(&[A::String]), |_, a| {
        Ok(from_yaml(s(&a[0])))
    });
    m.insert("fromYamlArray", fixed(&[A::String]), |_, a| {
        Ok(match yamlvalues::parse_value(s(&a[0]).as_bytes()) {
            Ok(J::Array(l)) => from_json_value(&J::Array(l)),
            Ok(J::Null) => Value::list(Vec::new()),
            Ok(other) => Value::list(vec![Value::from(format!(
                "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type []interface {{}}",
                json_kind(&other)
            ))]),
            Err(e) => Value::list(vec![Value::from(format!(
                "error converting YAML to JSON: yaml: {}",
                e.message
            ))]),
        })
    });
    m.insert("toJson", fixed(&[A::Any]), |_, a| {
        Ok(go_json(&to_json_value(&a[0]), true, None).into())
    });
    m.insert("mustToJson", fixed(&[A::Any]), |_, a| {
        Ok(go_json(&to_json_value(&a[0]), true, None).into())
    });
    for name in ["toPrettyJson", "mustToPrettyJson"] {
        m.insert(name, fixed(&[A::Any]), |_, a| {
            Ok(go_json(&to_json_value(&a[0]), true, Some("  ")).into())
        });
    }
    for name in ["toRawJson", "mustToRawJson"] {
        m.insert(name, fixed(&[A::Any]), |_, a| {
            Ok(go_json(&to_json_value(&a[0]), false, None).into())
        });
    }
    m.insert("fromJson", fixed(&[A::String]), |_, a| {
        Ok(match serde_json::from_str::<J>(s(&a[0])) {
            Ok(J::Object(o)) => from_json_value(&J::Object(o)),
            Ok(J::Null) => Value::Map(kiln_gotemplate::Map::new()),
            Ok(other) => error_map(format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_kind(&other)
            )),
            Err(e) => error_map(go_json_error(s(&a[0]), &e)),
        })
    });
    m.insert("mustFromJson", fixed(&[A::String]), |_, a| {
        serde_json::from_str::<J>(s(&a[0]))
            .map(|v| from_json_value(&v))
            .map_err(|e| FuncError::new(go_json_error(s(&a[0]), &e)))
    });
    m.insert("fromJsonArray", fixed(&[A::String]), |_, a| {
        Ok(match serde_json::from_str::<J>(s(&a[0])) {
            Ok(J::Array(l)) => from_json_value(&J::Array(l)),
            Ok(J::Null) => Value::list(Vec::new()),
            Ok(other) => Value::list(vec![Value::from(format!(
                "json: cannot unmarshal {} into Go value of type []interface {{}}",
                json_kind(&other)
            ))]),
            Err(e) => Value::list(vec![Value::from(go_json_error(s(&a[0]), &e))]),
        })
    });
    m.insert("toToml", fixed(&[A::Any]), |_, a| {
        Ok(to_toml(&to_json_value(&a[0])).into())
    });
    m.insert("b64enc", fixed(&[A::String]), |_, a| {
        Ok(base64::engine::general_purpose::STANDARD
            .encode(s(&a[0]))
            .into())
    });
    m.insert("b64dec", fixed(&[A::String]), |_, a| {
        Ok(match go_base64_decode(s(&a[0])) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned().into(),
            Err(e) => Value::from(e),
        })
    });
    m.insert("fromToml", fixed(&[A::String]), |_, a| {
        Ok(from_toml(s(&a[0])))
    });
    m.insert("b32enc", fixed(&[A::String]), |_, a| {
        Ok(data_encoding::BASE32.encode(s(&a[0]).as_bytes()).into())
    });
    m.insert("b32dec", fixed(&[A::String]), |_, a| {
        Ok(match data_encoding::BASE32.decode(s(&a[0]).as_bytes()) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned().into(),
            Err(e) => Value::from(e.to_string()),
        })
    });
    m.insert("sha1sum", fixed(&[A::String]), |_, a| {
        Ok(hex::encode(sha1::Sha1::digest(s(&a[0]).as_bytes())).into())
    });
    m.insert("sha256sum", fixed(&[A::String]), |_, a| {
        Ok(hex::encode(sha2::Sha256::digest(s(&a[0]).as_bytes())).into())
    });
    m.insert("sha512sum", fixed(&[A::String]), |_, a| {
        Ok(hex::encode(sha2::Sha512::digest(s(&a[0]).as_bytes())).into())
    });
    m.insert("adler32sum", fixed(&[A::String]), |_, a| {
        Ok(adler32(s(&a[0]).as_bytes()).to_string().into())
    });
}

/// A JSON syntax error in `encoding/json`'s words (`invalid character 'x' looking for beginning
/// of value`, `unexpected end of JSON input`), from serde_json's error and position.
fn go_json_error(text: &str, e: &serde_json::Error) -> String {
    if e.is_eof() {
        return "unexpected end of JSON input".into();
    }
    let offending = text
        .lines()
        .nth(e.line().saturating_sub(1))
        .and_then(|l| l.chars().nth(e.column().saturating_sub(1)));
    let Some(c) = offending else {
        return e.to_string();
    };
    let shown = match c {
        '\'' => "'\\''".to_string(),
        '"' => "'\"'".to_string(),
        c if c.is_control() => format!("{:?}", c),
        c => format!("'{c}'"),
    };
    let message = e.to_string();
    if message.starts_with("expected ident") {
        // Inside `null`/`true`/`false`: Go names the literal and the letter it expected.
        let line = text
            .lines()
            .nth(e.line().saturating_sub(1))
            .unwrap_or_default();
        let chars: Vec<char> = line.chars().collect();
        let at = e.column().saturating_sub(1).min(chars.len());
        let start = (0..at)
            .rev()
            .take_while(|&i| chars[i].is_ascii_alphabetic())
            .last()
            .unwrap_or(at);
        let literal = match chars.get(start) {
            Some('n') => "null",
            Some('t') => "true",
            Some('f') => "false",
            _ => return message,
        };
        if let Some(want) = literal.chars().nth(at - start) {
            return format!("invalid character {shown} in literal {literal} (expecting '{want}')");
        }
    }
    let context = if message.starts_with("key must be a string") {
        "looking for beginning of object key string"
    } else if message.starts_with("trailing characters") {
        "after top-level value"
    } else if message.starts_with("expected `,` or `}`") {
        "after object key:value pair"
    } else if message.starts_with("expected `,` or `]`") {
        "after array element"
    } else if message.starts_with("expected `:`") {
        "after object key"
    } else if message.starts_with("expected value") || message.starts_with("expected ident") {
        "looking for beginning of value"
    } else {
        return message;
    };
    format!("invalid character {shown} {context}")
}

/// Go's `base64.StdEncoding.DecodeString`: padding required, non-zero trailing bits accepted,
/// CR and LF skipped, failures reported as `illegal base64 data at input byte N`.
fn go_base64_decode(text: &str) -> Result<Vec<u8>, String> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const ENGINE: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
    );
    let cleaned: String = text.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    ENGINE.decode(&cleaned).map_err(|e| {
        let at = match e {
            // Go reads a complete padded quantum, then calls what follows trailing garbage.
            base64::DecodeError::InvalidByte(at, b'=') if at % 4 == 3 => at + 1,
            base64::DecodeError::InvalidByte(at, _)
            | base64::DecodeError::InvalidLastSymbol(at, _) => at,
            // An incomplete last quantum is reported where it starts.
            base64::DecodeError::InvalidLength(len) => len / 4 * 4,
            base64::DecodeError::InvalidPadding => match cleaned.find('=') {
                Some(at) => at,
                None => cleaned.len() / 4 * 4,
            },
        };
        format!("illegal base64 data at input byte {at}")
    })
}

/// Helm's `fromToml`: a map (TOML integers are int64, datetimes `time.Time`), or `{Error: ...}`.
fn from_toml(text: &str) -> Value {
    fn convert(v: &toml::Value) -> Value {
        match v {
            toml::Value::String(s) => Value::from(s.as_str()),
            toml::Value::Integer(i) => super::conv::int64(*i),
            toml::Value::Float(f) => Value::Float(*f),
            toml::Value::Boolean(b) => Value::Bool(*b),
            toml::Value::Datetime(d) => {
                let text = d.to_string();
                match chrono::DateTime::parse_from_rfc3339(&text) {
                    Ok(t) => Value::object(super::dates::Time(t.with_timezone(&chrono::Utc))),
                    Err(_) => Value::from(text),
                }
            }
            toml::Value::Array(items) => Value::list(items.iter().map(convert).collect::<Vec<_>>()),
            toml::Value::Table(t) => {
                Value::Map(t.iter().map(|(k, v)| (k.clone(), convert(v))).collect())
            }
        }
    }
    match text.parse::<toml::Table>() {
        Ok(t) => Value::Map(t.iter().map(|(k, v)| (k.clone(), convert(v))).collect()),
        Err(e) => error_map(format!("toml: {}", e.message())),
    }
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn go_json_escapes_html_and_formats_floats() {
        let v = json!({"a": "<&>", "b": 1e21, "c": 1000000.0, "d": [1, 2]});
        assert_eq!(
            go_json(&v, true, None),
            r#"{"a":"\u003c\u0026\u003e","b":1e+21,"c":1000000,"d":[1,2]}"#
        );
        assert_eq!(
            go_json(&json!({"a": [1], "b": {}}), true, Some("  ")),
            "{\n  \"a\": [\n    1\n  ],\n  \"b\": {}\n}"
        );
    }

    #[test]
    fn toml_layout() {
        let v = json!({"b": {"c": 2, "d": {"e": "x"}}, "a": 1});
        assert_eq!(
            to_toml(&v),
            "a = 1\n\n[b]\n  c = 2\n\n  [b.d]\n    e = \"x\"\n"
        );
    }

    #[test]
    fn from_yaml_gives_each_call_its_own_map() {
        let text = "a:\n  b: [1, {c: d}]\n";
        let first = from_yaml(text);
        let inner = first.as_map().and_then(|m| m.get("a")).expect("a");
        inner
            .as_map()
            .expect("map")
            .insert("x", Value::from("changed"));
        let list = inner.as_map().and_then(|m| m.get("b")).expect("b");
        let nested = list.as_list().expect("list")[1].clone();
        nested
            .as_map()
            .expect("map")
            .insert("c", Value::from("changed"));
        let second = from_yaml(text);
        assert_eq!(
            toyaml::to_yaml(&second),
            "a:\n  b:\n  - 1\n  - c: d",
            "a later fromYaml saw changes made to an earlier result"
        );
        for _ in 0..2 {
            let error = from_yaml("- 1").as_map().and_then(|m| m.get("Error"));
            assert!(
                error
                    .as_ref()
                    .and_then(Value::as_str)
                    .is_some_and(|e| e.contains("cannot unmarshal array")),
                "{error:?}"
            );
        }
    }

    #[test]
    fn adler() {
        assert_eq!(adler32(b"Wikipedia"), 300286872);
    }
}
