//! `toYaml` exactly as Helm prints it: `sigs.k8s.io/yaml.Marshal`, i.e. Go's `encoding/json`, then the
//! JSON read back by go-yaml v2 (so numbers become ints or floats by their text) and written by go-yaml
//! v2's emitter: keys in go-yaml's natural order, 2-space indent, sequences not indented under their
//! key, go-yaml's quoting rules, literal block scalars for multi-line strings and lines folded after
//! column 80.
//!
//! The emitter below follows libyaml's (as ported in go-yaml v2) column and indentation bookkeeping,
//! because line folding and block-scalar indentation depend on it.

use kiln_gotemplate::Value as GoValue;
use serde_json::{Number, Value};

use crate::gofmt;

const BEST_WIDTH: usize = 80;
const BEST_INDENT: i32 = 2;

/// Marshals a value like `sigs.k8s.io/yaml.Marshal` (the text ends with a newline).
pub fn marshal<N: YamlNode + ?Sized>(v: &N) -> String {
    marshal_with(v, false)
}

fn marshal_with<N: YamlNode + ?Sized>(v: &N, indent_sequences: bool) -> String {
    let mut e = Emitter {
        out: String::new(),
        column: 0,
        whitespace: true,
        indention: true,
        indent_sequences,
    };
    v.emit(&mut e, -1, Ctx::Root);
    e.write_indent(0);
    e.out
}

/// Helm's `toYamlPretty` (go-yaml v3 encoder with 2-space indent: sequences indented under keys).
pub fn to_yaml_pretty<N: YamlNode + ?Sized>(v: &N) -> String {
    let mut s = marshal_with(v, true);
    if s.ends_with('\n') {
        s.pop();
    }
    s
}

/// Helm's `toYaml`: the marshalled text without its final newline.
pub fn to_yaml<N: YamlNode + ?Sized>(v: &N) -> String {
    let mut s = marshal(v);
    if s.ends_with('\n') {
        s.pop();
    }
    s
}

/// A value the emitter can print: JSON, or a template value printed as if it went through
/// `encoding/json` first (without building that JSON: `toYaml` runs on large values often).
pub trait YamlNode {
    #[doc(hidden)]
    fn emit(&self, e: &mut Emitter, indent: i32, ctx: Ctx);
}

impl YamlNode for Value {
    fn emit(&self, e: &mut Emitter, indent: i32, ctx: Ctx) {
        match self {
            Value::Object(m) if !m.is_empty() => {
                let mut entries: Vec<(&str, &Value)> =
                    m.iter().map(|(k, v)| (k.as_str(), v)).collect();
                sort_keys(&mut entries);
                e.mapping(indent, &entries);
            }
            Value::Array(a) if !a.is_empty() => e.sequence(indent, ctx, a),
            Value::Object(_) => e.empty("{", "}"),
            Value::Array(_) => e.empty("[", "]"),
            Value::Null => e.scalar("null", Style::Plain, indent, false),
            Value::Bool(b) => e.scalar(
                if *b { "true" } else { "false" },
                Style::Plain,
                indent,
                false,
            ),
            Value::Number(n) => e.number(n, indent),
            Value::String(s) => e.string(s, indent),
        }
    }
}

impl YamlNode for GoValue {
    fn emit(&self, e: &mut Emitter, indent: i32, ctx: Ctx) {
        match self {
            GoValue::Map(m) => {
                let m = m.read();
                if m.is_empty() {
                    return e.empty("{", "}");
                }
                let mut entries: Vec<(&str, &GoValue)> =
                    m.iter().map(|(k, v)| (k.as_str(), v)).collect();
                sort_keys(&mut entries);
                e.mapping(indent, &entries);
            }
            GoValue::List(l) if l.is_empty() => e.empty("[", "]"),
            GoValue::List(l) => e.sequence(indent, ctx, l),
            GoValue::Nil => e.scalar("null", Style::Plain, indent, false),
            GoValue::Bool(b) => e.scalar(
                if *b { "true" } else { "false" },
                Style::Plain,
                indent,
                false,
            ),
            GoValue::Int(i) => e.number(&Number::from(*i), indent),
            GoValue::Float(f) => match Number::from_f64(*f) {
                Some(n) => e.number(&n, indent),
                None => e.scalar("null", Style::Plain, indent, false),
            },
            GoValue::String(s) => e.string(s, indent),
            GoValue::Bytes(_) | GoValue::Object(_) => {
                crate::funcs::conv::to_json_value(self).emit(e, indent, ctx)
            }
        }
    }
}

/// Orders keys as go-yaml does; template maps usually come in that order already.
fn sort_keys<N: ?Sized>(entries: &mut [(&str, &N)]) {
    if entries
        .windows(2)
        .any(|w| natural_cmp(w[0].0, w[1].0) == std::cmp::Ordering::Greater)
    {
        entries.sort_by(|a, b| natural_cmp(a.0, b.0));
    }
}

#[doc(hidden)]
#[derive(Clone, Copy, PartialEq)]
pub enum Ctx {
    Root,
    MappingValue,
    SequenceItem,
}

#[derive(Clone, Copy, PartialEq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

#[doc(hidden)]
pub struct Emitter {
    out: String,
    column: usize,
    whitespace: bool,
    indention: bool,
    indent_sequences: bool,
}

/// What go-yaml's analysis of a scalar allows.
struct Analysis {
    multiline: bool,
    flow_plain: bool,
    block_plain: bool,
    single_quoted: bool,
    block: bool,
}

impl Emitter {
    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn write_indent(&mut self, indent: i32) {
        let indent = indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(&mut self, ind: &str, need_ws: bool, is_ws: bool, is_indention: bool) {
        if need_ws && !self.whitespace {
            self.put(' ');
        }
        for c in ind.chars() {
            self.put(c);
        }
        self.whitespace = is_ws;
        self.indention = self.indention && is_indention;
    }

    fn mapping<N: YamlNode + ?Sized>(&mut self, indent: i32, entries: &[(&str, &N)]) {
        let inner = if indent < 0 { 0 } else { indent + BEST_INDENT };
        for (k, v) in entries {
            self.write_indent(inner);
            self.key(k);
            self.write_indicator(":", false, false, false);
            v.emit(self, inner, Ctx::MappingValue);
        }
    }

    fn sequence<N: YamlNode>(&mut self, indent: i32, ctx: Ctx, items: &[N]) {
        let indentless = ctx == Ctx::MappingValue && !self.indention && !self.indent_sequences;
        let inner = if indent < 0 {
            0
        } else if indentless {
            indent
        } else {
            indent + BEST_INDENT
        };
        for item in items {
            self.write_indent(inner);
            self.write_indicator("-", true, false, true);
            item.emit(self, inner, Ctx::SequenceItem);
        }
    }

    fn empty(&mut self, open: &str, close: &str) {
        self.write_indicator(open, true, true, false);
        self.write_indicator(close, false, false, false);
    }

    fn number(&mut self, n: &Number, indent: i32) {
        let text = number_text(n);
        self.scalar(&text, Style::Plain, indent, false)
    }

    fn string(&mut self, s: &str, indent: i32) {
        let style = requested_style(s);
        self.scalar(s, style, indent, false)
    }

    fn key(&mut self, k: &str) {
        let style = requested_style(k);
        self.scalar(k, style, 0, true);
    }

    fn scalar(&mut self, s: &str, requested: Style, indent: i32, simple_key: bool) {
        if requested == Style::Plain && is_simple_plain(s) {
            return self.write_simple_plain(s);
        }
        let a = analyze(s);
        let mut style = requested;
        if simple_key && a.multiline {
            style = Style::Double;
        }
        if style == Style::Plain {
            if !a.block_plain {
                style = Style::Single;
            }
            if s.is_empty() && simple_key {
                style = Style::Single;
            }
        }
        if style == Style::Single && !a.single_quoted {
            style = Style::Double;
        }
        if style == Style::Literal && (!a.block || simple_key) {
            style = Style::Double;
        }
        let scalar_indent = if indent < 0 {
            BEST_INDENT
        } else {
            indent + BEST_INDENT
        };
        let allow_breaks = !simple_key;
        match style {
            Style::Plain => self.write_plain(s, scalar_indent, allow_breaks),
            Style::Single => self.write_single(s, scalar_indent, allow_breaks),
            Style::Double => self.write_double(s, scalar_indent, allow_breaks),
            Style::Literal => self.write_literal(s, scalar_indent),
        }
    }

    /// [`Self::write_plain`] for a string [`is_simple_plain`] accepts: no spaces to fold at.
    fn write_simple_plain(&mut self, s: &str) {
        if !self.whitespace {
            self.put(' ');
        }
        self.out.push_str(s);
        self.column += s.len();
        self.whitespace = false;
        self.indention = false;
    }

    fn write_plain(&mut self, s: &str, indent: i32, allow_breaks: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        let mut chars = s.chars().peekable();
        let mut spaces = false;
        while let Some(c) = chars.next() {
            if c == ' ' {
                let next_space = chars.peek() == Some(&' ');
                if allow_breaks && !spaces && self.column > BEST_WIDTH && !next_space {
                    self.write_indent(indent);
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                self.indention = false;
                spaces = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_single(&mut self, s: &str, indent: i32, allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        let mut chars = s.chars().peekable();
        let mut spaces = false;
        let mut breaks = false;
        let mut first = true;
        while let Some(c) = chars.next() {
            if c == ' ' {
                let next = chars.peek();
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && !first
                    && next.is_some()
                    && next != Some(&' ')
                {
                    self.write_indent(indent);
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.put_break();
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent(indent);
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
            first = false;
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double(&mut self, s: &str, indent: i32, allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        let mut chars = s.chars().peekable();
        let mut spaces = false;
        let mut first = true;
        while let Some(c) = chars.next() {
            if !is_printable(c) || c == '\u{feff}' || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                match c {
                    '\0' => self.put('0'),
                    '\u{7}' => self.put('a'),
                    '\u{8}' => self.put('b'),
                    '\t' => self.put('t'),
                    '\n' => self.put('n'),
                    '\u{b}' => self.put('v'),
                    '\u{c}' => self.put('f'),
                    '\r' => self.put('r'),
                    '\u{1b}' => self.put('e'),
                    '"' => self.put('"'),
                    '\\' => self.put('\\'),
                    '\u{85}' => self.put('N'),
                    '\u{a0}' => self.put('_'),
                    '\u{2028}' => self.put('L'),
                    '\u{2029}' => self.put('P'),
                    _ => {
                        let v = c as u32;
                        let (letter, width) = if v <= 0xff {
                            ('x', 2)
                        } else if v <= 0xffff {
                            ('u', 4)
                        } else {
                            ('U', 8)
                        };
                        self.put(letter);
                        for k in (0..width).rev() {
                            let d = (v >> (k * 4)) & 0xf;
                            self.put(
                                std::char::from_digit(d, 16)
                                    .unwrap_or('0')
                                    .to_ascii_uppercase(),
                            );
                        }
                    }
                }
                spaces = false;
            } else if c == ' ' {
                let next = chars.peek();
                if allow_breaks && !spaces && self.column > BEST_WIDTH && !first && next.is_some() {
                    let next_space = next == Some(&' ');
                    self.write_indent(indent);
                    if next_space {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
            first = false;
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_literal(&mut self, s: &str, indent: i32) {
        self.write_indicator("|", true, false, false);
        if s.starts_with(|c: char| c == ' ' || is_break(c)) {
            self.write_indicator(&BEST_INDENT.to_string(), false, false, false);
        }
        let mut rev = s.chars().rev();
        let chomp = match (rev.next(), rev.next()) {
            (None, _) => Some('-'),
            (Some(last), _) if !is_break(last) => Some('-'),
            (Some(_), None) => Some('+'),
            (Some(_), Some(before)) if is_break(before) => Some('+'),
            _ => None,
        };
        if let Some(c) = chomp {
            self.write_indicator(c.encode_utf8(&mut [0; 4]), false, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for c in s.chars() {
            if is_break(c) {
                self.put_break();
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent(indent);
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

fn number_text(n: &Number) -> String {
    // JSON text first, then go-yaml decides int or float from that text.
    let json = gofmt::json_number(n);
    if json.parse::<i64>().is_ok() || json.parse::<u64>().is_ok() {
        return json;
    }
    match json.parse::<f64>() {
        Ok(f) => gofmt::format_g(f),
        Err(_) => json,
    }
}

/// The style go-yaml's encoder asks for: literal for multi-line, plain when the text would read back
/// as a string, double-quoted otherwise.
fn requested_style(s: &str) -> Style {
    if s.contains('\n') {
        Style::Literal
    } else if resolves_to_string(s) && !is_base60_float(s) {
        Style::Plain
    } else {
        Style::Double
    }
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_printable(c: char) -> bool {
    let v = c as u32;
    v == 0x0a
        || (0x20..=0x7e).contains(&v)
        || (0xa0..=0xd7ff).contains(&v)
        || ((0xe000..=0xfffd).contains(&v) && v != 0xfeff)
}

/// Whether `s` is made of characters that [`analyze`] finds nothing to object to anywhere (ASCII
/// letters, digits, `_`, `/`, and `.`, `-` after the first): most names, images and paths are.
/// Such a string is written plain, as it is.
fn is_simple_plain(s: &str) -> bool {
    let b = s.as_bytes();
    match b.first() {
        Some(c) if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'/') => {}
        _ => return false,
    }
    b.iter()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'/' | b'.' | b'-'))
}

fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            multiline: false,
            flow_plain: false,
            block_plain: true,
            single_quoted: true,
            block: false,
        };
    }
    let mut block_ind = false;
    let mut flow_ind = false;
    let mut line_breaks = false;
    let mut special = false;
    let mut leading_space = false;
    let mut leading_break = false;
    let mut trailing_space = false;
    let mut trailing_break = false;
    let mut break_space = false;
    let mut space_break = false;
    let mut prev_space = false;
    let mut prev_break = false;
    if s.starts_with("---") || s.starts_with("...") {
        block_ind = true;
        flow_ind = true;
    }
    let mut preceded_by_ws = true;
    let mut chars = s.chars().peekable();
    let mut first = true;
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        let last = next.is_none();
        let followed_by_ws = next.is_none_or(|d| matches!(d, ' ' | '\t') || is_break(d));
        if first {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => {
                    flow_ind = true;
                    block_ind = true;
                }
                '?' | ':' => {
                    flow_ind = true;
                    if followed_by_ws {
                        block_ind = true;
                    }
                }
                '-' if followed_by_ws => {
                    flow_ind = true;
                    block_ind = true;
                }
                _ => {}
            }
        } else {
            match c {
                ',' | '?' | '[' | ']' | '{' | '}' => flow_ind = true,
                ':' => {
                    flow_ind = true;
                    if followed_by_ws {
                        block_ind = true;
                    }
                }
                '#' if preceded_by_ws => {
                    flow_ind = true;
                    block_ind = true;
                }
                _ => {}
            }
        }
        if !is_printable(c) {
            special = true;
        }
        if c == ' ' {
            if first {
                leading_space = true;
            }
            if last {
                trailing_space = true;
            }
            if prev_break {
                break_space = true;
            }
            prev_space = true;
            prev_break = false;
        } else if is_break(c) {
            line_breaks = true;
            if first {
                leading_break = true;
            }
            if last {
                trailing_break = true;
            }
            if prev_space {
                space_break = true;
            }
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        first = false;
        preceded_by_ws = matches!(c, ' ' | '\t') || is_break(c);
    }
    let mut a = Analysis {
        multiline: line_breaks,
        flow_plain: true,
        block_plain: true,
        single_quoted: true,
        block: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.flow_plain = false;
        a.block_plain = false;
    }
    if trailing_space {
        a.block = false;
    }
    if break_space {
        a.flow_plain = false;
        a.block_plain = false;
        a.single_quoted = false;
    }
    if space_break || special {
        a.flow_plain = false;
        a.block_plain = false;
        a.single_quoted = false;
        a.block = false;
    }
    if line_breaks {
        a.flow_plain = false;
        a.block_plain = false;
    }
    if flow_ind {
        a.flow_plain = false;
    }
    if block_ind {
        a.block_plain = false;
    }
    let _ = a.flow_plain;
    a
}

/// Whether go-yaml v2 would read the plain scalar `s` back as a string.
pub fn resolves_to_string(s: &str) -> bool {
    if s.is_empty() {
        return false;
    }
    const MAP: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "n", "N", "no",
        "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", "~", "null", "Null", "NULL",
        ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
        "-.Inf", "-.INF",
    ];
    let first = s.as_bytes()[0];
    match first {
        b'+' | b'-' | b'0'..=b'9' => {
            if MAP.contains(&s) {
                return false;
            }
            if is_timestamp(s) {
                return false;
            }
            let plain = s.replace('_', "");
            if parse_go_int(&plain) || is_yaml_float(&plain) {
                return false;
            }
            if let Some(rest) = plain
                .strip_prefix("0b")
                .or_else(|| plain.strip_prefix("-0b"))
                && !rest.is_empty()
                && rest.chars().all(|c| c == '0' || c == '1')
            {
                return false;
            }
            true
        }
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => {
            !MAP.contains(&s)
        }
        b'.' => {
            if MAP.contains(&s) {
                return false;
            }
            !go_parse_float_ok(s)
        }
        _ => true,
    }
}

/// `strconv.ParseInt(s, 0, 64)` or `ParseUint` succeeding.
fn parse_go_int(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if body.is_empty() {
        return false;
    }
    let lower = body.to_ascii_lowercase();
    let (digits, radix) = if let Some(r) = lower.strip_prefix("0x") {
        (r, 16)
    } else if let Some(r) = lower.strip_prefix("0o") {
        (r, 8)
    } else if let Some(r) = lower.strip_prefix("0b") {
        (r, 2)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (&lower[1..], 8)
    } else {
        (lower.as_str(), 10)
    };
    !digits.is_empty() && u128::from_str_radix(digits, radix).is_ok_and(|v| v <= u64::MAX as u128)
}

fn is_yaml_float(s: &str) -> bool {
    // ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

fn go_parse_float_ok(s: &str) -> bool {
    let t = s.replace('_', "");
    t.parse::<f64>().is_ok() && !t.eq_ignore_ascii_case(".")
}

/// Dates and times go-yaml v2 would read as timestamps (`2006-1-2`, `2006-1-2T15:4:5Z07:00`, ...).
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 8 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let rest = &s[5..];
    let (date, time) = match rest.find(['T', 't', ' ']) {
        Some(p) => (&rest[..p], Some(&rest[p + 1..])),
        None => (rest, None),
    };
    let mut parts = date.split('-');
    let (Some(m), Some(d), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let num = |x: &str, max: u32| {
        !x.is_empty()
            && x.len() <= 2
            && x.bytes().all(|c| c.is_ascii_digit())
            && x.parse::<u32>().is_ok_and(|v| v >= 1 && v <= max)
    };
    if !num(m, 12) || !num(d, 31) {
        return false;
    }
    let Some(time) = time else { return true };
    let hms_end = time.find(['Z', '+', '-', '.']).unwrap_or(time.len());
    let hms: Vec<&str> = time[..hms_end].split(':').collect();
    if hms.len() != 3
        || hms
            .iter()
            .any(|x| x.is_empty() || x.len() > 2 || !x.bytes().all(|c| c.is_ascii_digit()))
    {
        return false;
    }
    let mut tail = &time[hms_end..];
    if let Some(frac) = tail.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        tail = &frac[n..];
    }
    tail.is_empty() || tail == "Z" || {
        let t = tail.as_bytes();
        (t[0] == b'+' || t[0] == b'-') && tail.len() == 6 && t[3] == b':'
    }
}

fn is_base60_float(s: &str) -> bool {
    // ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    if i >= b.len() || !b[i].is_ascii_digit() {
        return false;
    }
    i += 1;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while i < b.len() && b[i] == b':' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 2 {
            i += 1;
        }
        let g = &b[start..i];
        let ok = match g.len() {
            1 => true,
            2 => g[0] <= b'5',
            _ => false,
        };
        if !ok {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// go-yaml v2's key order: letters after non-letters, digit runs compared as numbers.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let less: fn(&str, &str) -> bool = if a.is_ascii() && b.is_ascii() {
        ascii_key_less
    } else {
        kiln_yaml::gostyle::key_less_v2
    };
    if less(a, b) {
        Ordering::Less
    } else if less(b, a) {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

/// [`kiln_yaml::gostyle::key_less_v2`] for ASCII keys (nearly all keys), on bytes: sorting the
/// keys of every map `toYaml` prints must not allocate per comparison.
fn ascii_key_less(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut i = 0;
    while i < a.len() && i < b.len() {
        if a[i] == b[i] {
            i += 1;
            continue;
        }
        let al = a[i].is_ascii_alphabetic();
        let bl = b[i].is_ascii_alphabetic();
        if al && bl {
            return a[i] < b[i];
        }
        if al || bl {
            return bl;
        }
        let (mut an, mut bn) = (0i64, 0i64);
        if a[i] == b'0' || b[i] == b'0' {
            let mut j = i;
            while j > 0 && a[j - 1].is_ascii_digit() {
                j -= 1;
                if a[j] != b'0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let number = |s: &[u8], mut k: usize, mut n: i64| {
            while k < s.len() && s[k].is_ascii_digit() {
                n = n.wrapping_mul(10).wrapping_add(i64::from(s[k] - b'0'));
                k += 1;
            }
            (n, k)
        };
        let (an, ai) = number(a, i, an);
        let (bn, bi) = number(b, i, bn);
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return a[i] < b[i];
    }
    a.len() < b.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    proptest::proptest! {
        /// Simple plain scalars take the short path, which writes what the general one does.
        #[test]
        fn simple_plain_scalars_write_like_the_general_path(
            s in "[-_./a-zA-Z0-9]{0,12}",
            column in 0usize..100,
            whitespace: bool,
            indention: bool,
            simple_key: bool,
        ) {
            let emitter = || Emitter {
                out: String::new(),
                column,
                whitespace,
                indention,
                indent_sequences: false,
            };
            let mut general = emitter();
            let a = analyze(&s);
            let mut style = Style::Plain;
            if simple_key && a.multiline || !a.block_plain || s.is_empty() && simple_key {
                style = Style::Single;
            }
            if is_simple_plain(&s) {
                proptest::prop_assert!(style == Style::Plain);
                general.write_plain(&s, 2, !simple_key);
                let mut short = emitter();
                short.scalar(&s, Style::Plain, 0, simple_key);
                proptest::prop_assert_eq!(&short.out, &general.out);
                proptest::prop_assert_eq!(short.column, general.column);
                proptest::prop_assert_eq!(short.whitespace, general.whitespace);
                proptest::prop_assert_eq!(short.indention, general.indention);
            }
        }
    }

    #[test]
    fn ascii_key_order_is_go_yamls() {
        let keys = [
            "a", "a1", "a10", "a2", "a02", "a002", "a0", "a00", "b", "B", "_x", "1", "10", "9",
            "01", "001", "x-1", "x_1", "x1y", "x10y", "x9y", "", "a.b", "a-b", "ab1c2", "ab1c10",
            "v1", "v1beta1", "v1alpha1", "v2", "0a", "a0b", "a00b",
        ];
        for a in keys {
            for b in keys {
                assert_eq!(
                    ascii_key_less(a, b),
                    kiln_yaml::gostyle::key_less_v2(a, b),
                    "{a:?} < {b:?}"
                );
            }
        }
    }

    #[test]
    fn template_values_print_like_their_json() {
        let j = json!({"b10": [1, 2.5, "x: y", {"z": null}], "b9": {"c": [], "d": {}},
            "a": "multi\nline\n", "n": 1e21, "t": true, "s": "0x10"});
        let go = kiln_gotemplate::Value::from(&j);
        assert_eq!(to_yaml(&go), to_yaml(&j));
        assert_eq!(to_yaml_pretty(&go), to_yaml_pretty(&j));
    }

    #[test]
    fn maps_sequences_and_scalars() {
        let v = json!({"b": [1, "two", {"x": true, "a": null}], "a": {"c": {}, "d": []}});
        assert_eq!(
            to_yaml(&v),
            "a:\n  c: {}\n  d: []\nb:\n- 1\n- two\n- a: null\n  x: true"
        );
    }

    #[test]
    fn strings_that_read_as_other_types_are_double_quoted() {
        let v = json!({"a": "true", "b": "123", "c": "", "d": "1.5", "e": "0x1F", "f": "yes", "g": "1:20", "h": "2024-01-02"});
        assert_eq!(
            to_yaml(&v),
            "a: \"true\"\nb: \"123\"\nc: \"\"\nd: \"1.5\"\ne: \"0x1F\"\nf: \"yes\"\ng: \"1:20\"\nh: \"2024-01-02\""
        );
    }

    #[test]
    fn indicators_single_quote() {
        let v =
            json!({"a": "foo: bar", "b": "*x", "c": "- x", "d": "a #b", "e": "it's", "f": " lead"});
        assert_eq!(
            to_yaml(&v),
            "a: 'foo: bar'\nb: '*x'\nc: '- x'\nd: 'a #b'\ne: it's\nf: ' lead'"
        );
    }

    #[test]
    fn multiline_strings_are_literal_blocks() {
        let v =
            json!({"a": "x\ny", "b": "x\ny\n", "c": "x\n\n", "d": [" x\ny"], "e": "tab\there\n"});
        assert_eq!(
            to_yaml(&v),
            "a: |-\n  x\n  y\nb: |\n  x\n  y\nc: |+\n  x\n\nd:\n- |2-\n   x\n  y\ne: \"tab\\there\\n\""
        );
    }

    #[test]
    fn numbers_follow_json_then_yaml() {
        let v = json!({"a": 1000000.0, "b": 1.5, "c": 1e21, "d": 123456789.5, "e": 5});
        assert_eq!(
            to_yaml(&v),
            "a: 1000000\nb: 1.5\nc: 1e+21\nd: 1.234567895e+08\ne: 5"
        );
    }

    #[test]
    fn long_plain_strings_fold_after_column_80() {
        let words = "lorem ipsum dolor sit amet ".repeat(5);
        let v = json!({"description": words.trim_end()});
        let out = to_yaml(&v);
        assert_eq!(
            out,
            "description: lorem ipsum dolor sit amet lorem ipsum dolor sit amet lorem ipsum dolor\n  sit amet lorem ipsum dolor sit amet lorem ipsum dolor sit amet"
        );
    }

    #[test]
    fn natural_key_order() {
        let v = json!({"a10": 1, "a2": 2, "B": 3, "_x": 4});
        assert_eq!(to_yaml(&v), "_x: 4\nB: 3\na2: 2\na10: 1");
    }

    /// Recorded from `helm template` (Helm v4.1.4) rendering `toYaml` of the same dict.
    #[test]
    fn matches_helm_on_quoting_corner_cases() {
        let v = json!({"a": "x\ny", "b": "tab\there", "c": "trailing \nspace", "d": 1000000, "e": 1.5,
            "f": 3000000000i64, "g": "", "h": "  lead", "i": [], "j": {}, "k": "null", "l": "a: b", "m": "# c",
            "n": "2024-01-02", "o": "1e3", "p": "0x1F", "q": "y", "r": "~", "s": "-", "t": "a'b", "u": "\u{e9}",
            "v": "\u{1F600}", "w": "1:20", "x": [[1, 2], {"a": 1}], "y": "key with: colon", "z": null});
        let expected = "a: |-\n  x\n  y\nb: \"tab\\there\"\nc: \"trailing \\nspace\"\nd: 1000000\ne: 1.5\nf: 3000000000\ng: \"\"\nh: '  lead'\ni: []\nj: {}\nk: \"null\"\nl: 'a: b'\nm: '# c'\n\"n\": \"2024-01-02\"\no: \"1e3\"\np: \"0x1F\"\nq: \"y\"\nr: \"~\"\ns: '-'\nt: a'b\nu: \u{e9}\nv: \"\\U0001F600\"\nw: \"1:20\"\nx:\n- - 1\n  - 2\n- a: 1\n\"y\": 'key with: colon'\nz: null";
        assert_eq!(to_yaml(&v), expected);
    }

    /// Recorded from Helm: folding of plain, double- and single-quoted long strings.
    #[test]
    fn matches_helm_on_long_strings() {
        let v = json!({
            "long": "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam",
            "longq": "true Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod: tempor incididunt ut labore et dolore magna aliqua. Ut enim",
            "longd": "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod\ttempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam"
        });
        let expected = "long: Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor\n  incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam\nlongd: \"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod\\ttempor\n  incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam\"\nlongq: 'true Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod:\n  tempor incididunt ut labore et dolore magna aliqua. Ut enim'";
        assert_eq!(to_yaml(&v), expected);
    }

    fn random_value(rng: &mut rand_chacha::ChaCha8Rng, depth: u32) -> Value {
        use rand::Rng;
        const PIECES: &[&str] = &[
            "a",
            "b c",
            ": ",
            "#",
            " #x",
            "'",
            "\"",
            "\n",
            "\t",
            " ",
            "-",
            "- ",
            "true",
            "no",
            "1",
            "0x1F",
            "1.5",
            "1e3",
            "~",
            "null",
            "\u{e9}",
            "\u{1F600}",
            "{",
            "[",
            "*",
            "&",
            "!",
            "|",
            ">",
            "%",
            "@",
            "2024-01-02",
            "1:20",
            "---",
            "...",
            "\r",
            "\\",
            "lorem ipsum dolor sit amet ",
        ];
        match rng.random_range(0..if depth > 3 { 5 } else { 7 }) {
            0 => Value::Null,
            1 => Value::Bool(rng.random()),
            2 => json!(rng.random_range(-100000i64..100000)),
            3 => json!(rng.random_range(-1e6f64..1e6)),
            4 => {
                let n = rng.random_range(0..8);
                Value::String(
                    (0..n)
                        .map(|_| PIECES[rng.random_range(0..PIECES.len())])
                        .collect(),
                )
            }
            5 => Value::Array(
                (0..rng.random_range(0..4))
                    .map(|_| random_value(rng, depth + 1))
                    .collect(),
            ),
            _ => Value::Object(
                (0..rng.random_range(0..4))
                    .map(|i| {
                        let k = format!("{}{i}", PIECES[rng.random_range(0..PIECES.len())]);
                        (k, random_value(rng, depth + 1))
                    })
                    .collect(),
            ),
        }
    }

    /// Whatever the data, `toYaml` text reads back as the same data (quoting is never wrong).
    #[test]
    fn output_always_reads_back_as_the_input() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
        for _ in 0..400 {
            let v = json!({"k": random_value(&mut rng, 0)});
            let text = marshal(&v);
            let back = crate::yamlvalues::decode(&text)
                .unwrap_or_else(|e| panic!("{text}\n{}", e.message));
            let norm = |x: &Value| crate::yamlvalues::to_float_numbers(x.clone());
            assert_eq!(norm(&back), norm(&v), "{text}");
        }
    }

    #[test]
    fn scalars_and_empty_at_root() {
        assert_eq!(to_yaml(&json!({})), "{}");
        assert_eq!(to_yaml(&json!([])), "[]");
        assert_eq!(to_yaml(&json!(null)), "null");
    }
}
