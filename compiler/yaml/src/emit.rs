//! Emitting YAML text from `serde_json::Value`, deterministically.
//!
//! Two users need YAML out of kiln: the bundle writer, which needs one *canonical* text per object
//! (its bytes are hashed), and the kustomize/helm engines, which print objects the way
//! `kubectl kustomize` and `helm template` do. Both are served by one writer with options; neither
//! depends on hash-map order, locale or the environment.
//!
//! # The layout this writer produces
//!
//! - Block style everywhere; two spaces of indentation per nesting level.
//! - A sequence that is the value of a mapping key is written at the key's own indentation
//!   (`key:\n- a\n- b`), the style of `kubectl` and Go `yaml` encoders.
//! - A mapping or sequence nested in a sequence item starts on the dash line (`- name: web`,
//!   `- - a`).
//! - Empty mappings and sequences are written `{}` and `[]`; `null` is `null`; booleans are
//!   `true`/`false`.
//! - Integers are written in decimal. Floats are written in the shortest form that reads back as the
//!   same `f64`, always with a `.` in the mantissa and a signed exponent when there is one
//!   (`1.0`, `0.5`, `1.0e+300`, `1.5e-7`), so both YAML 1.1 (Go) and YAML 1.2 decoders read a float.
//! - A string is written *plain* when [`plain_is_safe`] says a YAML 1.1 or 1.2 decoder reads the
//!   plain text back as the same string; otherwise, if it contains a line break and
//!   [`literal_block_is_safe`] holds, as a literal block scalar (`|`, `|-` or `|+` by its trailing
//!   newlines); otherwise double-quoted with the escapes of [`write_double_quoted`].
//! - Mapping keys follow the same plain/double-quoted rule (never block scalars). A key longer than
//!   1024 bytes, which YAML forbids as an implicit key, uses the explicit `? key` form.
//! - With [`EmitOptions::go_style`] (the ordered, `kubectl`-like mode) strings and keys follow
//!   Go's `yaml.v3` styles instead (see [`crate::gostyle`]); everything else is the same.
//! - No comments, no document markers, no anchors or tags; every line ends with `\n` (never `\r\n`)
//!   and has no trailing spaces, except inside block scalars, where content is kept verbatim.

use serde_json::{Map, Number, Value};
use std::fmt::Write as _;

/// How [`to_string_with`] writes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmitOptions {
    /// Sort mapping keys instead of keeping their order: bytewise (the canonical form), or in
    /// `yaml.v3`'s order with `go_style` ([`crate::gostyle::key_less`]).
    pub sort_keys: bool,
    /// Write multi-line strings as literal block scalars when that round-trips.
    pub block_scalars: bool,
    /// Quote and fold strings as Go's YAML encoders do (see [`crate::gostyle`]) instead of the
    /// canonical rules.
    pub go_style: bool,
}

impl EmitOptions {
    /// The canonical form: sorted keys, literal block scalars for multi-line strings.
    pub const CANONICAL: EmitOptions = EmitOptions {
        sort_keys: true,
        block_scalars: true,
        go_style: false,
    };
    /// Keys in their given order, strings quoted and folded as Go's `yaml.v3` encoder does.
    pub const ORDERED: EmitOptions = EmitOptions {
        sort_keys: false,
        block_scalars: true,
        go_style: true,
    };
    /// What `kubectl kustomize` prints: [`EmitOptions::ORDERED`] with keys sorted in
    /// `yaml.v3`'s order (runs of digits compare as numbers, `a_` before `ab`).
    pub const KUBECTL: EmitOptions = EmitOptions {
        sort_keys: true,
        block_scalars: true,
        go_style: true,
    };
}

/// The canonical YAML text of a value (see the module documentation for the exact rules).
pub fn to_canonical_string(value: &Value) -> String {
    to_string_with(value, EmitOptions::CANONICAL)
}

/// YAML text of a value with keys in their given order, as `kubectl kustomize` prints objects.
pub fn to_string(value: &Value) -> String {
    to_string_with(value, EmitOptions::ORDERED)
}

/// YAML text of a value written with the given options. The text always ends with a newline.
pub fn to_string_with(value: &Value, options: EmitOptions) -> String {
    let mut out = String::new();
    let writer = Writer { options };
    match value {
        Value::Object(map) if !map.is_empty() => writer.mapping(&mut out, map, 0),
        Value::Array(items) if !items.is_empty() => writer.sequence(&mut out, items, 0),
        scalar => {
            // Block scalar lines at column 0 could read as `---`/`...` document markers.
            writer.inline_value(&mut out, scalar, 2);
            out.push('\n');
        }
    }
    out
}

/// Writes a stream of documents separated by `---` lines, as `kubectl kustomize` does.
pub fn to_multi_document_string<'a>(
    values: impl IntoIterator<Item = &'a Value>,
    options: EmitOptions,
) -> String {
    let mut out = String::new();
    for (i, value) in values.into_iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&to_string_with(value, options));
    }
    out
}

struct Writer {
    options: EmitOptions,
}

impl Writer {
    /// Writes the entries of a non-empty mapping, each line starting at `indent`.
    fn mapping(&self, out: &mut String, map: &Map<String, Value>, indent: usize) {
        let mut entries: Vec<(&String, &Value)> = map.iter().collect();
        if self.options.sort_keys && self.options.go_style {
            entries.sort_by(|a, b| go_key_order(a.0, b.0));
        } else if self.options.sort_keys {
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        }
        for (i, (key, value)) in entries.into_iter().enumerate() {
            // The first entry of a mapping inside a sequence item shares the dash line.
            if i > 0 || !out.ends_with("- ") {
                pad(out, indent);
            }
            self.entry(out, key, value, indent);
        }
    }

    fn entry(&self, out: &mut String, key: &str, value: &Value, indent: usize) {
        let explicit = key.len() > 1024;
        if explicit {
            out.push_str("? ");
            self.key(out, key);
            out.push('\n');
            pad(out, indent);
            out.push(':');
        } else {
            self.key(out, key);
            out.push(':');
        }
        match value {
            Value::Object(map) if !map.is_empty() => {
                out.push('\n');
                self.mapping(out, map, indent + 2);
            }
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                self.sequence(out, items, indent);
            }
            scalar => {
                out.push(' ');
                self.inline_value(out, scalar, indent + 2);
                out.push('\n');
            }
        }
    }

    /// Writes the items of a non-empty sequence, each dash at `indent`.
    fn sequence(&self, out: &mut String, items: &[Value], indent: usize) {
        for (i, item) in items.iter().enumerate() {
            if i > 0 || !out.ends_with("- ") {
                pad(out, indent);
            }
            out.push_str("- ");
            match item {
                Value::Object(map) if !map.is_empty() => self.mapping(out, map, indent + 2),
                Value::Array(inner) if !inner.is_empty() => self.sequence(out, inner, indent + 2),
                scalar => {
                    self.inline_value(out, scalar, indent + 2);
                    out.push('\n');
                }
            }
        }
    }

    /// Writes a scalar or an empty collection after `key: ` or `- `; block scalar content lines
    /// are indented by `content_indent`.
    fn inline_value(&self, out: &mut String, value: &Value, content_indent: usize) {
        match value {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => write_number(out, n),
            Value::String(s) if self.options.go_style => {
                crate::gostyle::write_string(out, s, content_indent, false);
            }
            Value::String(s) => {
                if plain_is_safe(s) {
                    out.push_str(s);
                } else if self.options.block_scalars && literal_block_is_safe(s) {
                    write_literal_block(out, s, content_indent);
                } else {
                    write_double_quoted(out, s);
                }
            }
            Value::Object(_) => out.push_str("{}"),
            Value::Array(_) => out.push_str("[]"),
        }
    }
}

pub(crate) fn go_key_order(a: &str, b: &str) -> std::cmp::Ordering {
    if crate::gostyle::key_less(a, b) {
        std::cmp::Ordering::Less
    } else if crate::gostyle::key_less(b, a) {
        std::cmp::Ordering::Greater
    } else {
        std::cmp::Ordering::Equal
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

impl Writer {
    fn key(&self, out: &mut String, key: &str) {
        if self.options.go_style {
            crate::gostyle::write_string(out, key, 0, true);
        } else {
            write_key(out, key);
        }
    }
}

fn write_key(out: &mut String, key: &str) {
    if plain_is_safe(key) {
        out.push_str(key);
    } else {
        write_double_quoted(out, key);
    }
}

/// Writes a number: integers in decimal, floats in shortest round-trip form with a `.` in the
/// mantissa and a signed exponent.
pub fn write_number(out: &mut String, n: &Number) {
    if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
    } else if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}");
    } else if let Some(f) = n.as_f64() {
        out.push_str(&format_float(f));
    }
}

/// The shortest text that reads back as `f`, shaped so YAML 1.1 and 1.2 both resolve it as a
/// float: `1.0`, `-0.5`, `1.0e+300`, `2.5e-8`.
pub fn format_float(f: f64) -> String {
    // `{:e}` is the shortest round-trip digits in scientific form, e.g. `1e300`, `2.5e-8`, `1.5e0`.
    let sci = format!("{f:e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if (-5..=15).contains(&exponent) {
        // Positional form: Rust's `Display` is also shortest round-trip and never uses exponents.
        let mut s = format!("{f}");
        if !s.contains('.') {
            s.push_str(".0");
        }
        return s;
    }
    let mut s = String::from(mantissa);
    if !s.contains('.') {
        s.push_str(".0");
    }
    let _ = write!(
        s,
        "e{}{}",
        if exponent < 0 { '-' } else { '+' },
        exponent.abs()
    );
    s
}

/// Whether `s` can be written as a plain scalar and decoded back as the same string by a YAML 1.1
/// (Go `yaml.v2`/`v3`, `sigs.k8s.io/yaml`) or YAML 1.2 core-schema decoder, in block context.
///
/// The rule is deliberately conservative: a string is plain only if
/// - it is non-empty, has no leading or trailing space, and every character is printable and not
///   a line break or tab (`U+0085`, `U+2028`, `U+2029` and `U+FEFF` count as breaks);
/// - it does not start with an indicator (`-?:,[]{}#&*!|>'"%@` or backtick), except `-`, `?` and
///   `:` followed by a non-space character;
/// - it contains no `: ` and no ` #`, and does not end with `:`;
/// - it is not a YAML 1.1/1.2 null or boolean word (`~`, `null`, `y`, `yes`, `on`, `true`, … in
///   any case) or the merge key `<<`, and does not look like a number or timestamp: it does not
///   start with a digit, or with `+`, `-` or `.` followed by a digit or `.`, unless it also holds a
///   character outside `0-9 a-f A-F x X o O b B _ . : + - e E`, and is not `.inf`/`.nan`-like.
///   A string starting with four digits and `-` (a date) is never plain.
pub fn plain_is_safe(s: &str) -> bool {
    plain_syntax_ok(s) && !looks_like_non_string(s)
}

/// The syntactic half of [`plain_is_safe`]: whether YAML's grammar allows `s` as a plain scalar
/// in block context, whatever type it would resolve to.
pub fn plain_syntax_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.starts_with(' ') || s.ends_with(' ') {
        return false;
    }
    if s.chars().any(|c| !plain_char_ok(c)) {
        return false;
    }
    let second = s[first.len_utf8()..].chars().next();
    match first {
        '-' | '?' | ':' => {
            if matches!(second, None | Some(' ')) {
                return false;
            }
        }
        ',' | '[' | ']' | '{' | '}' | '#' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%'
        | '@' | '`' => return false,
        _ => {}
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    // A `---` or `...` at the start of a line would end the document.
    !(s.starts_with("---") || s.starts_with("..."))
}

fn plain_char_ok(c: char) -> bool {
    match c {
        '\u{20}'..='\u{7E}' => true,
        '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{FEFF}' => false,
        '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}' => true,
        _ => false,
    }
}

/// Whether a plain scalar with this text could resolve to something other than a string under
/// YAML 1.1 or YAML 1.2 (null, boolean, integer, float, timestamp, merge key).
fn looks_like_non_string(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "~", "null", "y", "yes", "n", "no", "true", "false", "on", "off", "<<", "=",
    ];
    if s.len() <= 5 && WORDS.iter().any(|w| w.eq_ignore_ascii_case(s)) {
        return true;
    }
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    if unsigned.len() <= 8
        && [".inf", ".nan", "inf", "nan", "infinity"]
            .iter()
            .any(|w| w.eq_ignore_ascii_case(unsigned))
    {
        return true;
    }
    let bytes = s.as_bytes();
    let numeric_start = bytes[0].is_ascii_digit()
        || (matches!(bytes[0], b'+' | b'-' | b'.')
            && bytes
                .get(1)
                .is_some_and(|b| b.is_ascii_digit() || *b == b'.'));
    if !numeric_start {
        return false;
    }
    if bytes.len() >= 5 && bytes[..4].iter().all(u8::is_ascii_digit) && bytes[4] == b'-' {
        return true;
    }
    s.chars().all(|c| {
        c.is_ascii_hexdigit() || matches!(c, 'x' | 'X' | 'o' | 'O' | '_' | '.' | ':' | '+' | '-')
    })
}

/// Whether `s` can be written as a literal block scalar and read back unchanged: it contains a
/// line feed, every character is printable (tabs allowed, no `\r` or other breaks), its first
/// non-empty line does not start with a space or tab (which would need an indentation indicator), no line
/// consists only of spaces, and it has content before its trailing line feeds.
pub fn literal_block_is_safe(s: &str) -> bool {
    if !s.contains('\n') {
        return false;
    }
    if s.chars()
        .any(|c| c != '\n' && c != '\t' && !plain_char_ok(c))
    {
        return false;
    }
    let body = s.trim_end_matches('\n');
    let first_content = body.trim_start_matches('\n');
    if first_content.is_empty() || first_content.starts_with([' ', '\t']) {
        return false;
    }
    body.split('\n')
        .all(|line| line.is_empty() || !line.chars().all(|c| c == ' ' || c == '\t'))
}

pub(crate) fn write_literal_block(out: &mut String, s: &str, indent: usize) {
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    out.push_str(match trailing {
        0 => "|-",
        1 => "|",
        _ => "|+",
    });
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            pad(out, indent);
            out.push_str(line);
        }
    }
    // The final line break is written by the caller; extra ones are kept (`|+`) as empty lines.
    for _ in 1..trailing {
        out.push('\n');
    }
}

/// Writes `s` double-quoted. Escapes: `\"`, `\\`, `\n`, `\t`, `\r`, `\0`, and `\uXXXX` (or
/// `\UXXXXXXXX`) for every other character that is not printable or is a YAML line break
/// (`U+0085`, `U+2028`, `U+2029`) or `U+FEFF`. Everything else is written as itself.
pub fn write_double_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if plain_char_ok(c) => out.push(c),
            c if (c as u32) <= 0xFFFF => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08X}", c as u32);
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn layout_matches_kubectl_style() {
        let v = json!({
            "kind": "Deployment",
            "spec": {"containers": [{"name": "web", "args": ["-v", "a b"]}], "empty": {}, "none": []},
            "list": [[1, 2], []],
        });
        assert_eq!(
            to_canonical_string(&v),
            "kind: Deployment\nlist:\n- - 1\n  - 2\n- []\nspec:\n  containers:\n  - args:\n    - -v\n    - a b\n    name: web\n  empty: {}\n  none: []\n"
        );
        assert!(to_string(&v).starts_with("kind: Deployment\nspec:\n"));
    }

    #[test]
    fn ambiguous_strings_are_quoted() {
        for s in [
            "yes",
            "No",
            "ON",
            "~",
            "null",
            "0777",
            "1e3",
            "0x1F",
            "1_000",
            "12:30",
            ".5",
            "-1",
            "+.inf",
            ".NaN",
            "2001-12-14",
            "",
            " lead",
            "trail ",
            "a: b",
            "a #b",
            "key:",
            "- x",
            "-",
            "*ref",
            "&a",
            "!tag",
            "%x",
            "@x",
            "`x",
            "{a",
            "[a",
            "#c",
            "'q",
            "\"q",
            "|",
            ">",
            "---",
            "...x",
            "<<",
            "=",
        ] {
            assert!(!plain_is_safe(s), "{s:?} must be quoted");
        }
        for s in [
            "web",
            "nginx:1.25",
            "10m",
            "1Gi",
            "-Xmx512m",
            "a#b",
            "a:b",
            "http://x/y?z=1",
            "é",
            "deadbeef",
            "v1.2.3",
        ] {
            assert!(plain_is_safe(s), "{s:?} should be plain");
        }
    }

    #[test]
    fn floats_read_back_as_floats() {
        assert_eq!(format_float(1.0), "1.0");
        assert_eq!(format_float(-0.5), "-0.5");
        assert_eq!(format_float(1e300), "1.0e+300");
        assert_eq!(format_float(2.5e-8), "2.5e-8");
        assert_eq!(format_float(123456.789), "123456.789");
    }

    #[test]
    fn multi_line_strings_use_literal_blocks() {
        let v = json!({"a": "x\ny\n", "b": "x\ny", "c": "x\n\n", "d": " x\ny", "e": ["p\nq\n"]});
        assert_eq!(
            to_canonical_string(&v),
            "a: |\n  x\n  y\nb: |-\n  x\n  y\nc: |+\n  x\n\nd: \" x\\ny\"\ne:\n- |\n  p\n  q\n"
        );
    }

    #[test]
    fn control_characters_are_escaped() {
        let mut out = String::new();
        write_double_quoted(&mut out, "a\u{1}\u{2028}\"\\");
        assert_eq!(out, "\"a\\u0001\\u2028\\\"\\\\\"");
    }

    #[test]
    fn long_keys_use_explicit_form() {
        let key = "k".repeat(1100);
        let text = to_canonical_string(&json!({ key.clone(): 1 }));
        assert_eq!(text, format!("? {key}\n: 1\n"));
    }
}
