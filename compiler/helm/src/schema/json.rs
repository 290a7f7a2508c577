//! A JSON reader for `values.schema.json` that builds only what the fast check looks at.
//!
//! `serde_json::from_slice` into a `Value` costs ~30 instructions a byte, and most of a chart's
//! schema is `description`s, `default`s and editor hints that validation never reads. This reader
//! knows where it is in a schema: keywords holding subschemas are read as schemas, data keywords
//! (`type`, `enum`, `required`, ...) in full, annotations and unknown keywords other than objects
//! (which `$ref`s may point into) are only checked for syntax and kept as their [`Kind`]. Anything it does not read exactly as serde_json would
//! (duplicate keys where they matter, integers past 64 bits, nesting past serde_json's limit, a
//! nested `$schema`) makes it give up, so the caller falls back on the general path.

use std::borrow::Cow;

/// The JSON type of a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

/// A number as serde_json holds it (without `arbitrary_precision`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Num {
    U(u64),
    I(i64),
    F(f64),
}

/// A JSON value, or the kind of one read for syntax only.
#[derive(Debug)]
pub enum Node<'a> {
    Null,
    Bool(bool),
    Num(Num),
    Str(Cow<'a, str>),
    Arr(Vec<Node<'a>>),
    Obj(Vec<(Cow<'a, str>, Node<'a>)>),
    Skipped(Kind),
}

impl<'a> Node<'a> {
    pub fn kind(&self) -> Kind {
        match self {
            Node::Null => Kind::Null,
            Node::Bool(_) => Kind::Bool,
            Node::Num(_) => Kind::Number,
            Node::Str(_) => Kind::String,
            Node::Arr(_) => Kind::Array,
            Node::Obj(_) => Kind::Object,
            Node::Skipped(k) => *k,
        }
    }

    /// The member `key` of an object (keys are unique: the reader gives up on duplicates).
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        match self {
            Node::Obj(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// How a value is read, from where it sits in the schema.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// A (sub)schema: its members are keywords.
    Schema,
    /// An object of subschemas (`properties`, `$defs`, ...).
    SchemaMap,
    /// Data read in full.
    Full,
    /// Syntax only.
    Skip,
    /// An unknown keyword: objects may be `$ref` targets, so they are read as schemas.
    Unknown,
}

/// Nesting beyond this is left to the general path (serde_json stops at 128 levels).
const MAX_DEPTH: usize = 100;

/// Reads a schema document; `None` where serde_json might read it differently or reject it.
pub fn read(bytes: &[u8]) -> Option<Node<'_>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut r = Reader {
        text,
        bytes,
        pos: 0,
        depth: 0,
        members: Vec::new(),
        items: Vec::new(),
    };
    let root = r.value(Ctx::Schema)?;
    r.ws();
    (r.pos == bytes.len()).then_some(root)
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
    /// Members and items of the objects and arrays being read, moved into an exactly sized
    /// vector when each is complete (no growing vectors per node).
    members: Vec<(Cow<'a, str>, Node<'a>)>,
    items: Vec<Node<'a>>,
}

/// What a keyword's value is read as. Keys are looked up by their first byte and then their
/// length (a `match` on the strings would compare against each in turn).
fn keyword_ctx(key: &str) -> Ctx {
    use Ctx::{Full, Schema, SchemaMap, Skip};
    let b = key.as_bytes();
    let candidates: &[(&str, Ctx)] = match b.first() {
        Some(b'$') => &[
            ("$ref", Full),
            ("$defs", SchemaMap),
            ("$schema", Full),
            ("$id", Full),
            ("$comment", Skip),
            ("$anchor", Full),
            ("$dynamicRef", Full),
            ("$dynamicAnchor", Full),
            ("$recursiveRef", Full),
            ("$recursiveAnchor", Full),
            ("$vocabulary", Full),
        ],
        Some(b'a') => &[
            ("additionalProperties", Schema),
            ("additionalItems", Schema),
            ("allOf", Schema),
            ("anyOf", Schema),
        ],
        Some(b'c') => &[
            ("const", Full),
            ("contains", Schema),
            ("contentSchema", Schema),
            ("contentMediaType", Full),
            ("contentEncoding", Full),
        ],
        Some(b'd') => &[
            ("description", Skip),
            ("default", Skip),
            ("definitions", SchemaMap),
            ("dependencies", SchemaMap),
            ("dependentSchemas", SchemaMap),
            ("dependentRequired", Full),
            ("deprecated", Full),
        ],
        Some(b'e') => &[
            ("enum", Full),
            ("else", Schema),
            ("examples", Skip),
            ("exclusiveMaximum", Full),
            ("exclusiveMinimum", Full),
        ],
        Some(b'f') => &[("format", Full)],
        Some(b'i') => &[("items", Schema), ("if", Schema), ("id", Full)],
        Some(b'm') => &[
            ("minimum", Full),
            ("maximum", Full),
            ("minLength", Full),
            ("maxLength", Full),
            ("minItems", Full),
            ("maxItems", Full),
            ("minProperties", Full),
            ("maxProperties", Full),
            ("multipleOf", Full),
            ("minContains", Full),
            ("maxContains", Full),
        ],
        Some(b'n') => &[("not", Schema)],
        Some(b'o') => &[("oneOf", Schema)],
        Some(b'p') => &[
            ("properties", SchemaMap),
            ("pattern", Full),
            ("patternProperties", SchemaMap),
            ("propertyNames", Schema),
            ("prefixItems", Schema),
        ],
        Some(b'r') => &[("required", Full), ("readOnly", Full)],
        Some(b't') => &[("type", Full), ("title", Skip), ("then", Schema)],
        Some(b'u') => &[
            ("uniqueItems", Full),
            ("unevaluatedProperties", Schema),
            ("unevaluatedItems", Schema),
        ],
        Some(b'w') => &[("writeOnly", Full)],
        _ => &[],
    };
    candidates
        .iter()
        .find(|(k, _)| k.len() == b.len() && k.as_bytes() == b)
        .map_or(Ctx::Unknown, |&(_, ctx)| ctx)
}

impl<'a> Reader<'a> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        self.ws();
        (self.bytes.get(self.pos) == Some(&b)).then(|| self.pos += 1)
    }

    fn value(&mut self, ctx: Ctx) -> Option<Node<'a>> {
        self.ws();
        let ctx = match (ctx, self.bytes.get(self.pos)) {
            (Ctx::Unknown, Some(b'{')) => Ctx::Schema,
            (Ctx::Unknown, _) => Ctx::Skip,
            _ => ctx,
        };
        match *self.bytes.get(self.pos)? {
            b'{' => self.nested(|r| r.object(ctx)),
            b'[' => self.nested(|r| r.array(ctx)),
            b'"' => {
                if ctx == Ctx::Skip {
                    self.skip_string().map(|()| Node::Skipped(Kind::String))
                } else {
                    self.string().map(Node::Str)
                }
            }
            b't' => self.literal("true", Node::Bool(true)),
            b'f' => self.literal("false", Node::Bool(false)),
            b'n' => self.literal("null", Node::Null),
            _ => {
                let n = self.number()?;
                Some(if ctx == Ctx::Skip {
                    Node::Skipped(Kind::Number)
                } else {
                    Node::Num(n)
                })
            }
        }
    }

    fn nested(&mut self, f: impl FnOnce(&mut Self) -> Option<Node<'a>>) -> Option<Node<'a>> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let node = f(self);
        self.depth -= 1;
        node
    }

    fn literal(&mut self, word: &str, node: Node<'a>) -> Option<Node<'a>> {
        self.bytes[self.pos..]
            .starts_with(word.as_bytes())
            .then(|| {
                self.pos += word.len();
                node
            })
    }

    fn object(&mut self, ctx: Ctx) -> Option<Node<'a>> {
        self.pos += 1;
        let start = self.members.len();
        self.ws();
        if self.bytes.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Some(if ctx == Ctx::Skip {
                Node::Skipped(Kind::Object)
            } else {
                Node::Obj(Vec::new())
            });
        }
        loop {
            self.ws();
            if self.bytes.get(self.pos) != Some(&b'"') {
                return None;
            }
            let key = self.string()?;
            // A nested `$schema` makes the general path validate embedded resources apart.
            if key == "$schema" && self.depth > 1 {
                return None;
            }
            self.eat(b':')?;
            let child = match ctx {
                Ctx::Schema => keyword_ctx(&key),
                Ctx::SchemaMap => Ctx::Schema,
                other => other,
            };
            let value = self.value(child)?;
            if ctx != Ctx::Skip {
                if self.members[start..].iter().any(|(k, _)| *k == key) {
                    return None;
                }
                self.members.push((key, value));
            }
            if self.closes_after_item(b'}')? {
                break;
            }
        }
        Some(if ctx == Ctx::Skip {
            Node::Skipped(Kind::Object)
        } else {
            Node::Obj(self.members.drain(start..).collect())
        })
    }

    fn array(&mut self, ctx: Ctx) -> Option<Node<'a>> {
        self.pos += 1;
        let start = self.items.len();
        // Arrays of subschemas (`allOf`, `items`, ...) hold schemas; other arrays are data.
        let child = match ctx {
            Ctx::SchemaMap => Ctx::Full,
            other => other,
        };
        self.ws();
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
        } else {
            loop {
                let v = self.value(child)?;
                if ctx != Ctx::Skip {
                    self.items.push(v);
                }
                if self.closes_after_item(b']')? {
                    break;
                }
            }
        }
        Some(if ctx == Ctx::Skip {
            Node::Skipped(Kind::Array)
        } else {
            Node::Arr(self.items.drain(start..).collect())
        })
    }

    /// After an object member or array item: `,` (more follow, `false`) or `close` (`true`).
    fn closes_after_item(&mut self, close: u8) -> Option<bool> {
        self.ws();
        let b = *self.bytes.get(self.pos)?;
        self.pos += 1;
        match b {
            b',' => Some(false),
            b if b == close => Some(true),
            _ => None,
        }
    }

    /// The end of the string starting at `self.pos` (its opening quote), whether it has escapes.
    fn scan_string(&mut self) -> Option<(usize, usize, bool)> {
        let start = self.pos + 1;
        let mut i = start;
        let mut escaped = false;
        loop {
            match *self.bytes.get(i)? {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    i += 2;
                }
                // serde_json rejects raw control characters in strings.
                0..=0x1f => return None,
                _ => i += 1,
            }
        }
        self.pos = i + 1;
        Some((start, i, escaped))
    }

    fn skip_string(&mut self) -> Option<()> {
        let (start, end, escaped) = self.scan_string()?;
        if escaped {
            unescape(&self.text[start..end])?;
        }
        Some(())
    }

    fn string(&mut self) -> Option<Cow<'a, str>> {
        let (start, end, escaped) = self.scan_string()?;
        let raw = self.text.get(start..end)?;
        if escaped {
            unescape(raw).map(Cow::Owned)
        } else {
            Some(Cow::Borrowed(raw))
        }
    }

    /// A number with JSON's grammar, as serde_json represents it.
    fn number(&mut self) -> Option<Num> {
        let start = self.pos;
        let b = self.bytes;
        let mut i = start;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        let digits = i;
        match b.get(i)? {
            b'0' => i += 1,
            b'1'..=b'9' => {
                while b.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
            }
            _ => return None,
        }
        let mut integral = true;
        if b.get(i) == Some(&b'.') {
            integral = false;
            i += 1;
            let from = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == from {
                return None;
            }
        }
        if let Some(b'e' | b'E') = b.get(i) {
            integral = false;
            i += 1;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            let from = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == from {
                return None;
            }
        }
        self.pos = i;
        let text = &self.text[start..i];
        let negative = digits > start;
        if integral {
            if !negative {
                if let Ok(u) = text.parse::<u64>() {
                    return Some(Num::U(u));
                }
            } else if text == "-0" {
                return Some(Num::F(-0.0));
            } else if let Ok(n) = text.parse::<i64>() {
                return Some(Num::I(n));
            }
            // serde_json reads longer integers as floats; not worth matching exactly.
            return None;
        }
        let f: f64 = text.parse().ok()?;
        f.is_finite().then_some(Num::F(f))
    }
}

/// The text of a JSON string's escapes resolved; `None` on an escape serde_json rejects.
fn unescape(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = chars.next()?;
        out.push(match e {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let hi = hex4(&mut chars)?;
                match hi {
                    0xD800..=0xDBFF => {
                        if chars.next()? != '\\' || chars.next()? != 'u' {
                            return None;
                        }
                        let lo = hex4(&mut chars)?;
                        if !(0xDC00..=0xDFFF).contains(&lo) {
                            return None;
                        }
                        char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))?
                    }
                    0xDC00..=0xDFFF => return None,
                    _ => char::from_u32(hi)?,
                }
            }
            _ => return None,
        });
    }
    Some(out)
}

fn hex4(chars: &mut std::str::Chars<'_>) -> Option<u32> {
    let mut v = 0;
    for _ in 0..4 {
        v = v * 16 + chars.next()?.to_digit(16)?;
    }
    Some(v)
}
