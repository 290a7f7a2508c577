//! The lexer: turns template text into Go's token stream, including the `{{-`/`-}}` trim markers
//! and comments, with Go's error messages. Token boundaries, positions and lines (which show up in
//! error messages) are those of Go's `text/template/parse/lex.go`; it scans bytes rather than
//! stepping a state machine one character at a time, since every byte Go's states look at is
//! ASCII and UTF-8 never puts an ASCII byte inside a multi-byte character. Tests check it token
//! for token against `reference`, a literal transliteration of Go's lexer.

use crate::gofmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ItemType {
    Error,
    Bool,
    Char,
    CharConstant,
    Complex,
    Assign,
    Declare,
    Eof,
    Field,
    Identifier,
    LeftDelim,
    LeftParen,
    Number,
    Pipe,
    RawString,
    RightDelim,
    RightParen,
    Space,
    String,
    Text,
    Variable,
    // Keywords.
    Block,
    Break,
    Continue,
    Dot,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

impl ItemType {
    fn is_keyword(self) -> bool {
        matches!(
            self,
            ItemType::Block
                | ItemType::Break
                | ItemType::Continue
                | ItemType::Dot
                | ItemType::Define
                | ItemType::Else
                | ItemType::End
                | ItemType::If
                | ItemType::Nil
                | ItemType::Range
                | ItemType::Template
                | ItemType::With
        )
    }
}

fn keyword(word: &str) -> Option<ItemType> {
    Some(match word {
        "." => ItemType::Dot,
        "block" => ItemType::Block,
        "break" => ItemType::Break,
        "continue" => ItemType::Continue,
        "define" => ItemType::Define,
        "else" => ItemType::Else,
        "end" => ItemType::End,
        "if" => ItemType::If,
        "range" => ItemType::Range,
        "nil" => ItemType::Nil,
        "template" => ItemType::Template,
        "with" => ItemType::With,
        _ => return None,
    })
}

/// A token: its type, byte offset, length and line; its text is that range of the lexer's input
/// ([`Item::val`]). An error token's message is kept by the lexer ([`Lexer::error_message`]).
/// Sixteen bytes, so that tokens are returned and copied in registers: input is at most
/// [`MAX_INPUT`] bytes long.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Item {
    pub typ: ItemType,
    pos: u32,
    len: u32,
    line: u32,
}

/// The longest input the lexer takes: offsets and lines are kept in 32 bits.
pub(crate) const MAX_INPUT: usize = u32::MAX as usize;

impl Item {
    /// A token of `len` bytes at `pos`; both lie within an input of at most [`MAX_INPUT`] bytes.
    pub(crate) fn new(typ: ItemType, pos: usize, len: usize, line: usize) -> Item {
        Item {
            typ,
            pos: pos as u32,
            len: len as u32,
            line: line as u32,
        }
    }

    /// The byte offset of the token.
    pub(crate) fn pos(&self) -> usize {
        self.pos as usize
    }

    /// The line the token starts on.
    pub(crate) fn line(&self) -> usize {
        self.line as usize
    }

    /// The length of the token's text in bytes.
    pub(crate) fn len(&self) -> usize {
        self.len as usize
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The token's text, from the input it was lexed from (empty for errors and EOF).
    pub(crate) fn val<'a>(&self, input: &'a str) -> &'a str {
        &input[self.pos()..self.pos() + self.len()]
    }

    /// Go's `item.String()`, used in "unexpected X in Y" messages; `message` is the lexer's
    /// error message, shown for an error token.
    pub(crate) fn describe(&self, input: &str, message: &str) -> String {
        let val = self.val(input);
        match self.typ {
            ItemType::Eof => "EOF".to_string(),
            ItemType::Error => message.to_string(),
            t if t.is_keyword() => format!("<{val}>"),
            _ if val.chars().count() > 10 => {
                let head: String = val.chars().take(10).collect();
                format!("{}...", gofmt::quote(&head))
            }
            _ => gofmt::quote(val),
        }
    }
}

const LEFT_COMMENT: &[u8] = b"/*";
const RIGHT_COMMENT: &[u8] = b"*/";
const TRIM_MARKER_LEN: usize = 2;

// Whether the lexer's skipping fast paths are on: tests turn them off to compare parses with
// and without them.
#[cfg(test)]
thread_local! {
    static FAST_PATHS: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

/// Runs `f` with the lexer's fast paths ([`Lexer::skip_spaces_in_action`],
/// [`Lexer::skip_ascii_fields`]) off on this thread.
#[cfg(test)]
pub(crate) fn without_fast_paths<T>(f: impl FnOnce() -> T) -> T {
    FAST_PATHS.with(|on| on.set(false));
    let r = f();
    FAST_PATHS.with(|on| on.set(true));
    r
}

fn fast_paths() -> bool {
    #[cfg(test)]
    return FAST_PATHS.with(std::cell::Cell::get);
    #[cfg(not(test))]
    true
}

pub(crate) struct Lexer<'a> {
    input: &'a str,
    left_len: usize,
    right: &'a [u8],
    pos: usize,
    start: usize,
    paren_depth: i32,
    line: usize,
    start_line: usize,
    inside_action: bool,
    break_ok: bool,
    continue_ok: bool,
    done: bool,
    error: Option<String>,
    /// Vectorised searches for the left delimiter and the end of a comment.
    left_finder: memchr::memmem::Finder<'a>,
    comment_end: memchr::memmem::Finder<'static>,
}

/// Byte classes, looked up in [`CLASS`]: the lexer's inner loops test one table entry per byte.
const ALNUM: u8 = 1;
const SPACE: u8 = 2;
/// Ends a field, variable or identifier (with the right delimiter and the end of input).
const TERMINATOR: u8 = 4;

static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c == b'_' || c.is_ascii_alphanumeric() {
            t[b] = ALNUM;
        }
        if matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
            t[b] = SPACE | TERMINATOR;
        }
        if matches!(c, b'.' | b',' | b'|' | b':' | b')' | b'(') {
            t[b] = TERMINATOR;
        }
        b += 1;
    }
    t
};

fn is_space(b: u8) -> bool {
    CLASS[b as usize] & SPACE != 0
}

fn is_ascii_alnum(b: u8) -> bool {
    CLASS[b as usize] & ALNUM != 0
}

/// Go's `isAlphaNumeric`: `_`, a Unicode letter or a decimal digit.
fn is_alnum(c: char) -> bool {
    if c.is_ascii() {
        is_ascii_alnum(c as u8)
    } else {
        c.is_alphabetic() || is_nd(c)
    }
}

/// Whether `c` (not ASCII) is a decimal digit (Unicode category Nd, Go's `unicode.IsDigit`).
fn is_nd(c: char) -> bool {
    // Every Nd block is a run of ten starting at a code point whose value is 0.
    // `char::is_numeric` also covers No/Nl (e.g. '²', 'Ⅻ'), which Go rejects.
    const ND_STARTS: &[u32] = &[
        0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xDE6,
        0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
        0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
        0xFF10,
    ];
    let u = c as u32;
    ND_STARTS.iter().any(|&s| u >= s && u < s + 10)
}

fn count_newlines(b: &[u8]) -> usize {
    // Most slices counted are a delimiter or a few spaces long: too short to pay for a
    // vectorised search.
    if b.len() < 32 {
        return b.iter().filter(|&&c| c == b'\n').count();
    }
    memchr::memchr_iter(b'\n', b).count()
}

fn has_left_trim_marker(b: &[u8]) -> bool {
    b.len() >= 2 && b[0] == b'-' && is_space(b[1])
}

/// The digits a numeric literal may use after its base prefix.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Digits {
    Decimal,
    Hex,
    Octal,
    Binary,
}

impl Digits {
    fn accepts(self, b: u8) -> bool {
        b == b'_'
            || match self {
                Digits::Decimal => b.is_ascii_digit(),
                Digits::Hex => b.is_ascii_hexdigit(),
                Digits::Octal => (b'0'..=b'7').contains(&b),
                Digits::Binary => b == b'0' || b == b'1',
            }
    }
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(
        input: &'a str,
        left: &'a str,
        right: &'a str,
        break_ok: bool,
        continue_ok: bool,
    ) -> Self {
        Lexer {
            input,
            left_len: left.len(),
            right: right.as_bytes(),
            pos: 0,
            start: 0,
            paren_depth: 0,
            line: 1,
            start_line: 1,
            inside_action: false,
            break_ok,
            continue_ok,
            done: false,
            error: None,
            left_finder: memchr::memmem::Finder::new(left.as_bytes()),
            comment_end: memchr::memmem::Finder::new(RIGHT_COMMENT),
        }
    }

    fn bytes(&self) -> &'a [u8] {
        self.input.as_bytes()
    }

    fn byte(&self, at: usize) -> Option<u8> {
        self.bytes().get(at).copied()
    }

    /// The character at the current position.
    fn char_here(&self) -> Option<char> {
        match self.byte(self.pos) {
            Some(b) if b.is_ascii() => Some(b as char),
            _ => self.input[self.pos..].chars().next(),
        }
    }

    /// Consumes the character at the current position, if any (Go's `next` when the rune it
    /// returns no longer matters).
    fn skip_char(&mut self) {
        if let Some(c) = self.char_here() {
            self.pos += c.len_utf8();
            if c == '\n' {
                self.line += 1;
            }
        }
    }

    fn emit(&mut self, typ: ItemType) -> Item {
        let i = Item::new(typ, self.start, self.pos - self.start, self.start_line);
        self.start = self.pos;
        self.start_line = self.line;
        i
    }

    fn ignore(&mut self) {
        self.line += count_newlines(&self.bytes()[self.start..self.pos]);
        self.start = self.pos;
        self.start_line = self.line;
    }

    fn skip_spaces(&mut self) {
        while self.byte(self.pos).is_some_and(is_space) {
            self.pos += 1;
        }
    }

    #[cold]
    #[inline(never)]
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

    /// Whether `rest` starts with the right delimiter.
    fn is_right_delim(&self, rest: &[u8]) -> bool {
        // Two bytes (the default `}}`) are compared inline: too short to pay for `memcmp`.
        match (self.right, rest) {
            ([a, b], [x, y, ..]) => a == x && b == y,
            ([_, _], _) => false,
            (right, rest) => rest.starts_with(right),
        }
    }

    /// Whether the right delimiter starts here, and whether a trim marker precedes it.
    fn at_right_delim(&self) -> (bool, bool) {
        let rest = &self.bytes()[self.pos..];
        if rest.len() >= 2
            && is_space(rest[0])
            && rest[1] == b'-'
            && self.is_right_delim(&rest[2..])
        {
            return (true, true);
        }
        (self.is_right_delim(rest), false)
    }

    fn at_terminator(&self) -> bool {
        let rest = &self.bytes()[self.pos..];
        match rest.first() {
            None => true,
            Some(&b) => CLASS[b as usize] & TERMINATOR != 0 || self.is_right_delim(rest),
        }
    }

    /// The next token (Go's `nextItem`); after an error or EOF it keeps returning EOF.
    pub(crate) fn next_item(&mut self) -> Item {
        if self.done {
            return Item::new(ItemType::Eof, self.pos, 0, self.start_line);
        }
        let item = if self.inside_action {
            self.lex_inside_action()
        } else {
            self.lex_text()
        };
        if item.typ == ItemType::Eof {
            self.done = true;
        }
        item
    }

    /// Skips the spaces at the current position inside an action, leaving the lexer as lexing
    /// their `Space` token would; false (nothing skipped) when there are none, or when they may
    /// belong to a trim marker or a delimiter (then [`Lexer::next_item`] must lex them). The
    /// parser drops most `Space` tokens unseen: this spares it their tokens.
    #[inline]
    pub(crate) fn skip_spaces_in_action(&mut self) -> bool {
        self.inside_action
            && self.byte(self.pos).is_some_and(is_space)
            && self.skip_spaces_in_action_here()
    }

    fn skip_spaces_in_action_here(&mut self) -> bool {
        if self.done
            || !self.inside_action
            || self.right.first().is_some_and(|&b| is_space(b))
            || !fast_paths()
        {
            return false;
        }
        let bytes = self.bytes();
        let mut p = self.pos;
        let mut lines = 0;
        while let Some(&b) = bytes.get(p).filter(|&&b| is_space(b)) {
            lines += usize::from(b == b'\n');
            p += 1;
        }
        if p == self.pos || (bytes.get(p) == Some(&b'-') && self.is_right_delim(&bytes[p + 1..])) {
            return false;
        }
        self.pos = p;
        self.line += lines;
        self.start = p;
        self.start_line = self.line;
        true
    }

    /// Consumes the fields (`.x.y`) right after a field or variable token, leaving the lexer as
    /// lexing their `Field` tokens would, and returns where they end; `None` (nothing consumed)
    /// unless at least one plain ASCII field follows. A field this does not take (one with a
    /// non-ASCII letter, or followed by a bad character) is left to [`Lexer::next_item`].
    #[inline]
    pub(crate) fn skip_ascii_fields(&mut self) -> Option<usize> {
        if self.byte(self.pos) != Some(b'.') {
            return None;
        }
        self.skip_ascii_fields_here()
    }

    fn skip_ascii_fields_here(&mut self) -> Option<usize> {
        if self.done || !self.inside_action || !fast_paths() {
            return None;
        }
        let bytes = self.bytes();
        let mut end = None;
        let mut p = self.pos;
        // Here `bytes[p]` is a `.`.
        loop {
            let name = &bytes[p + 1..];
            let len = name
                .iter()
                .position(|&b| !is_ascii_alnum(b))
                .unwrap_or(name.len());
            if len == 0 || name[0].is_ascii_digit() {
                break;
            }
            let q = p + 1 + len;
            let terminated = match bytes.get(q) {
                None => true,
                Some(&b) => CLASS[b as usize] & TERMINATOR != 0 || self.is_right_delim(&bytes[q..]),
            };
            if !terminated {
                break;
            }
            end = Some(q);
            if bytes.get(q) != Some(&b'.') {
                break;
            }
            p = q;
        }
        let end = end?;
        self.pos = end;
        self.start = end;
        Some(end)
    }

    /// Text up to the next action, or the action's left delimiter; comments are skipped.
    fn lex_text(&mut self) -> Item {
        loop {
            let Some(x) = self.left_finder.find(&self.bytes()[self.pos..]) else {
                self.pos = self.input.len();
                if self.pos > self.start {
                    self.line += count_newlines(&self.bytes()[self.start..self.pos]);
                    return self.emit(ItemType::Text);
                }
                return self.emit(ItemType::Eof);
            };
            if x > 0 {
                self.pos += x;
                let mut trim = 0;
                if has_left_trim_marker(&self.bytes()[self.pos + self.left_len..]) {
                    let text = &self.bytes()[self.start..self.pos];
                    trim = text.iter().rev().take_while(|&&b| is_space(b)).count();
                }
                self.pos -= trim;
                self.line += count_newlines(&self.bytes()[self.start..self.pos]);
                let i = self.emit(ItemType::Text);
                self.pos += trim;
                self.ignore();
                if !i.is_empty() {
                    return i;
                }
            }
            if let Some(i) = self.lex_left_delim() {
                return i;
            }
        }
    }

    /// The left delimiter, or `None` after skipping a comment (or failing to: then `done`).
    fn lex_left_delim(&mut self) -> Option<Item> {
        self.pos += self.left_len;
        let trim = has_left_trim_marker(&self.bytes()[self.pos..]);
        let after = if trim { TRIM_MARKER_LEN } else { 0 };
        if self.bytes()[self.pos + after..].starts_with(LEFT_COMMENT) {
            self.pos += after;
            self.ignore();
            return self.lex_comment();
        }
        let i = self.emit(ItemType::LeftDelim);
        self.inside_action = true;
        self.pos += after;
        self.ignore();
        self.paren_depth = 0;
        Some(i)
    }

    /// Skips a comment and its delimiters; an error token if it is malformed.
    #[inline(never)]
    fn lex_comment(&mut self) -> Option<Item> {
        self.pos += LEFT_COMMENT.len();
        let Some(x) = self.comment_end.find(&self.bytes()[self.pos..]) else {
            return Some(self.errorf("unclosed comment".into()));
        };
        self.pos += x + RIGHT_COMMENT.len();
        let (delim, trim) = self.at_right_delim();
        if !delim {
            return Some(self.errorf("comment ends before closing delimiter".into()));
        }
        self.ignore();
        if trim {
            self.pos += TRIM_MARKER_LEN;
        }
        self.pos += self.right.len();
        if trim {
            self.skip_spaces();
        }
        self.ignore();
        None
    }

    /// The right delimiter at the current position, `trim` if a trim marker precedes it.
    fn lex_right_delim(&mut self, trim: bool) -> Item {
        if trim {
            self.pos += TRIM_MARKER_LEN;
            self.ignore();
        }
        self.pos += self.right.len();
        let i = self.emit(ItemType::RightDelim);
        if trim {
            self.skip_spaces();
            self.ignore();
        }
        self.inside_action = false;
        i
    }

    fn lex_inside_action(&mut self) -> Item {
        let Some(b) = self.byte(self.pos) else {
            return self.errorf("unclosed action".into());
        };
        // Only a delimiter's first byte or a trim marker's space can start the right delimiter.
        if Some(&b) == self.right.first() || (is_space(b) && self.byte(self.pos + 1) == Some(b'-'))
        {
            let (delim, trim) = self.at_right_delim();
            if delim {
                if self.paren_depth == 0 {
                    return self.lex_right_delim(trim);
                }
                return self.errorf("unclosed left paren".into());
            }
        }
        if !b.is_ascii() {
            let c = self.char_here().unwrap_or_default();
            if is_alnum(c) {
                return self.lex_identifier();
            }
            self.pos += c.len_utf8();
            return self.errorf(format!(
                "unrecognized character in action: {}",
                gofmt::format_unicode_sharp(c)
            ));
        }
        self.pos += 1;
        match b {
            b' ' | b'\t' | b'\r' | b'\n' => {
                self.pos -= 1;
                self.lex_space()
            }
            b'=' => self.emit(ItemType::Assign),
            b':' => {
                if self.byte(self.pos) != Some(b'=') {
                    self.skip_char();
                    return self.errorf("expected :=".into());
                }
                self.pos += 1;
                self.emit(ItemType::Declare)
            }
            b'|' => self.emit(ItemType::Pipe),
            b'"' => self.lex_quote(b'"', ItemType::String, "unterminated quoted string"),
            b'\'' => self.lex_quote(
                b'\'',
                ItemType::CharConstant,
                "unterminated character constant",
            ),
            b'`' => self.lex_raw_quote(),
            b'$' => self.lex_field_or_variable(ItemType::Variable),
            b'.' => {
                if self.byte(self.pos).is_some_and(|b| !b.is_ascii_digit()) {
                    return self.lex_field_or_variable(ItemType::Field);
                }
                self.pos -= 1;
                self.lex_number()
            }
            b'+' | b'-' | b'0'..=b'9' => {
                self.pos -= 1;
                self.lex_number()
            }
            b'(' => {
                self.paren_depth += 1;
                self.emit(ItemType::LeftParen)
            }
            b')' => {
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    return self.errorf("unexpected right paren".into());
                }
                self.emit(ItemType::RightParen)
            }
            _ if is_ascii_alnum(b) => {
                self.pos -= 1;
                self.lex_identifier()
            }
            b' '..=b'~' => self.emit(ItemType::Char),
            _ => self.errorf(format!(
                "unrecognized character in action: {}",
                gofmt::format_unicode_sharp(b as char)
            )),
        }
    }

    /// A run of spaces; a single space before a trim-marked right delimiter belongs to it.
    fn lex_space(&mut self) -> Item {
        let from = self.pos;
        while let Some(b) = self.byte(self.pos).filter(|&b| is_space(b)) {
            self.pos += 1;
            if b == b'\n' {
                self.line += 1;
            }
        }
        let spaces = self.pos - from;
        // The last space may be the one of a trim marker: ` -}}`.
        let rest = &self.bytes()[self.pos - 1..];
        if rest.len() >= TRIM_MARKER_LEN
            && rest[1] == b'-'
            && self.is_right_delim(&rest[TRIM_MARKER_LEN..])
        {
            self.pos -= 1;
            if rest[0] == b'\n' {
                self.line -= 1;
            }
            if spaces == 1 {
                return self.lex_right_delim(true);
            }
        }
        self.emit(ItemType::Space)
    }

    /// Skips letters, digits and `_`; the character that ends the run (`None` at the end).
    fn skip_alnum(&mut self) -> Option<char> {
        let bytes = self.bytes();
        loop {
            while bytes.get(self.pos).is_some_and(|&b| is_ascii_alnum(b)) {
                self.pos += 1;
            }
            let b = *bytes.get(self.pos)?;
            if b.is_ascii() {
                return Some(b as char);
            }
            let c = self.char_here()?;
            if !is_alnum(c) {
                return Some(c);
            }
            self.pos += c.len_utf8();
        }
    }

    fn lex_identifier(&mut self) -> Item {
        let r = self.skip_alnum();
        if !self.at_terminator() {
            return self.bad_character(r);
        }
        let word = &self.input[self.start..self.pos];
        if let Some(k) = keyword(word) {
            if (k == ItemType::Break && !self.break_ok)
                || (k == ItemType::Continue && !self.continue_ok)
            {
                return self.emit(ItemType::Identifier);
            }
            return self.emit(k);
        }
        if word == "true" || word == "false" {
            return self.emit(ItemType::Bool);
        }
        self.emit(ItemType::Identifier)
    }

    #[cold]
    #[inline(never)]
    fn bad_character(&mut self, r: Option<char>) -> Item {
        let shown = match r {
            Some(c) => gofmt::format_unicode_sharp(c),
            None => "U+FFFFFFFFFFFFFFFF".to_string(),
        };
        self.errorf(format!("bad character {shown}"))
    }

    /// A field (`.x`) or variable (`$x`), the leading character already consumed; a bare `.` is
    /// the dot and a bare `$` the variable `$`.
    fn lex_field_or_variable(&mut self, typ: ItemType) -> Item {
        if self.at_terminator() {
            return self.emit(if typ == ItemType::Variable {
                ItemType::Variable
            } else {
                ItemType::Dot
            });
        }
        let r = self.skip_alnum();
        if !self.at_terminator() {
            return self.bad_character(r);
        }
        self.emit(typ)
    }

    /// A quoted string or character constant, the opening quote already consumed.
    #[inline(never)]
    fn lex_quote(&mut self, quote: u8, typ: ItemType, unterminated: &str) -> Item {
        loop {
            let rest = &self.bytes()[self.pos..];
            let Some(x) = memchr::memchr3(quote, b'\\', b'\n', rest) else {
                self.pos = self.input.len();
                return self.errorf(unterminated.into());
            };
            self.pos += x + 1;
            match rest[x] {
                b'\\' => match self.byte(self.pos) {
                    Some(b'\n') => {
                        self.pos += 1;
                        self.line += 1;
                        return self.errorf(unterminated.into());
                    }
                    Some(_) => self.pos += 1,
                    None => return self.errorf(unterminated.into()),
                },
                b'\n' => {
                    self.line += 1;
                    return self.errorf(unterminated.into());
                }
                _ => return self.emit(typ),
            }
        }
    }

    #[inline(never)]
    fn lex_raw_quote(&mut self) -> Item {
        let rest = &self.bytes()[self.pos..];
        let Some(x) = memchr::memchr(b'`', rest) else {
            self.line += count_newlines(rest);
            self.pos = self.input.len();
            return self.errorf("unterminated raw quoted string".into());
        };
        self.line += count_newlines(&rest[..x]);
        self.pos += x + 1;
        self.emit(ItemType::RawString)
    }

    #[inline(never)]
    fn lex_number(&mut self) -> Item {
        if !self.scan_number() {
            return self.bad_number();
        }
        if matches!(self.byte(self.pos), Some(b'+' | b'-')) {
            if !self.scan_number() || !self.input[..self.pos].ends_with('i') {
                return self.bad_number();
            }
            return self.emit(ItemType::Complex);
        }
        self.emit(ItemType::Number)
    }

    #[cold]
    #[inline(never)]
    fn bad_number(&mut self) -> Item {
        let text = &self.input[self.start..self.pos];
        let msg = format!("bad number syntax: {}", gofmt::quote(text));
        self.errorf(msg)
    }

    fn accept(&mut self, valid: &[u8]) -> bool {
        match self.byte(self.pos) {
            Some(b) if valid.contains(&b) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    fn accept_run(&mut self, digits: Digits) {
        while self.byte(self.pos).is_some_and(|b| digits.accepts(b)) {
            self.pos += 1;
        }
    }

    /// Go's `scanNumber`: consumes a numeric literal; false if a letter or digit follows it.
    fn scan_number(&mut self) -> bool {
        self.accept(b"+-");
        let mut digits = Digits::Decimal;
        if self.accept(b"0") {
            if self.accept(b"xX") {
                digits = Digits::Hex;
            } else if self.accept(b"oO") {
                digits = Digits::Octal;
            } else if self.accept(b"bB") {
                digits = Digits::Binary;
            }
        }
        self.accept_run(digits);
        if self.accept(b".") {
            self.accept_run(digits);
        }
        if digits == Digits::Decimal && self.accept(b"eE") {
            self.accept(b"+-");
            self.accept_run(Digits::Decimal);
        }
        if digits == Digits::Hex && self.accept(b"pP") {
            self.accept(b"+-");
            self.accept_run(Digits::Decimal);
        }
        self.accept(b"i");
        if self.char_here().is_some_and(is_alnum) {
            self.skip_char();
            return false;
        }
        true
    }
}

#[cfg(test)]
mod reference;

#[cfg(test)]
mod tests {
    use super::reference::ReferenceLexer;
    use super::*;
    use proptest::prelude::*;

    /// Every token up to and including the first EOF or error, and the one after it, as
    /// (type, offset, text, line), with the error message in place of an error's text.
    fn stream(
        input: &str,
        mut next: impl FnMut() -> (Item, String),
    ) -> Vec<(ItemType, usize, String, usize)> {
        let mut v = Vec::new();
        loop {
            let (i, message) = next();
            let val = if i.typ == ItemType::Error {
                message
            } else {
                i.val(input).to_string()
            };
            v.push((i.typ, i.pos(), val, i.line()));
            if matches!(i.typ, ItemType::Eof | ItemType::Error) {
                let (after, _) = next();
                let after_val = after.val(input).to_string();
                v.push((after.typ, after.pos(), after_val, after.line()));
                return v;
            }
        }
    }

    fn assert_same_tokens(input: &str, left: &str, right: &str, break_ok: bool, continue_ok: bool) {
        let input: &'static str = Box::leak(input.into());
        let (left, right): (&'static str, &'static str) =
            (Box::leak(left.into()), Box::leak(right.into()));
        let mut fast = Lexer::new(input, left, right, break_ok, continue_ok);
        let mut reference = ReferenceLexer::new(input, left, right, break_ok, continue_ok);
        let got = stream(input, || {
            let i = fast.next_item();
            (i, fast.error_message().to_string())
        });
        let want = stream(input, || {
            let i = reference.next_item();
            (i, reference.error_message().to_string())
        });
        assert_eq!(got, want, "input {input:?}");
    }

    /// Pieces whose combinations reach every state and error of the lexer.
    const PIECES: &[&str] = &[
        "{{", "}}", "{{- ", " -}}", "{{-", "-}}", "[[", "]]", " ", "  ", "\n", "\t", "\r", "\x0c",
        "/*", "*/", ".", "$", "a", "Z", "_", "é", "٣", "²", "€", "\u{7f}", "\x01", "0", "1", "9",
        "0x", "0o", "0b", "e", "p", "i", "+", "-", "\"", "'", "`", "\\", "(", ")", ":", "=", "|",
        ",", "#", "}", "{", "end", "if", "break", "continue", "true", "nil", "define", ".x", "$y",
        "1.5", "1e3", "0x1p-2", "2i", "1+2i", "\"s\"", "'c'", "`r\nr`",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn tokens_match_go_transliteration(
            pieces in proptest::collection::vec(proptest::sample::select(PIECES), 0..24),
            delims in proptest::sample::select(&[("{{", "}}"), ("[[", "]]"), ("<", ">"), ("{{", "-}}")][..]),
            break_ok: bool,
            continue_ok: bool,
        ) {
            assert_same_tokens(&pieces.concat(), delims.0, delims.1, break_ok, continue_ok);
        }
    }

    /// Real chart templates (the conformance corpus, when present) lex exactly as Go's lexer
    /// would.
    #[test]
    fn corpus_tokens_match_go_transliteration() {
        let mut files = 0;
        for path in crate::corpus::template_files() {
            if let Ok(text) = std::fs::read_to_string(&path) {
                assert_same_tokens(&text, "{{", "}}", true, true);
                files += 1;
            }
        }
        if files == 0 {
            eprintln!("corpus_tokens_match_go_transliteration: no chart templates found; skipped");
        }
    }

    fn lex_all(s: &str) -> Vec<(ItemType, String)> {
        let mut l = Lexer::new(s, "{{", "}}", true, true);
        let mut v = Vec::new();
        loop {
            let i = l.next_item();
            let done = matches!(i.typ, ItemType::Eof | ItemType::Error);
            let val = if i.typ == ItemType::Error {
                l.error_message().to_string()
            } else {
                i.val(s).to_string()
            };
            v.push((i.typ, val));
            if done {
                return v;
            }
        }
    }

    #[test]
    fn trims_around_actions() {
        let v = lex_all("a  \n{{- 3 -}}\n  b");
        assert_eq!(v[0], (ItemType::Text, "a".into()));
        assert_eq!(v[2], (ItemType::Number, "3".into()));
        assert_eq!(v[4], (ItemType::Text, "b".into()));
    }

    #[test]
    fn minus_number_is_not_a_trim_marker() {
        let v = lex_all("{{-3}}");
        assert_eq!(v[1], (ItemType::Number, "-3".into()));
    }

    #[test]
    fn comments_vanish_and_trim() {
        let v = lex_all("x {{- /* c */ -}} y");
        assert_eq!(v[0], (ItemType::Text, "x".into()));
        assert_eq!(v[1], (ItemType::Text, "y".into()));
    }

    #[test]
    fn errors() {
        assert_eq!(lex_all("{{ 3").last().unwrap().1, "unclosed action");
        assert_eq!(
            lex_all("{{ \"a").last().unwrap().1,
            "unterminated quoted string"
        );
        assert_eq!(lex_all("{{ (3 }}").last().unwrap().1, "unclosed left paren");
        assert_eq!(lex_all("{{/* x }}").last().unwrap().1, "unclosed comment");
        assert_eq!(
            lex_all("{{ .a# }}").last().unwrap().1,
            "bad character U+0023 '#'"
        );
    }
}
