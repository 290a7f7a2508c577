//! A block scalar (`key: |`) whose last line ends the file without a line break: Go's YAML
//! decoder (libyaml's reading, which kustomize inherits) adds no final line feed to it, while the
//! YAML test suite, and so kiln's decoder, reads the line as if it ended with one. Files written
//! by editors that drop the final newline are common (ConfigMaps holding nginx or collector
//! configs), so kiln trims that one line feed to print what `kubectl kustomize` prints.

use serde_json::Value;

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// The block scalar header (`|`, `>-`, `|2+`, …) a line ends with, comments aside.
fn header_token(line: &str) -> Option<&str> {
    let code = match line.find(" #") {
        Some(i) => &line[..i],
        None => line,
    };
    let code = code.trim_end();
    let start = code.rfind([' ', '\t']).map_or(0, |i| i + 1);
    let token = &code[start..];
    let rest = token
        .strip_prefix('|')
        .or_else(|| token.strip_prefix('>'))?;
    (rest.len() <= 2
        && rest
            .chars()
            .all(|c| c == '+' || c == '-' || c.is_ascii_digit()))
    .then_some(token)
}

fn opens_block(line: &str) -> bool {
    header_token(line).is_some()
}

/// Strip chomping (`|-`) adds no final line feed in either reading.
fn strips(line: &str) -> bool {
    header_token(line).is_some_and(|t| t.contains('-'))
}

/// The last scalar of a document in source order.
fn last_scalar(v: &mut Value) -> Option<&mut Value> {
    match v {
        Value::Object(m) => m.values_mut().next_back().and_then(last_scalar),
        Value::Array(a) => a.last_mut().and_then(last_scalar),
        other => Some(other),
    }
}

/// Trims the line feed kiln's decoder added to a block scalar that ends the text without a
/// line break. `last_doc` is the decoded last document of `text`.
pub fn fix(text: &str, last_doc: Option<&mut Value>) {
    if text.is_empty() || text.ends_with('\n') || text.ends_with('\r') {
        return;
    }
    let mut lines = text.split('\n').rev();
    let Some(last) = lines.next() else {
        return;
    };
    if last.trim().is_empty() {
        return;
    }
    // Content lines of a block scalar are all indented deeper than its header line, and any
    // line that ends the scalar is not; so the last scalar is a block scalar exactly when some
    // header line sits less indented than every line after it.
    let mut min_indent = indent(last);
    let mut header = None;
    for line in lines {
        if min_indent == 0 {
            break;
        }
        if line.trim().is_empty() {
            continue;
        }
        if indent(line) < min_indent && opens_block(line) {
            header = Some(line);
            break;
        }
        min_indent = min_indent.min(indent(line));
    }
    if header.is_none_or(strips) {
        return;
    }
    if let Some(Value::String(s)) = last_doc.and_then(last_scalar)
        && s.ends_with('\n')
    {
        s.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fixed(text: &str) -> Value {
        let mut v = kiln_yaml::from_str(text).unwrap();
        fix(text, Some(&mut v));
        v
    }

    #[test]
    fn block_scalar_at_eof_has_no_final_line_feed() {
        assert_eq!(
            fixed("d:\n  c: |\n    a:\n      b: x # y\n    c:\n      d: e"),
            json!({"d": {"c": "a:\n  b: x # y\nc:\n  d: e"}})
        );
        assert_eq!(
            fixed("data:\n  conf: |\n    a\n    b"),
            json!({"data": {"conf": "a\nb"}})
        );
        assert_eq!(
            fixed("data:\n  conf: >+ # note\n    a\n\n    b"),
            json!({"data": {"conf": "a\nb"}})
        );
    }

    #[test]
    fn other_endings_are_left_alone() {
        assert_eq!(
            fixed("data:\n  conf: |\n    a\n    b\n"),
            json!({"data": {"conf": "a\nb\n"}})
        );
        assert_eq!(
            fixed("data:\n  conf: |-\n    a\n    b"),
            json!({"data": {"conf": "a\nb"}})
        );
        assert_eq!(fixed("a: \"x\\n\""), json!({"a": "x\n"}));
        assert_eq!(
            fixed("a: |\n  x\nb: plain"),
            json!({"a": "x\n", "b": "plain"})
        );
        assert_eq!(
            fixed("x:\n  a: |\n    t\n  y:\n    z: plain"),
            json!({"x": {"a": "t\n", "y": {"z": "plain"}}})
        );
    }
}
