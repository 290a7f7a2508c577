//! The reference lexer the fast one is checked against: a state-by-state transliteration of Go's
//! `text/template/parse/lex.go` (one `next`/`backup` per character), kept for tests only.

use super::{Item, ItemType, keyword};
use crate::gofmt;

const SPACE_CHARS: &[char] = &[' ', '\t', '\r', '\n'];
const LEFT_COMMENT: &str = "/*";
const RIGHT_COMMENT: &str = "*/";
const TRIM_MARKER_LEN: usize = 2;

#[derive(Clone, Copy)]
enum State {
    Text,
    LeftDelim,
    Comment,
    RightDelim,
    InsideAction,
    Space,
    Identifier,
    Field,
    Variable,
    Char,
    Number,
    Quote,
    RawQuote,
}

pub(crate) struct ReferenceLexer<'a> {
    input: &'a str,
    left: &'a str,
    right: &'a str,
    pos: usize,
    start: usize,
    at_eof: bool,
    paren_depth: i32,
    line: usize,
    start_line: usize,
    inside_action: bool,
    break_ok: bool,
    continue_ok: bool,
    done: bool,
    error: Option<String>,
    /// Vectorised search for the left delimiter.
    left_finder: memchr::memmem::Finder<'a>,
}

fn is_space(r: Option<char>) -> bool {
    matches!(r, Some(' ' | '\t' | '\r' | '\n'))
}

fn is_alnum(r: Option<char>) -> bool {
    match r {
        Some(c) if c.is_ascii() => c == '_' || c.is_ascii_alphanumeric(),
        Some(c) => c.is_alphabetic() || is_unicode_digit(c),
        None => false,
    }
}

/// Go's `unicode.IsDigit` (category Nd).
fn is_unicode_digit(c: char) -> bool {
    c.is_ascii_digit() || (!c.is_ascii() && is_nd(c))
}

fn is_nd(c: char) -> bool {
    // Decimal digits outside ASCII: every Nd block is a run of ten starting at a code point whose
    // value is 0. `char::is_numeric` also covers No/Nl (e.g. '²', 'Ⅻ'), which Go rejects.
    const ND_STARTS: &[u32] = &[
        0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xDE6,
        0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
        0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
        0xFF10,
    ];
    let u = c as u32;
    ND_STARTS.iter().any(|&s| u >= s && u < s + 10)
}

fn count_newlines(s: &str) -> usize {
    memchr::memchr_iter(b'\n', s.as_bytes()).count()
}

fn is_printable_ascii(c: char) -> bool {
    (' '..='~').contains(&c)
}

fn has_left_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && b[0] == b'-' && is_space(Some(b[1] as char))
}

fn has_right_trim_marker(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 2 && is_space(Some(b[0] as char)) && b[1] == b'-'
}

impl<'a> ReferenceLexer<'a> {
    pub(crate) fn new(
        input: &'a str,
        left: &'a str,
        right: &'a str,
        break_ok: bool,
        continue_ok: bool,
    ) -> Self {
        ReferenceLexer {
            input,
            left,
            right,
            pos: 0,
            start: 0,
            at_eof: false,
            paren_depth: 0,
            line: 1,
            start_line: 1,
            inside_action: false,
            break_ok,
            continue_ok,
            done: false,
            error: None,
            left_finder: memchr::memmem::Finder::new(left.as_bytes()),
        }
    }

    fn next(&mut self) -> Option<char> {
        if let Some(&b) = self.input.as_bytes().get(self.pos)
            && b.is_ascii()
        {
            self.pos += 1;
            if b == b'\n' {
                self.line += 1;
            }
            return Some(b as char);
        }
        match self.input[self.pos..].chars().next() {
            None => {
                self.at_eof = true;
                None
            }
            Some(c) => {
                self.pos += c.len_utf8();
                if c == '\n' {
                    self.line += 1;
                }
                Some(c)
            }
        }
    }

    fn peek(&mut self) -> Option<char> {
        match self.input.as_bytes().get(self.pos) {
            Some(&b) if b.is_ascii() => Some(b as char),
            _ => self.input[self.pos..].chars().next(),
        }
    }

    /// Skips ASCII letters, digits and `_` (the common case of `is_alnum`).
    fn skip_ascii_alnum(&mut self) {
        let bytes = self.input.as_bytes();
        while let Some(&b) = bytes.get(self.pos) {
            if b == b'_' || b.is_ascii_alphanumeric() {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn backup(&mut self) {
        if !self.at_eof
            && self.pos > 0
            && let Some(c) = self.input[..self.pos].chars().next_back()
        {
            self.pos -= c.len_utf8();
            if c == '\n' {
                self.line -= 1;
            }
        }
    }

    fn this_item(&mut self, typ: ItemType) -> Item {
        let i = Item::new(typ, self.start, self.pos - self.start, self.start_line);
        self.start = self.pos;
        self.start_line = self.line;
        i
    }

    fn ignore(&mut self) {
        self.line += count_newlines(&self.input[self.start..self.pos]);
        self.start = self.pos;
        self.start_line = self.line;
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.next() {
            Some(c) if valid.contains(c) => true,
            _ => {
                self.backup();
                false
            }
        }
    }

    fn accept_run(&mut self, valid: &str) {
        while matches!(self.next(), Some(c) if valid.contains(c)) {}
        self.backup();
    }

    fn errorf(&mut self, msg: String) -> Item {
        let i = Item::new(ItemType::Error, self.start, 0, self.start_line);
        self.error = Some(msg);
        self.done = true;
        i
    }

    /// The message of the error token, once one was returned.
    pub(crate) fn error_message(&self) -> &str {
        self.error.as_deref().unwrap_or_default()
    }

    fn at_right_delim(&self) -> (bool, bool) {
        let rest = &self.input.as_bytes()[self.pos..];
        let right = self.right.as_bytes();
        if rest.len() >= 2
            && matches!(rest[0], b' ' | b'\t' | b'\r' | b'\n')
            && rest[1] == b'-'
            && rest[2..].starts_with(right)
        {
            return (true, true);
        }
        (rest.starts_with(right), false)
    }

    fn at_terminator(&mut self) -> bool {
        let rest = &self.input.as_bytes()[self.pos..];
        match rest.first() {
            None | Some(b' ' | b'\t' | b'\r' | b'\n' | b'.' | b',' | b'|' | b':' | b')' | b'(') => {
                true
            }
            _ => rest.starts_with(self.right.as_bytes()),
        }
    }

    /// The next token (Go's `nextItem`); after an error or EOF it keeps returning EOF.
    pub(crate) fn next_item(&mut self) -> Item {
        if self.done {
            return Item::new(ItemType::Eof, self.pos, 0, self.start_line);
        }
        let mut state = if self.inside_action {
            State::InsideAction
        } else {
            State::Text
        };
        loop {
            let step = match state {
                State::Text => self.lex_text(),
                State::LeftDelim => self.lex_left_delim(),
                State::Comment => self.lex_comment(),
                State::RightDelim => self.lex_right_delim(),
                State::InsideAction => self.lex_inside_action(),
                State::Space => self.lex_space(),
                State::Identifier => self.lex_identifier(),
                State::Field => self.lex_field_or_variable(ItemType::Field),
                State::Variable => self.lex_variable(),
                State::Char => self.lex_char(),
                State::Number => self.lex_number(),
                State::Quote => self.lex_quote(),
                State::RawQuote => self.lex_raw_quote(),
            };
            match step {
                Ok(item) => {
                    if item.typ == ItemType::Eof {
                        self.done = true;
                    }
                    return item;
                }
                Err(next) => state = next,
            }
        }
    }

    fn lex_text(&mut self) -> Result<Item, State> {
        if let Some(x) = self.left_finder.find(&self.input.as_bytes()[self.pos..]) {
            if x > 0 {
                self.pos += x;
                let mut trim = 0;
                let delim_end = self.pos + self.left.len();
                if has_left_trim_marker(&self.input[delim_end..]) {
                    let s = &self.input[self.start..self.pos];
                    trim = s.len() - s.trim_end_matches(SPACE_CHARS).len();
                }
                self.pos -= trim;
                self.line += count_newlines(&self.input[self.start..self.pos]);
                let i = self.this_item(ItemType::Text);
                self.pos += trim;
                self.ignore();
                if !i.is_empty() {
                    return Ok(i);
                }
            }
            return Err(State::LeftDelim);
        }
        self.pos = self.input.len();
        if self.pos > self.start {
            self.line += count_newlines(&self.input[self.start..self.pos]);
            return Ok(self.this_item(ItemType::Text));
        }
        Ok(self.this_item(ItemType::Eof))
    }

    fn lex_left_delim(&mut self) -> Result<Item, State> {
        self.pos += self.left.len();
        let trim = has_left_trim_marker(&self.input[self.pos..]);
        let after = if trim { TRIM_MARKER_LEN } else { 0 };
        if self.input[self.pos + after..].starts_with(LEFT_COMMENT) {
            self.pos += after;
            self.ignore();
            return Err(State::Comment);
        }
        let i = self.this_item(ItemType::LeftDelim);
        self.inside_action = true;
        self.pos += after;
        self.ignore();
        self.paren_depth = 0;
        Ok(i)
    }

    fn lex_comment(&mut self) -> Result<Item, State> {
        self.pos += LEFT_COMMENT.len();
        let Some(x) = self.input[self.pos..].find(RIGHT_COMMENT) else {
            return Ok(self.errorf("unclosed comment".into()));
        };
        self.pos += x + RIGHT_COMMENT.len();
        let (delim, trim) = self.at_right_delim();
        if !delim {
            return Ok(self.errorf("comment ends before closing delimiter".into()));
        }
        self.line += count_newlines(&self.input[self.start..self.pos]);
        self.start = self.pos;
        self.start_line = self.line;
        if trim {
            self.pos += TRIM_MARKER_LEN;
        }
        self.pos += self.right.len();
        if trim {
            let s = &self.input[self.pos..];
            self.pos += s.len() - s.trim_start_matches(SPACE_CHARS).len();
        }
        self.ignore();
        Err(State::Text)
    }

    fn lex_right_delim(&mut self) -> Result<Item, State> {
        let (_, trim) = self.at_right_delim();
        if trim {
            self.pos += TRIM_MARKER_LEN;
            self.ignore();
        }
        self.pos += self.right.len();
        let i = self.this_item(ItemType::RightDelim);
        if trim {
            let s = &self.input[self.pos..];
            self.pos += s.len() - s.trim_start_matches(SPACE_CHARS).len();
            self.ignore();
        }
        self.inside_action = false;
        Ok(i)
    }

    fn lex_inside_action(&mut self) -> Result<Item, State> {
        let (delim, _) = self.at_right_delim();
        if delim {
            if self.paren_depth == 0 {
                return Err(State::RightDelim);
            }
            return Ok(self.errorf("unclosed left paren".into()));
        }
        let r = self.next();
        match r {
            None => Ok(self.errorf("unclosed action".into())),
            Some(c) if is_space(Some(c)) => {
                self.backup();
                Err(State::Space)
            }
            Some('=') => Ok(self.this_item(ItemType::Assign)),
            Some(':') => {
                if self.next() != Some('=') {
                    return Ok(self.errorf("expected :=".into()));
                }
                Ok(self.this_item(ItemType::Declare))
            }
            Some('|') => Ok(self.this_item(ItemType::Pipe)),
            Some('"') => Err(State::Quote),
            Some('`') => Err(State::RawQuote),
            Some('$') => Err(State::Variable),
            Some('\'') => Err(State::Char),
            Some('.') => {
                if let Some(&b) = self.input.as_bytes().get(self.pos)
                    && !b.is_ascii_digit()
                {
                    return Err(State::Field);
                }
                self.backup();
                Err(State::Number)
            }
            Some('+' | '-' | '0'..='9') => {
                self.backup();
                Err(State::Number)
            }
            Some(c) if is_alnum(Some(c)) => {
                self.backup();
                Err(State::Identifier)
            }
            Some('(') => {
                self.paren_depth += 1;
                Ok(self.this_item(ItemType::LeftParen))
            }
            Some(')') => {
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    return Ok(self.errorf("unexpected right paren".into()));
                }
                Ok(self.this_item(ItemType::RightParen))
            }
            Some(c) if is_printable_ascii(c) => Ok(self.this_item(ItemType::Char)),
            Some(c) => Ok(self.errorf(format!(
                "unrecognized character in action: {}",
                gofmt::format_unicode_sharp(c)
            ))),
        }
    }

    fn lex_space(&mut self) -> Result<Item, State> {
        let mut n = 0;
        while is_space(self.peek()) {
            self.next();
            n += 1;
        }
        let rest = &self.input[self.pos - 1..];
        if has_right_trim_marker(rest) && rest[TRIM_MARKER_LEN..].starts_with(self.right) {
            self.backup();
            if n == 1 {
                return Err(State::RightDelim);
            }
        }
        Ok(self.this_item(ItemType::Space))
    }

    fn lex_identifier(&mut self) -> Result<Item, State> {
        self.skip_ascii_alnum();
        loop {
            let r = self.next();
            if is_alnum(r) {
                continue;
            }
            self.backup();
            if !self.at_terminator() {
                return Ok(self.bad_character(r));
            }
            let word = &self.input[self.start..self.pos];
            if let Some(k) = keyword(word) {
                if (k == ItemType::Break && !self.break_ok)
                    || (k == ItemType::Continue && !self.continue_ok)
                {
                    return Ok(self.this_item(ItemType::Identifier));
                }
                return Ok(self.this_item(k));
            }
            if word.starts_with('.') {
                return Ok(self.this_item(ItemType::Field));
            }
            if word == "true" || word == "false" {
                return Ok(self.this_item(ItemType::Bool));
            }
            return Ok(self.this_item(ItemType::Identifier));
        }
    }

    fn bad_character(&mut self, r: Option<char>) -> Item {
        let shown = match r {
            Some(c) => gofmt::format_unicode_sharp(c),
            None => "U+FFFFFFFFFFFFFFFF".to_string(),
        };
        self.errorf(format!("bad character {shown}"))
    }

    fn lex_variable(&mut self) -> Result<Item, State> {
        if self.at_terminator() {
            return Ok(self.this_item(ItemType::Variable));
        }
        self.lex_field_or_variable(ItemType::Variable)
    }

    fn lex_field_or_variable(&mut self, typ: ItemType) -> Result<Item, State> {
        if self.at_terminator() {
            return Ok(self.this_item(if typ == ItemType::Variable {
                ItemType::Variable
            } else {
                ItemType::Dot
            }));
        }
        let mut r;
        self.skip_ascii_alnum();
        loop {
            r = self.next();
            if !is_alnum(r) {
                self.backup();
                break;
            }
        }
        if !self.at_terminator() {
            return Ok(self.bad_character(r));
        }
        Ok(self.this_item(typ))
    }

    fn lex_char(&mut self) -> Result<Item, State> {
        loop {
            match self.next() {
                Some('\\') => {
                    let r = self.next();
                    if r.is_some() && r != Some('\n') {
                        continue;
                    }
                    return Ok(self.errorf("unterminated character constant".into()));
                }
                None | Some('\n') => {
                    return Ok(self.errorf("unterminated character constant".into()));
                }
                Some('\'') => break,
                _ => {}
            }
        }
        Ok(self.this_item(ItemType::CharConstant))
    }

    fn lex_number(&mut self) -> Result<Item, State> {
        if !self.scan_number() {
            let text = self.input[self.start..self.pos].to_string();
            return Ok(self.errorf(format!("bad number syntax: {}", gofmt::quote(&text))));
        }
        if matches!(self.peek(), Some('+' | '-')) {
            if !self.scan_number() || !self.input[..self.pos].ends_with('i') {
                let text = self.input[self.start..self.pos].to_string();
                return Ok(self.errorf(format!("bad number syntax: {}", gofmt::quote(&text))));
            }
            return Ok(self.this_item(ItemType::Complex));
        }
        Ok(self.this_item(ItemType::Number))
    }

    fn scan_number(&mut self) -> bool {
        self.accept("+-");
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        self.accept_run(digits);
        if self.accept(".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept("eE") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        if digits.len() == 23 && self.accept("pP") {
            self.accept("+-");
            self.accept_run("0123456789_");
        }
        self.accept("i");
        if is_alnum(self.peek()) {
            self.next();
            return false;
        }
        true
    }

    fn lex_quote(&mut self) -> Result<Item, State> {
        loop {
            match self.next() {
                Some('\\') => {
                    let r = self.next();
                    if r.is_some() && r != Some('\n') {
                        continue;
                    }
                    return Ok(self.errorf("unterminated quoted string".into()));
                }
                None | Some('\n') => return Ok(self.errorf("unterminated quoted string".into())),
                Some('"') => break,
                _ => {}
            }
        }
        Ok(self.this_item(ItemType::String))
    }

    fn lex_raw_quote(&mut self) -> Result<Item, State> {
        loop {
            match self.next() {
                None => return Ok(self.errorf("unterminated raw quoted string".into())),
                Some('`') => break,
                _ => {}
            }
        }
        Ok(self.this_item(ItemType::RawString))
    }
}
