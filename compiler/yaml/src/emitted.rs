//! A fast reader for exactly the YAML that [`crate::emit`] writes.
//!
//! Verifying a bundle decodes every object file; a general YAML decoder spends most of that time
//! on features the emitter never uses. This reader accepts only the emitter's layout (block
//! style, two-space steps, plain/double-quoted/literal scalars on the lines the emitter puts them)
//! and returns `None` for anything else, so callers fall back to [`crate::from_str`].
//!
//! It is sound when paired with a re-emission check: if `parse_emitted(t) == Some(v)` and
//! emitting `v` gives back `t`, then `t` is the emitter's output for `v`, which the round-trip
//! property tests show decodes to `v` with the Go-semantics decoder too.

use serde_json::{Map, Number, Value};

/// Decodes text in the emitter's layout; `None` if the text is not in that layout.
pub fn parse_emitted(text: &str) -> Option<Value> {
    let body = text.strip_suffix('\n')?;
    let lines: Vec<&str> = body.split('\n').collect();
    let mut p = Parser {
        lines,
        line: 0,
        col: 0,
    };
    let value = p.node(0)?;
    (p.line == p.lines.len()).then_some(value)
}

struct Parser<'a> {
    lines: Vec<&'a str>,
    /// Current line index and byte column inside it.
    line: usize,
    col: usize,
}

/// How a piece of text at the cursor starts.
enum Start<'a> {
    SequenceItem,
    Entry,
    Scalar(&'a str),
}

impl<'a> Parser<'a> {
    fn rest(&self) -> Option<&'a str> {
        self.lines.get(self.line).and_then(|l| l.get(self.col..))
    }

    /// The rest of line `i` if it starts with exactly `indent` spaces and then content.
    fn line_at_indent(&self, i: usize, indent: usize) -> Option<&'a str> {
        let line = self.lines.get(i)?;
        let rest = line.get(indent..)?;
        (line.as_bytes()[..indent].iter().all(|&b| b == b' ') && !rest.starts_with(' '))
            .then_some(rest)
    }

    fn classify(text: &'a str) -> Start<'a> {
        if text.starts_with("- ") {
            Start::SequenceItem
        } else if text.starts_with("? ") {
            Start::Entry
        } else if let Some(q) = text.strip_prefix('"') {
            match quoted_end(q) {
                Some(end) if q[end + 1..].starts_with(':') => Start::Entry,
                _ => Start::Scalar(text),
            }
        } else if text.contains(": ") || (text.ends_with(':') && !text.starts_with('|')) {
            Start::Entry
        } else {
            Start::Scalar(text)
        }
    }

    /// A node starting at the cursor, whose block content is indented at `indent`.
    fn node(&mut self, indent: usize) -> Option<Value> {
        let text = self.rest()?;
        match Self::classify(text) {
            Start::SequenceItem => self.sequence(indent),
            Start::Entry => self.mapping(indent),
            Start::Scalar(s) => {
                self.line += 1;
                self.col = 0;
                // Sequence items keep block content at the item's column; a top-level scalar's
                // content is indented two spaces.
                self.scalar(s, indent.max(2))
            }
        }
    }

    /// A sequence whose dashes are at `indent`; the cursor is on the first dash.
    fn sequence(&mut self, indent: usize) -> Option<Value> {
        let mut items = Vec::new();
        loop {
            self.col += 2;
            items.push(self.node(indent + 2)?);
            match self.line_at_indent(self.line, indent) {
                Some(rest) if rest.starts_with("- ") => self.col = indent,
                _ => break,
            }
        }
        Some(Value::Array(items))
    }

    /// A mapping whose keys are at `indent`; the cursor is on the first key.
    fn mapping(&mut self, indent: usize) -> Option<Value> {
        let mut map = Map::new();
        loop {
            let text = self.rest()?;
            let (key, after) = if let Some(explicit) = text.strip_prefix("? ") {
                let key = key_text(explicit)?;
                self.line += 1;
                self.col = indent;
                let next = self.line_at_indent(self.line, indent)?;
                (key, next.strip_prefix(':')?)
            } else {
                split_entry(text)?
            };
            let value = if after.is_empty() {
                self.line += 1;
                self.col = 0;
                match self.line_at_indent(self.line, indent) {
                    Some(rest) if rest.starts_with("- ") => {
                        self.col = indent;
                        self.sequence(indent)?
                    }
                    _ => {
                        self.line_at_indent(self.line, indent + 2)?;
                        self.col = indent + 2;
                        self.mapping(indent + 2)?
                    }
                }
            } else {
                let inline = after.strip_prefix(' ')?;
                self.line += 1;
                self.col = 0;
                self.scalar(inline, indent + 2)?
            };
            if map.insert(key, value).is_some() {
                return None;
            }
            match self.line_at_indent(self.line, indent) {
                Some(rest) if !rest.starts_with("- ") => self.col = indent,
                _ => break,
            }
        }
        Some(Value::Object(map))
    }

    /// An inline scalar; the cursor is already on the next line, where block scalar content
    /// (indented at `content_indent`) would start.
    fn scalar(&mut self, text: &str, content_indent: usize) -> Option<Value> {
        match text {
            "null" => return Some(Value::Null),
            "true" => return Some(Value::Bool(true)),
            "false" => return Some(Value::Bool(false)),
            "{}" => return Some(Value::Object(Map::new())),
            "[]" => return Some(Value::Array(Vec::new())),
            "|" | "|-" | "|+" => return self.literal(text, content_indent),
            _ => {}
        }
        if let Some(q) = text.strip_prefix('"') {
            let end = quoted_end(q)?;
            if end + 1 != q.len() {
                return None;
            }
            return unescape(&q[..end]).map(Value::String);
        }
        if let Some(n) = number(text) {
            return Some(Value::Number(n));
        }
        Some(Value::String(text.to_string()))
    }

    fn literal(&mut self, header: &str, indent: usize) -> Option<Value> {
        let mut body: Vec<&str> = Vec::new();
        while let Some(line) = self.lines.get(self.line) {
            if line.is_empty() {
                body.push("");
            } else if line.len() > indent && line.as_bytes()[..indent].iter().all(|&b| b == b' ') {
                body.push(&line[indent..]);
            } else {
                break;
            }
            self.line += 1;
        }
        let trailing = body.iter().rev().take_while(|l| l.is_empty()).count();
        let content = &body[..body.len() - trailing];
        if content.is_empty() {
            return None;
        }
        let mut s = content.join("\n");
        match header {
            "|-" if trailing == 0 => {}
            "|" if trailing == 0 => s.push('\n'),
            "|+" if trailing > 0 => s.extend(std::iter::repeat_n('\n', trailing + 1)),
            _ => return None,
        }
        self.col = 0;
        Some(Value::String(s))
    }
}

/// Splits `key: value` / `key:` into the key and what follows the colon.
fn split_entry(text: &str) -> Option<(String, &str)> {
    if let Some(q) = text.strip_prefix('"') {
        let end = quoted_end(q)?;
        let key = unescape(&q[..end])?;
        let after = q[end + 1..].strip_prefix(':')?;
        return Some((key, after));
    }
    match text.find(": ") {
        Some(i) => Some((text[..i].to_string(), &text[i + 1..])),
        None => Some((text.strip_suffix(':')?.to_string(), "")),
    }
}

fn key_text(text: &str) -> Option<String> {
    match text.strip_prefix('"') {
        Some(q) => {
            let end = quoted_end(q)?;
            if end + 1 != q.len() {
                return None;
            }
            unescape(&q[..end])
        }
        None => Some(text.to_string()),
    }
}

/// Index of the closing quote in the text after an opening `"`.
fn quoted_end(q: &str) -> Option<usize> {
    let bytes = q.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

fn unescape(s: &str) -> Option<String> {
    if !s.contains('\\') {
        return Some(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let escaped = match chars.next()? {
            '"' => '"',
            '\\' => '\\',
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            '0' => '\0',
            'u' => hex_char(&mut chars, 4)?,
            'U' => hex_char(&mut chars, 8)?,
            _ => return None,
        };
        out.push(escaped);
    }
    Some(out)
}

fn hex_char(chars: &mut std::str::Chars<'_>, digits: usize) -> Option<char> {
    let mut code = 0u32;
    for _ in 0..digits {
        code = code * 16 + chars.next()?.to_digit(16)?;
    }
    char::from_u32(code)
}

/// Integers `-?(0|[1-9][0-9]*)` and floats `-?[0-9]+\.[0-9]+(e[+-][0-9]+)?`.
fn number(text: &str) -> Option<Number> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let first = *digits.as_bytes().first()?;
    if !first.is_ascii_digit() {
        return None;
    }
    if digits.bytes().all(|b| b.is_ascii_digit()) {
        if digits.len() > 1 && first == b'0' {
            return None;
        }
        return if text.starts_with('-') {
            text.parse::<i64>().ok().map(Number::from)
        } else {
            text.parse::<u64>().ok().map(Number::from)
        };
    }
    let (int, rest) = digits.split_once('.')?;
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (frac, exp) = match rest.split_once('e') {
        Some((f, e)) => (f, Some(e)),
        None => (rest, None),
    };
    if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if let Some(e) = exp {
        let e = e.strip_prefix(['+', '-'])?;
        if e.is_empty() || !e.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    Number::from_f64(text.parse::<f64>().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::to_canonical_string;
    use serde_json::json;

    #[test]
    fn reads_what_the_emitter_writes() {
        let v = json!({
            "a": [1, -2, 1.5, 1e300, null, true, "x", "yes", "", {}, [], [[1, 2], {"k": "v", "l": [3]}]],
            "b": {"c": "multi\nline\n", "d": "keep\n\n\n", "e": "strip\nme", "f": " lead\n"},
            "\"q\"": "tab\tand \u{1} \u{10FFFF}",
            "k".repeat(1100): {"x": 1},
        });
        let text = to_canonical_string(&v);
        assert_eq!(parse_emitted(&text), Some(v));
        assert_eq!(parse_emitted("plain\n"), Some(json!("plain")));
        assert_eq!(parse_emitted("- a\n- b\n"), Some(json!(["a", "b"])));
    }

    #[test]
    fn rejects_other_layouts() {
        for text in [
            "a: 1",
            "a:\n    b: 1\n",
            "a: \"x\n",
            "a: 1\na: 2\n",
            "a: |\nb: 1\n",
        ] {
            assert_eq!(parse_emitted(text), None, "{text:?}");
        }
    }
}
