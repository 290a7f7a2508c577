//! The event decoder: builds `serde_json::Value` straight from the YAML parser's events, for
//! texts the hand-written reader (module `fast`) hands over.
//!
//! Going through serde's `Deserializer` (serde-saphyr) costs a buffered event stream, budget
//! accounting and a visitor call per node; this decoder pulls events from `granit-parser` (the
//! parser serde-saphyr sits on) and builds the tree directly, resolving scalars with
//! [`crate::resolve`]. It covers untagged and `!!str` scalars, sequences, mappings, anchors,
//! aliases and merge keys (`<<`), in any layout the parser reads.
//!
//! Anything else (other tags, non-string keys, duplicate keys, limits, syntax errors) makes it
//! give up with [`Unsupported`], and the caller decodes the text with the complete serde-saphyr
//! path, so rare constructs and every error message stay exactly as they were.

use std::borrow::Cow;

use granit_parser::{Event, Parser, ScalarStyle, Tag};
use serde_json::{Map, Value};

use crate::Resolution;
use crate::resolve;

/// The text needs the complete decoder (an unsupported construct, a limit, or an error).
#[derive(Debug)]
pub(crate) struct Unsupported;

type Result<T> = std::result::Result<T, Unsupported>;

/// What to do with a key seen twice in one mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Duplicates {
    /// Hand the text to the complete decoder, which reports the error.
    Unsupported,
    /// Keep the later value (go-yaml v2 as Helm calls it).
    LastWins,
}

/// How to decode.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mode {
    pub resolution: Resolution,
    pub duplicates: Duplicates,
    /// Plain keys that resolve to booleans or numbers become the string Go prints for them
    /// (sigs.k8s.io/yaml); otherwise the complete decoder handles them.
    pub go_keys: bool,
}

// Limits below serde-saphyr's default budget (depth 64, 250 000 nodes, 50 000 aliases, a
// million replayed events): texts near them go to the complete decoder, which enforces them.
const MAX_DEPTH: usize = 48;
const MAX_NODES: usize = 200_000;
const MAX_ALIASES: usize = 10_000;
const MAX_REPLAYED_NODES: usize = 500_000;

pub(crate) fn parser_options() -> granit_parser::Options {
    let mut options = granit_parser::Options::default();
    options.emit_comments = false;
    // libyaml (Go's yaml.v2 and yaml.v3) adds no line feed to a block scalar ending the text.
    options.block_scalar_eof_without_line_feed = true;
    options
}

/// Decodes a text holding at most one document; `Ok(Value::Null)` for none.
pub(crate) fn single(text: &str, mode: Mode) -> Result<Value> {
    let mut d = Decoder::new(text, mode);
    match d.next()? {
        Event::StreamStart => {}
        _ => return Err(Unsupported),
    }
    let value = match d.next()? {
        Event::StreamEnd => return Ok(Value::Null),
        Event::DocumentStart(..) => {
            let first = d.next()?;
            let value = d.node(first, 0)?;
            match d.next()? {
                Event::DocumentEnd => {}
                _ => return Err(Unsupported),
            }
            value
        }
        _ => return Err(Unsupported),
    };
    match d.next()? {
        Event::StreamEnd => Ok(value),
        // A second document: the complete decoder reports it.
        _ => Err(Unsupported),
    }
}

struct Anchor {
    value: Value,
    nodes: usize,
}

struct Decoder<'a> {
    parser: Parser<'a, granit_parser::StrInput<'a>>,
    mode: Mode,
    anchors: Vec<Option<Anchor>>,
    defined: usize,
    nodes: usize,
    aliases: usize,
    replayed: usize,
}

impl<'a> Decoder<'a> {
    fn new(text: &'a str, mode: Mode) -> Self {
        Decoder {
            parser: Parser::new_from_str_with_options(text, parser_options()),
            mode,
            anchors: Vec::new(),
            defined: 0,
            nodes: 0,
            aliases: 0,
            replayed: 0,
        }
    }

    fn next(&mut self) -> Result<Event<'a>> {
        match self.parser.next_event() {
            Some(Ok((event, _))) => Ok(event),
            _ => Err(Unsupported),
        }
    }

    fn count_node(&mut self) -> Result<()> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(Unsupported);
        }
        Ok(())
    }

    fn node(&mut self, event: Event<'a>, depth: usize) -> Result<Value> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                self.count_node()?;
                let value = scalar(text, style, tag.as_deref(), self.mode.resolution)?;
                self.anchor(anchor, &value, 1);
                Ok(value)
            }
            Event::SequenceStart(_, anchor, tag) => {
                if tag.is_some() || depth >= MAX_DEPTH {
                    return Err(Unsupported);
                }
                self.count_node()?;
                let start = self.nodes;
                let mut items = Vec::new();
                loop {
                    match self.next()? {
                        Event::SequenceEnd => break,
                        event => items.push(self.node(event, depth + 1)?),
                    }
                }
                let value = Value::Array(items);
                self.anchor(anchor, &value, self.nodes - start + 1);
                Ok(value)
            }
            Event::MappingStart(_, anchor, tag) => {
                if tag.is_some() || depth >= MAX_DEPTH {
                    return Err(Unsupported);
                }
                self.count_node()?;
                let start = self.nodes;
                let value = Value::Object(self.mapping(depth)?);
                self.anchor(anchor, &value, self.nodes - start + 1);
                Ok(value)
            }
            Event::Alias(id) => self.alias(id),
            _ => Err(Unsupported),
        }
    }

    fn anchor(&mut self, id: usize, value: &Value, nodes: usize) {
        if id == 0 {
            return;
        }
        if self.anchors.len() <= id {
            self.anchors.resize_with(id + 1, || None);
        }
        self.defined += 1;
        self.anchors[id] = Some(Anchor {
            value: value.clone(),
            nodes,
        });
    }

    fn alias(&mut self, id: usize) -> Result<Value> {
        let Some(Some(anchor)) = self.anchors.get(id) else {
            // An alias to a node still being built (a recursive structure).
            return Err(Unsupported);
        };
        self.aliases += 1;
        self.replayed += anchor.nodes;
        if self.aliases > MAX_ALIASES
            || self.replayed > MAX_REPLAYED_NODES
            || (self.aliases >= 100 && self.aliases > 10 * self.defined)
        {
            return Err(Unsupported);
        }
        Ok(anchor.value.clone())
    }

    fn mapping(&mut self, depth: usize) -> Result<Map<String, Value>> {
        let mut map = Map::new();
        let mut merges: Vec<Value> = Vec::new();
        let mut merged = false;
        loop {
            let key = match self.next()? {
                Event::MappingEnd => break,
                Event::Scalar(text, style, anchor, None) => {
                    self.count_node()?;
                    if style == ScalarStyle::Plain && text == "<<" && anchor == 0 {
                        let event = self.next()?;
                        let value = self.node(event, depth + 1)?;
                        // Only the first merge key of a mapping counts.
                        if !merged {
                            merged = true;
                            merges = merge_sources(value)?;
                        }
                        continue;
                    }
                    let key = if style == ScalarStyle::Plain {
                        match resolve::plain(&text, self.mode.resolution) {
                            resolve::Plain::Str => text.into_owned(),
                            resolve::Plain::Bool(b) if self.mode.go_keys => b.to_string(),
                            resolve::Plain::Number(n) if self.mode.go_keys => {
                                resolve::go_number_key(&n)
                            }
                            _ => return Err(Unsupported),
                        }
                    } else {
                        text.into_owned()
                    };
                    if anchor != 0 {
                        self.anchor(anchor, &Value::String(key.clone()), 1);
                    }
                    key
                }
                _ => return Err(Unsupported),
            };
            let event = self.next()?;
            let value = self.node(event, depth + 1)?;
            match map.entry(key) {
                serde_json::map::Entry::Vacant(e) => {
                    e.insert(value);
                }
                serde_json::map::Entry::Occupied(mut e) => match self.mode.duplicates {
                    Duplicates::LastWins => {
                        e.insert(value);
                    }
                    Duplicates::Unsupported => return Err(Unsupported),
                },
            }
        }
        // Merged entries come after the mapping's own, which win; earlier sources win over later.
        for source in merges {
            let Value::Object(source) = source else {
                continue;
            };
            for (k, v) in source {
                map.entry(k).or_insert(v);
            }
        }
        Ok(map)
    }
}

/// The mappings a merge key's value names: one mapping, a sequence of mappings, or null.
fn merge_sources(value: Value) -> Result<Vec<Value>> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Object(_) => Ok(vec![value]),
        Value::Array(items) if items.iter().all(Value::is_object) => Ok(items),
        _ => Err(Unsupported),
    }
}

fn scalar(
    text: Cow<'_, str>,
    style: ScalarStyle,
    tag: Option<&Tag>,
    resolution: Resolution,
) -> Result<Value> {
    match tag {
        None if style == ScalarStyle::Plain => {
            resolve::plain_value(text.into_owned(), resolution).ok_or(Unsupported)
        }
        None => Ok(Value::String(text.into_owned())),
        Some(tag) if tag.is_yaml_core_schema_tag("str") => Ok(Value::String(text.into_owned())),
        Some(_) => Err(Unsupported),
    }
}
