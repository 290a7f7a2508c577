//! The fast path: a hand-written reader for the YAML that values files and manifests are made
//! of, building `serde_json::Value` straight from the text.
//!
//! Even pulled directly (module `decode`), a general YAML parser spends over a hundred
//! instructions per byte: it tracks simple-key candidates, flow levels and token queues for
//! every construct YAML allows. Real inputs use a small, regular subset, so this reader handles
//! only that: block mappings and sequences (compact ones too), plain, single- and double-quoted
//! scalars on one line, literal and folded block scalars, comments, single-line flow
//! collections and a leading `---`. It is written by hand because no crate decodes this subset
//! with Go's scalar rules (`yes`, `0777`, `1_000`) and duplicate-key handling any faster: the
//! YAML crates are general parsers, and the event decoder already is the fastest use of one.
//!
//! It never decides anything it is unsure of: anchors, aliases, tags, merge keys, explicit and
//! complex keys, multi-line plain or quoted scalars, tabs outside block scalar text, carriage
//! returns, unusual characters, odd indentation, directives, several documents and every error
//! make it return `None`, and the caller decodes the whole text with the event decoder (and
//! then the complete one), so results and error messages stay exactly theirs. Differential tests
//! hold it to the complete decoder on the conformance corpora and on generated YAML.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::decode::{Duplicates, Mode};
use crate::resolve;

/// Nesting at or beyond this goes to the other decoders, which enforce their own limits.
const MAX_DEPTH: usize = 40;
/// Node count at which the event decoder hands over to the complete one; it decides beyond.
const MAX_NODES: usize = 200_000;
/// libyaml's limit on an implicit key's length; longer ones go to the other decoders.
const MAX_KEY_BYTES: usize = 1000;

/// The text needs another decoder.
struct Bail;

type R<T> = Result<T, Bail>;

/// Gives up. Tests learn where (the line of this file and the text offset), to report what
/// the reader still hands over.
#[track_caller]
fn bail() -> Bail {
    #[cfg(test)]
    {
        let line = std::panic::Location::caller().line();
        GAVE_UP.with(|g| g.set((line, g.get().1)));
    }
    Bail
}

#[cfg(test)]
thread_local! {
    /// Where the last text handed over made the reader give up: line in this file, offset.
    pub(crate) static GAVE_UP: std::cell::Cell<(u32, usize)> = const { std::cell::Cell::new((0, 0)) };
}

/// Decodes a text holding at most one document; `Some(Value::Null)` for none, `None` when the
/// text needs another decoder.
pub(crate) fn single(text: &str, mode: Mode) -> Option<Value> {
    read(text, mode, Keep::All)
}

/// Reads a text as [`single`] does (it accepts and hands over exactly the same texts) but builds
/// only the fields of a Kubernetes object's head: `apiVersion`, `kind` and, under `metadata`,
/// `name`, `namespace` and `annotations`. Every other node is checked and dropped, so a
/// manifest's spec and data cost no allocation. A root that is not a mapping is built whole.
/// A mode refusing duplicate keys needs every key kept to find them, so it reads all.
pub(crate) fn head(text: &str, mode: Mode) -> Option<Value> {
    let keep = match mode.duplicates {
        Duplicates::LastWins => Keep::Root,
        Duplicates::Unsupported => Keep::All,
    };
    read(text, mode, keep)
}

/// What of a node the caller keeps.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Keep {
    All,
    /// The document's root: in a mapping, only the head fields.
    Root,
    /// An object's `metadata`: in a mapping, only the fields of the head.
    Metadata,
    /// Nothing: the node is checked, and read as null.
    Nothing,
}

impl Keep {
    /// What is kept of the value of `key` in a mapping kept this way.
    fn entry(self, key: &str) -> Keep {
        match (self, key) {
            (Keep::All, _) => Keep::All,
            (Keep::Root, "apiVersion" | "kind") => Keep::All,
            (Keep::Root, "metadata") => Keep::Metadata,
            (Keep::Metadata, "name" | "namespace" | "annotations") => Keep::All,
            _ => Keep::Nothing,
        }
    }

    /// What is kept of an item in a sequence kept this way.
    fn item(self) -> Keep {
        match self {
            Keep::All => Keep::All,
            _ => Keep::Nothing,
        }
    }
}

fn read(text: &str, mode: Mode, keep: Keep) -> Option<Value> {
    if !plain_characters(text) {
        #[cfg(test)]
        GAVE_UP.with(|g| g.set((line!(), 0)));
        return None;
    }
    let mut reader = Reader {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        mode,
        nodes: 0,
        keep,
    };
    let value = reader.document();
    #[cfg(test)]
    if value.is_err() {
        GAVE_UP.with(|g| g.set((g.get().0, reader.pos)));
    }
    value.ok()
}

/// Whether the text holds only characters this reader treats like the parser does: no control
/// characters but tab and line feed (so no carriage returns), no byte order mark, and no
/// characters YAML 1.1 reads as line breaks or that YAML forbids.
fn plain_characters(text: &str) -> bool {
    let mut ascii = true;
    // Whole chunks without early exits, which the compiler turns into vector code.
    for chunk in text.as_bytes().chunks(64) {
        let (mut control, mut high) = (false, false);
        for &b in chunk {
            control |= (b < 0x20 && b != b'\n' && b != b'\t') | (b == 0x7f);
            high |= b >= 0x80;
        }
        if control {
            return false;
        }
        ascii &= !high;
    }
    if ascii {
        return true;
    }
    !text.chars().any(|c| {
        matches!(
            c as u32,
            0x00..=0x08 | 0x7f..=0x9f | 0x2028 | 0x2029 | 0xfeff | 0xfffe | 0xffff
        )
    })
}

/// How a node starts on its line.
enum Inline {
    /// `|` or `>`.
    BlockScalar,
    /// Any other scalar or a flow collection, all on this line.
    Line,
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    /// Byte offset of the cursor.
    pos: usize,
    mode: Mode,
    nodes: usize,
    /// What is kept of the node being read.
    keep: Keep,
}

impl<'a> Reader<'a> {
    fn byte(&self, at: usize) -> Option<u8> {
        self.bytes.get(at).copied()
    }

    /// Whether `at` ends a token: a space, a line break or the end of the text.
    fn is_separator(&self, at: usize) -> bool {
        matches!(self.byte(at), None | Some(b'\n' | b' '))
    }

    /// The offset of the line break ending the line holding `at`, or the text's length.
    fn line_end(&self, at: usize) -> usize {
        memchr::memchr(b'\n', &self.bytes[at..]).map_or(self.bytes.len(), |i| at + i)
    }

    /// Moves the cursor to the start of the next line (or the end of the text).
    fn next_line(&mut self) {
        self.pos = (self.line_end(self.pos) + 1).min(self.bytes.len());
    }

    fn count_node(&mut self) -> R<()> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(bail());
        }
        Ok(())
    }

    fn spaces_from(&self, at: usize) -> usize {
        self.bytes[at..].iter().take_while(|&&b| b == b' ').count()
    }

    /// From a line start, skips blank and comment lines; returns the indentation of the next
    /// line with content (the cursor at its start), or `None` at the end of the text.
    fn skip_to_content(&mut self) -> R<Option<usize>> {
        loop {
            if self.pos >= self.bytes.len() {
                return Ok(None);
            }
            let indent = self.spaces_from(self.pos);
            match self.byte(self.pos + indent) {
                None => {
                    self.pos = self.bytes.len();
                    return Ok(None);
                }
                Some(b'\n') => self.pos += indent + 1,
                Some(b'#') => self.next_line(),
                Some(b'\t') => return Err(bail()),
                Some(_) => return Ok(Some(indent)),
            }
        }
    }

    /// [`Self::skip_to_content`], giving up on document markers (a later document or `...`).
    fn next_content(&mut self) -> R<Option<usize>> {
        let indent = self.skip_to_content()?;
        if indent == Some(0) && self.at_marker() {
            return Err(bail());
        }
        Ok(indent)
    }

    /// Whether a line starting at the cursor starts with `---` or `...`.
    fn at_marker(&self) -> bool {
        let rest = &self.bytes[self.pos..];
        rest.starts_with(b"---") || rest.starts_with(b"...")
    }

    /// Whether a `-` at `at` starts a block sequence entry.
    fn is_dash(&self, at: usize) -> bool {
        self.byte(at) == Some(b'-') && self.is_separator(at + 1)
    }

    fn document(&mut self) -> R<Value> {
        let Some(mut indent) = self.skip_to_content()? else {
            return Ok(Value::Null);
        };
        if indent == 0 && self.at_marker() {
            // Only a bare `---` (perhaps with a comment) opening the text.
            if !self.bytes[self.pos..].starts_with(b"---") {
                return Err(bail());
            }
            self.pos += 3;
            self.rest_of_line()?;
            match self.next_content()? {
                Some(i) => indent = i,
                None => return Ok(Value::Null),
            }
        } else if self.byte(self.pos + indent) == Some(b'%') {
            return Err(bail());
        }
        self.pos += indent;
        let value = self.node_on_line(indent, None, 0)?;
        if self.next_content()?.is_some() {
            return Err(bail());
        }
        Ok(value)
    }

    /// Reads a block node whose first character (first on its line) is at the cursor, in column
    /// `column`, owned by a collection in column `owner` (`None` for the document). Returns
    /// with the cursor at the start of the line after the node.
    fn node_on_line(&mut self, column: usize, owner: Option<usize>, depth: usize) -> R<Value> {
        if self.is_dash(self.pos) {
            return self.sequence(column, depth);
        }
        if let Some((key, value_at)) = self.key()? {
            return self.mapping(column, key, value_at, depth);
        }
        match self.inline_kind()? {
            // A block scalar alone on its own line, or heading the document, is rare.
            Inline::BlockScalar => Err(bail()),
            Inline::Line => self.line_scalar(owner, depth),
        }
    }

    /// What the node at the cursor is, giving up on what this reader does not read.
    fn inline_kind(&self) -> R<Inline> {
        match self.byte(self.pos) {
            Some(b'|' | b'>') => Ok(Inline::BlockScalar),
            Some(b':') if !self.is_separator(self.pos + 1) => Ok(Inline::Line),
            Some(b'&' | b'*' | b'!' | b'?' | b':' | b',' | b'%' | b'@' | b'`' | b']' | b'}') => {
                Err(bail())
            }
            Some(b'-') if self.is_dash(self.pos) => Err(bail()),
            Some(b'\t' | b'#') | None => Err(bail()),
            _ => Ok(Inline::Line),
        }
    }

    /// A scalar or flow collection starting on this line, owned by a collection in column
    /// `owner` (its text may go on on lines indented further); the cursor moves to the line
    /// after it.
    fn line_scalar(&mut self, owner: Option<usize>, depth: usize) -> R<Value> {
        let value = match self.byte(self.pos) {
            Some(b'"') => {
                self.count_node()?;
                let text = self.double_quoted(owner)?;
                self.string(text)
            }
            Some(b'\'') => {
                self.count_node()?;
                let text = self.single_quoted(owner)?;
                self.string(text)
            }
            Some(b'[' | b'{') => self.flow(owner, depth)?,
            _ => {
                self.count_node()?;
                return self.block_plain(owner);
            }
        };
        self.rest_of_line()?;
        Ok(value)
    }

    /// After a node: spaces, perhaps a comment, and the line break; moves to the next line.
    fn rest_of_line(&mut self) -> R<()> {
        let spaces = self.spaces_from(self.pos);
        let at = self.pos + spaces;
        match self.byte(at) {
            None | Some(b'\n') => {}
            Some(b'#') if spaces > 0 => {}
            _ => return Err(bail()),
        }
        self.next_line();
        Ok(())
    }

    /// A plain scalar in block context, owned by a collection in column `owner`: its first
    /// line, then any lines indented further, folded into one text.
    fn block_plain(&mut self, owner: Option<usize>) -> R<Value> {
        let start = self.pos;
        let (end, comment) = self.plain_line(start)?;
        let first = self.text[start..end].trim_end_matches(' ');
        self.pos = end;
        self.next_line();
        let Some(owner) = owner.filter(|_| !comment) else {
            return self.plain_value(first);
        };
        let mut folded: Option<String> = None;
        loop {
            let mut at = self.pos;
            let mut blanks = 0;
            let spaces = loop {
                let spaces = self.spaces_from(at);
                match self.byte(at + spaces) {
                    None => break None,
                    Some(b'\n') => {
                        blanks += 1;
                        at += spaces + 1;
                    }
                    Some(b'\t') => return Err(bail()),
                    Some(_) => break Some(spaces),
                }
            };
            let Some(spaces) = spaces.filter(|&s| s > owner) else {
                break;
            };
            let from = at + spaces;
            // A comment line ends the text.
            if self.byte(from) == Some(b'#') {
                break;
            }
            if self.is_dash(from) {
                return Err(bail());
            }
            let (end, comment) = self.plain_line(from)?;
            if comment {
                return Err(bail());
            }
            let text = folded.get_or_insert_with(|| first.to_owned());
            if blanks == 0 {
                text.push(' ');
            }
            text.extend(std::iter::repeat_n('\n', blanks));
            text.push_str(self.text[from..end].trim_end_matches(' '));
            self.pos = end;
            self.next_line();
        }
        match folded {
            None => self.plain_value(first),
            Some(text) => match resolve::plain(&text, self.mode.resolution) {
                resolve::Plain::Str => Ok(self.string(text)),
                _ => self.plain_value(&text),
            },
        }
    }

    /// The end of a plain scalar's text on the line from `start`, and whether a comment follows
    /// it; gives up on tabs and on `: ` (a key, or an error, where a value was expected).
    fn plain_line(&self, start: usize) -> R<(usize, bool)> {
        let end = self.line_end(start);
        let line = &self.bytes[start..end];
        for (i, &b) in line.iter().enumerate() {
            match b {
                b'\t' => return Err(bail()),
                b':' if i + 1 == line.len() || line[i + 1] == b' ' => return Err(bail()),
                b'#' if i > 0 && line[i - 1] == b' ' => return Ok((start + i, true)),
                _ => {}
            }
        }
        Ok((end, false))
    }

    fn plain_value(&self, text: &str) -> R<Value> {
        Ok(match resolve::plain(text, self.mode.resolution) {
            resolve::Plain::Unsupported => return Err(bail()),
            _ if self.keep == Keep::Nothing => Value::Null,
            resolve::Plain::Null => Value::Null,
            resolve::Plain::Bool(b) => Value::Bool(b),
            resolve::Plain::Number(n) => Value::Number(n),
            resolve::Plain::Str => Value::String(text.to_owned()),
        })
    }

    /// A quoted or block scalar's text as a node, or null when it is not kept.
    fn string(&self, text: String) -> Value {
        match self.keep {
            Keep::Nothing => Value::Null,
            _ => Value::String(text),
        }
    }

    /// Whether the text of scalars is dropped.
    fn dropping(&self) -> bool {
        self.keep == Keep::Nothing
    }

    /// If the cursor is at an implicit key (`key:` followed by a space or the line's end),
    /// returns the key as the decoded map key and where its value starts.
    fn key(&mut self) -> R<Option<(Cow<'a, str>, usize)>> {
        let start = self.pos;
        let (key, colon) = match self.byte(start) {
            Some(b'"' | b'\'') => {
                let key = if self.byte(start) == Some(b'"') {
                    self.double_quoted(None)?
                } else {
                    self.single_quoted(None)?
                };
                let after = self.pos + self.spaces_from(self.pos);
                self.pos = start;
                if self.byte(after) != Some(b':') {
                    return Ok(None);
                }
                if !self.is_separator(after + 1) {
                    return Err(bail());
                }
                (Cow::Owned(key), after)
            }
            Some(
                b'[' | b'{' | b'|' | b'>' | b'&' | b'*' | b'!' | b'?' | b':' | b',' | b'%' | b'@'
                | b'`' | b'#' | b']' | b'}',
            ) => return Ok(None),
            _ => {
                let end = self.line_end(start);
                let line = &self.bytes[start..end];
                let mut colon = None;
                for (i, &b) in line.iter().enumerate() {
                    match b {
                        b'\t' => return Err(bail()),
                        b':' if i + 1 == line.len() || line[i + 1] == b' ' => {
                            colon = Some(i);
                            break;
                        }
                        b'#' if i > 0 && line[i - 1] == b' ' => return Ok(None),
                        _ => {}
                    }
                }
                let Some(colon) = colon else {
                    return Ok(None);
                };
                let text = self.text[start..start + colon].trim_end_matches(' ');
                let key = match resolve::plain(text, self.mode.resolution) {
                    // Merge keys go to the event decoder.
                    resolve::Plain::Str if text != "<<" => Cow::Borrowed(text),
                    resolve::Plain::Bool(b) if self.mode.go_keys => Cow::Owned(b.to_string()),
                    resolve::Plain::Number(n) if self.mode.go_keys => {
                        Cow::Owned(resolve::go_number_key(&n))
                    }
                    _ => return Err(bail()),
                };
                (key, start + colon)
            }
        };
        if colon - start > MAX_KEY_BYTES {
            return Err(bail());
        }
        Ok(Some((key, colon + 1)))
    }

    /// A block mapping whose keys sit in column `indent`; the first key is read, its value
    /// starts at `value_at`.
    fn mapping(
        &mut self,
        indent: usize,
        mut key: Cow<'a, str>,
        mut value_at: usize,
        depth: usize,
    ) -> R<Value> {
        if depth >= MAX_DEPTH {
            return Err(bail());
        }
        self.count_node()?;
        let keep = self.keep;
        let mut map = Map::new();
        loop {
            self.count_node()?;
            self.pos = value_at;
            self.keep = keep.entry(&key);
            let value = self.value(indent, true, depth + 1)?;
            let kept = self.keep != Keep::Nothing;
            self.keep = keep;
            if kept {
                self.insert(&mut map, key.into_owned(), value)?;
            }
            match self.next_content()? {
                Some(m) if m == indent => {
                    self.pos += m;
                    if self.is_dash(self.pos) {
                        return Err(bail());
                    }
                    match self.key()? {
                        Some((k, at)) => (key, value_at) = (k, at),
                        None => return Err(bail()),
                    }
                }
                Some(m) if m > indent => return Err(bail()),
                _ => break,
            }
        }
        Ok(match keep {
            Keep::Nothing => Value::Null,
            _ => Value::Object(map),
        })
    }

    /// A block sequence whose dashes sit in column `indent`; the cursor is on the first dash.
    fn sequence(&mut self, indent: usize, depth: usize) -> R<Value> {
        if depth >= MAX_DEPTH {
            return Err(bail());
        }
        self.count_node()?;
        let keep = self.keep;
        let mut items = Vec::new();
        loop {
            self.pos += 1;
            self.keep = keep.item();
            let item = self.value(indent, false, depth + 1)?;
            self.keep = keep;
            if keep != Keep::Nothing {
                items.push(item);
            }
            match self.next_content()? {
                Some(m) if m == indent && self.is_dash(self.pos + m) => self.pos += m,
                Some(m) if m > indent => return Err(bail()),
                _ => break,
            }
        }
        Ok(match keep {
            Keep::Nothing => Value::Null,
            _ => Value::Array(items),
        })
    }

    /// The value after a mapping key's `:` (`in_mapping`) or a sequence entry's `-`, owned by a
    /// collection in column `indent`; the cursor is right after the indicator.
    fn value(&mut self, indent: usize, in_mapping: bool, depth: usize) -> R<Value> {
        let indicator = self.pos - 1;
        let spaces = self.spaces_from(self.pos);
        let at = self.pos + spaces;
        match self.byte(at) {
            None | Some(b'\n') => {}
            Some(b'#') if spaces > 0 => {}
            Some(b'\t') => return Err(bail()),
            Some(_) => {
                self.pos = at;
                if !in_mapping {
                    // Compact collections: `- - a`, `- key: value`.
                    let column = indent + (at - indicator);
                    if self.is_dash(at) {
                        return self.sequence(column, depth);
                    }
                    if let Some((key, value_at)) = self.key()? {
                        return self.mapping(column, key, value_at, depth);
                    }
                }
                return match self.inline_kind()? {
                    Inline::BlockScalar => {
                        self.count_node()?;
                        let text = self.block_scalar(indent)?;
                        Ok(self.string(text))
                    }
                    Inline::Line => self.line_scalar(Some(indent), depth),
                };
            }
        }
        // Nothing more on this line: the node is on the following ones, or it is null.
        self.next_line();
        match self.next_content()? {
            Some(m) if m > indent => {
                self.pos += m;
                self.node_on_line(m, Some(indent), depth)
            }
            Some(m) if m == indent && in_mapping && self.is_dash(self.pos + m) => {
                self.pos += m;
                self.sequence(m, depth)
            }
            _ => {
                self.count_node()?;
                Ok(Value::Null)
            }
        }
    }

    /// A `"…"` scalar; the cursor moves past the closing quote. With an `owner` column its
    /// text may go on on lines indented further, without one (a key) it must end on its line.
    fn double_quoted(&mut self, owner: Option<usize>) -> R<String> {
        let start = self.pos + 1;
        let mut out = String::new();
        let mut run = start;
        let mut i = start;
        loop {
            match self.byte(i) {
                None | Some(b'\t') => return Err(bail()),
                Some(b'"') => break,
                Some(b'\n') => {
                    out.push_str(self.text[run..i].trim_end_matches(' '));
                    i = self.fold_break(i, owner, &mut out, true)?;
                    run = i;
                }
                Some(b'\\') if self.byte(i + 1) == Some(b'\n') => {
                    // An escaped line break joins the lines without a space.
                    out.push_str(&self.text[run..i]);
                    i = self.fold_break(i + 1, owner, &mut out, false)?;
                    run = i;
                }
                Some(b'\\') => {
                    out.push_str(&self.text[run..i]);
                    let (c, len) = self.escape(i + 1)?;
                    out.push(c);
                    i += 1 + len;
                    run = i;
                }
                Some(_) => i += 1,
            }
        }
        self.pos = i + 1;
        if self.dropping() {
            return Ok(String::new());
        }
        if run == start {
            return Ok(self.text[start..i].to_owned());
        }
        out.push_str(&self.text[run..i]);
        Ok(out)
    }

    /// Folds the line break at `at` inside a quoted scalar owned by a collection in column
    /// `owner`: a space (with `space`) or one line feed per blank line, then the next line's
    /// indentation dropped. Returns where the text goes on.
    fn fold_break(
        &self,
        at: usize,
        owner: Option<usize>,
        out: &mut String,
        space: bool,
    ) -> R<usize> {
        let owner = owner.ok_or_else(bail)?;
        let mut at = at + 1;
        let mut blanks = 0;
        loop {
            let spaces = self.spaces_from(at);
            match self.byte(at + spaces) {
                None | Some(b'\t') => return Err(bail()),
                Some(b'\n') => {
                    blanks += 1;
                    at += spaces + 1;
                }
                Some(_) if spaces <= owner => return Err(bail()),
                Some(_) => {
                    if blanks == 0 && space {
                        out.push(' ');
                    }
                    out.extend(std::iter::repeat_n('\n', blanks));
                    return Ok(at + spaces);
                }
            }
        }
    }

    /// The character an escape after a `\` at `at` stands for, and the escape's length.
    fn escape(&self, at: usize) -> R<(char, usize)> {
        let c = match self.byte(at).ok_or_else(|| bail())? {
            b'0' => '\0',
            b'a' => '\x07',
            b'b' => '\x08',
            b't' => '\t',
            b'n' => '\n',
            b'v' => '\x0b',
            b'f' => '\x0c',
            b'r' => '\r',
            b'e' => '\x1b',
            b' ' => ' ',
            b'"' => '"',
            b'/' => '/',
            b'\\' => '\\',
            b'N' => '\u{85}',
            b'_' => '\u{a0}',
            b'L' => '\u{2028}',
            b'P' => '\u{2029}',
            b'x' => return self.hex_escape(at + 1, 2),
            b'u' => return self.hex_escape(at + 1, 4),
            b'U' => return self.hex_escape(at + 1, 8),
            _ => return Err(bail()),
        };
        Ok((c, 1))
    }

    fn hex_escape(&self, at: usize, digits: usize) -> R<(char, usize)> {
        let hex = self.bytes.get(at..at + digits).ok_or_else(|| bail())?;
        let mut code = 0u32;
        for &h in hex {
            code = code * 16 + (h as char).to_digit(16).ok_or_else(|| bail())?;
        }
        // Surrogates (JSON's pairs included) go to the parser.
        let c = char::from_u32(code).ok_or_else(|| bail())?;
        Ok((c, 1 + digits))
    }

    /// A `'…'` scalar, read like [`Self::double_quoted`].
    fn single_quoted(&mut self, owner: Option<usize>) -> R<String> {
        let start = self.pos + 1;
        let mut out = String::new();
        let mut run = start;
        let mut i = start;
        loop {
            match self.byte(i) {
                None | Some(b'\t') => return Err(bail()),
                Some(b'\'') if self.byte(i + 1) == Some(b'\'') => {
                    out.push_str(&self.text[run..=i]);
                    i += 2;
                    run = i;
                }
                Some(b'\'') => break,
                Some(b'\n') => {
                    out.push_str(self.text[run..i].trim_end_matches(' '));
                    i = self.fold_break(i, owner, &mut out, true)?;
                    run = i;
                }
                Some(_) => i += 1,
            }
        }
        self.pos = i + 1;
        if self.dropping() {
            return Ok(String::new());
        }
        if run == start {
            return Ok(self.text[start..i].to_owned());
        }
        out.push_str(&self.text[run..i]);
        Ok(out)
    }

    /// A flow collection (`[…]` or `{…}`), on lines indented further than `owner` when it
    /// spans several; the cursor moves past it.
    fn flow(&mut self, owner: Option<usize>, depth: usize) -> R<Value> {
        if depth >= MAX_DEPTH {
            return Err(bail());
        }
        self.count_node()?;
        let keep = self.keep;
        let sequence = self.byte(self.pos) == Some(b'[');
        let close = if sequence { b']' } else { b'}' };
        self.pos += 1;
        let mut items = Vec::new();
        let mut map = Map::new();
        loop {
            self.skip_flow_spaces(owner)?;
            if self.byte(self.pos) == Some(close) {
                break;
            }
            if sequence {
                self.keep = keep.item();
                let item = self.flow_node(owner, depth + 1)?;
                self.keep = keep;
                if keep != Keep::Nothing {
                    items.push(item);
                }
            } else {
                self.count_node()?;
                let key = self.flow_key()?;
                self.skip_flow_spaces(owner)?;
                self.keep = keep.entry(&key);
                let value = self.flow_node(owner, depth + 1)?;
                let kept = self.keep != Keep::Nothing;
                self.keep = keep;
                if kept {
                    self.insert(&mut map, key.into_owned(), value)?;
                }
            }
            self.skip_flow_spaces(owner)?;
            match self.byte(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b) if b == close => break,
                _ => return Err(bail()),
            }
        }
        self.pos += 1;
        Ok(if keep == Keep::Nothing {
            Value::Null
        } else if sequence {
            Value::Array(items)
        } else {
            Value::Object(map)
        })
    }

    /// Adds an entry to a mapping, as the mode says for a key seen before.
    fn insert(&self, map: &mut Map<String, Value>, key: String, value: Value) -> R<()> {
        match map.entry(key) {
            serde_json::map::Entry::Vacant(e) => {
                e.insert(value);
            }
            serde_json::map::Entry::Occupied(mut e) => match self.mode.duplicates {
                Duplicates::LastWins => {
                    e.insert(value);
                }
                Duplicates::Unsupported => return Err(bail()),
            },
        }
        Ok(())
    }

    /// Skips spaces and line breaks inside a flow collection owned by a collection in column
    /// `owner`; its lines must be indented further (but for a closing bracket). Comments inside
    /// go to the parser.
    fn skip_flow_spaces(&mut self, owner: Option<usize>) -> R<()> {
        loop {
            self.pos += self.spaces_from(self.pos);
            match self.byte(self.pos) {
                Some(b'\n') => {
                    let owner = owner.ok_or_else(bail)?;
                    self.pos += 1;
                    let spaces = self.spaces_from(self.pos);
                    match self.byte(self.pos + spaces) {
                        Some(b'\n') => {}
                        None | Some(b'\t' | b'#') => return Err(bail()),
                        // The closing bracket may sit in the owner's column.
                        Some(b']' | b'}') if spaces == owner => {}
                        Some(_) if spaces <= owner => return Err(bail()),
                        Some(_) => {}
                    }
                }
                Some(b'\t' | b'#') => return Err(bail()),
                _ => return Ok(()),
            }
        }
    }

    /// A key in a flow mapping and its `:`; the cursor moves past the colon.
    fn flow_key(&mut self) -> R<Cow<'a, str>> {
        match self.byte(self.pos) {
            Some(b'"' | b'\'') => {
                let key = if self.byte(self.pos) == Some(b'"') {
                    self.double_quoted(None)?
                } else {
                    self.single_quoted(None)?
                };
                self.pos += self.spaces_from(self.pos);
                if self.byte(self.pos) != Some(b':') {
                    return Err(bail());
                }
                self.pos += 1;
                if self.byte(self.pos) != Some(b' ') {
                    return Err(bail());
                }
                Ok(Cow::Owned(key))
            }
            _ => {
                let text = self.flow_plain_text(true)?;
                if self.byte(self.pos) != Some(b':') || self.byte(self.pos + 1) != Some(b' ') {
                    return Err(bail());
                }
                self.pos += 1;
                match resolve::plain(text, self.mode.resolution) {
                    resolve::Plain::Str if text != "<<" => Ok(Cow::Borrowed(text)),
                    resolve::Plain::Bool(b) if self.mode.go_keys => Ok(Cow::Owned(b.to_string())),
                    resolve::Plain::Number(n) if self.mode.go_keys => {
                        Ok(Cow::Owned(resolve::go_number_key(&n)))
                    }
                    _ => Err(bail()),
                }
            }
        }
    }

    /// A node inside a flow collection.
    fn flow_node(&mut self, owner: Option<usize>, depth: usize) -> R<Value> {
        match self.byte(self.pos) {
            Some(b'[' | b'{') => self.flow(owner, depth),
            Some(b'"') => {
                self.count_node()?;
                let text = self.double_quoted(owner)?;
                Ok(self.string(text))
            }
            Some(b'\'') => {
                self.count_node()?;
                let text = self.single_quoted(owner)?;
                Ok(self.string(text))
            }
            _ => {
                self.count_node()?;
                let text = self.flow_plain_text(false)?;
                self.plain_value(text)
            }
        }
    }

    /// A plain scalar's text in a flow collection; with `key`, it ends at a `:` too. The cursor
    /// moves to the character ending it.
    fn flow_plain_text(&mut self, key: bool) -> R<&'a str> {
        let start = self.pos;
        match self.byte(start) {
            None
            | Some(
                b'\n' | b'\t' | b' ' | b'&' | b'*' | b'!' | b'?' | b':' | b',' | b'%' | b'@' | b'`'
                | b'#' | b'|' | b'>' | b'"' | b'\'' | b'[' | b']' | b'{' | b'}',
            ) => return Err(bail()),
            Some(b'-')
                if matches!(
                    self.byte(start + 1),
                    None | Some(b' ' | b'\n' | b',' | b'[' | b']' | b'{' | b'}')
                ) =>
            {
                return Err(bail());
            }
            _ => {}
        }
        let mut i = start;
        loop {
            match self.byte(i) {
                None | Some(b'\n' | b',' | b']' | b'}') => break,
                Some(b':')
                    if matches!(
                        self.byte(i + 1),
                        None | Some(b' ' | b'\n' | b',' | b'[' | b']' | b'{' | b'}')
                    ) =>
                {
                    if key {
                        break;
                    }
                    return Err(bail());
                }
                Some(b'\t' | b'[' | b'{') => return Err(bail()),
                Some(b'#') if self.bytes[i - 1] == b' ' => return Err(bail()),
                Some(_) => i += 1,
            }
        }
        self.pos = i;
        let text = self.text[start..i].trim_end_matches(' ');
        Ok(text)
    }

    /// A literal (`|`) or folded (`>`) scalar whose header is at the cursor, inside a
    /// collection in column `parent`; the cursor moves to the line after its content.
    fn block_scalar(&mut self, parent: usize) -> R<String> {
        let folded = self.byte(self.pos) == Some(b'>');
        self.pos += 1;
        let mut chomp = Chomp::Clip;
        let mut explicit = None;
        for _ in 0..2 {
            match self.byte(self.pos) {
                Some(b'-') if chomp == Chomp::Clip => chomp = Chomp::Strip,
                Some(b'+') if chomp == Chomp::Clip => chomp = Chomp::Keep,
                Some(d @ b'1'..=b'9') if explicit.is_none() => {
                    explicit = Some(parent + usize::from(d - b'0'));
                }
                _ => break,
            }
            self.pos += 1;
        }
        self.rest_of_line()?;

        // The first line with text sets the indentation; blank lines before it may not be
        // longer.
        let mut indent = None;
        let mut longest_blank = 0;
        let mut at = self.pos;
        while at < self.bytes.len() {
            let spaces = self.spaces_from(at);
            match self.byte(at + spaces) {
                None => break,
                Some(b'\n') => {
                    longest_blank = longest_blank.max(spaces);
                    at += spaces + 1;
                }
                Some(b'\t') => return Err(bail()),
                Some(_) => {
                    indent = Some(spaces);
                    break;
                }
            }
        }
        let indent = match (explicit, indent) {
            // Blank lines before the text may then be longer: their extra spaces are text.
            (Some(explicit), Some(indent)) if indent >= explicit && !folded => {
                longest_blank = 0;
                explicit
            }
            (Some(_), _) => return Err(bail()),
            (None, Some(indent)) if indent > parent => indent,
            // No text: the scalar is empty, and its blank lines are skipped like any others.
            _ if longest_blank <= parent && chomp != Chomp::Keep => return Ok(String::new()),
            _ => return Err(bail()),
        };
        if longest_blank > indent {
            return Err(bail());
        }

        let mut lines: Vec<&'a str> = Vec::new();
        let mut ends_text = false;
        // When dropping the text, only what the checks below need: the blank lines ending it.
        let dropping = self.dropping();
        let mut trailing = 0;
        loop {
            if self.pos >= self.bytes.len() {
                break;
            }
            let start = self.pos;
            let spaces = self.spaces_from(start);
            let end = self.line_end(start);
            if start + spaces == end && (end == self.bytes.len() || folded && spaces > indent) {
                // Spaces ending the text, or a long blank line keeping its break when folded.
                return Err(bail());
            }
            if start + spaces == end && spaces <= indent {
                trailing += 1;
                if !dropping {
                    lines.push("");
                }
            } else if spaces >= indent {
                let line = &self.text[start + indent..end];
                trailing = usize::from(line.is_empty());
                if dropping {
                    // The check the folding below makes.
                    if folded && line.starts_with([' ', '\t']) {
                        return Err(bail());
                    }
                } else {
                    lines.push(line);
                }
                ends_text = end == self.bytes.len();
            } else {
                if self.byte(start + spaces) == Some(b'\t') {
                    return Err(bail());
                }
                break;
            }
            self.pos = (end + 1).min(self.bytes.len());
        }
        let mut out = String::new();
        if dropping {
            if chomp == Chomp::Keep && ends_text {
                return Err(bail());
            }
            return Ok(out);
        }
        let body = &lines[..lines.len() - trailing];
        if folded {
            let mut blanks = 0;
            let mut first = true;
            for line in body {
                if line.is_empty() {
                    blanks += 1;
                    continue;
                }
                // More-indented lines keep their breaks: rare, left to the parser.
                if line.starts_with([' ', '\t']) {
                    return Err(bail());
                }
                if !first && blanks == 0 {
                    out.push(' ');
                }
                out.extend(std::iter::repeat_n('\n', blanks));
                out.push_str(line);
                blanks = 0;
                first = false;
            }
        } else {
            for (i, line) in body.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                out.push_str(line);
            }
        }
        // libyaml adds no line feed to text ending the document without one.
        match chomp {
            Chomp::Strip => {}
            Chomp::Clip if ends_text => {}
            Chomp::Clip => out.push('\n'),
            Chomp::Keep if ends_text => return Err(bail()),
            Chomp::Keep => out.extend(std::iter::repeat_n('\n', trailing + 1)),
        }
        Ok(out)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Chomp {
    Strip,
    Clip,
    Keep,
}
