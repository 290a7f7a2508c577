//! A structural check of a schema for the fast validator: the keywords it supports, their values
//! of the types the draft's meta-schema demands, local `$ref`s that resolve and patterns that
//! compile as the general path compiles them.
//!
//! `jsonschema::validator_for` validates the schema against its draft's meta-schema and compiles
//! it, which costs more than the validation itself. This check is stricter than both: whatever it
//! accepts, the general path accepts too, and anything it is unsure of is refused, so that the
//! caller takes the general path (which then reports the schema's errors).

use std::cell::OnceCell;
use std::collections::HashMap;

use super::json::{Kind, Node, Num};

/// The drafts the fast path knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Draft {
    Draft7,
    Draft202012,
}

/// A schema the fast validator may walk, with the patterns compiled while checking it.
pub struct Checked<'s> {
    pub draft: Draft,
    pub root: &'s Node<'s>,
    pub patterns: HashMap<&'s str, Pattern>,
}

/// A `pattern` (or `patternProperties` name) translated to Rust syntax, its matchers built on
/// first use.
pub struct Pattern {
    translated: String,
    regex: OnceCell<Option<fancy_regex::Regex>>,
    sequence: OnceCell<Option<jsonschema_regex::Sequence>>,
}

impl Pattern {
    /// Whether `text` matches, as jsonschema decides it: a sequence of ASCII classes without the
    /// regex engine when it can, the engine otherwise. `None` on an engine failure.
    pub fn is_match(&self, text: &str) -> Option<bool> {
        let sequence = self
            .sequence
            .get_or_init(|| jsonschema_regex::Sequence::compile(&self.translated));
        if let Some(answer) = sequence.as_ref().and_then(|s| s.is_match(text.as_bytes())) {
            return Some(answer);
        }
        let regex = self.regex.get_or_init(|| compile(&self.translated));
        regex.as_ref()?.is_match(text).ok()
    }
}

/// The draft `$schema` names, as the `referencing` crate detects it; `None` for drafts the fast
/// path does not support.
fn draft_of(uri: &str) -> Option<Draft> {
    match uri.strip_suffix('#').unwrap_or(uri) {
        "https://json-schema.org/draft-07/schema" | "http://json-schema.org/draft-07/schema" => {
            Some(Draft::Draft7)
        }
        "https://json-schema.org/draft/2020-12/schema"
        | "http://json-schema.org/draft/2020-12/schema"
        | "https://json-schema.org/schema"
        | "http://json-schema.org/schema" => Some(Draft::Draft202012),
        _ => None,
    }
}

/// A root `$id` that is plainly an absolute `http(s)` URI without query or fragment: local
/// references still resolve within the document.
fn plain_id(id: &str) -> bool {
    let Some(rest) = id
        .strip_prefix("https://")
        .or_else(|| id.strip_prefix("http://"))
    else {
        return false;
    };
    let host_end = rest.find('/').unwrap_or(rest.len());
    host_end > 0
        && rest[..host_end]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && rest[host_end..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'-' | b'_' | b'~'))
}

/// Checks the schema document `root`; `None` sends the caller to the general path.
pub fn check<'s>(root: &'s Node<'s>) -> Option<Checked<'s>> {
    let mut draft = Draft::Draft202012;
    if let Node::Obj(_) = root {
        if let Some(uri) = root.get("$schema") {
            let Node::Str(uri) = uri else { return None };
            draft = draft_of(uri)?;
        }
        if let Some(id) = root.get("$id") {
            let Node::Str(id) = id else { return None };
            if !plain_id(id) {
                return None;
            }
        }
    }
    let mut cx = Cx {
        draft,
        root,
        patterns: HashMap::new(),
        refs: Vec::new(),
    };
    cx.schema(root, true)?;
    // Targets outside the schema positions walked above are checked on their own, once each.
    let mut done: Vec<&str> = Vec::new();
    while let Some(r) = cx.refs.pop() {
        if done.contains(&r) {
            continue;
        }
        done.push(r);
        if !walked(r) {
            let target = resolve(root, r)?;
            cx.schema(target, false)?;
        }
    }
    Some(Checked {
        draft,
        root,
        patterns: cx.patterns,
    })
}

/// Whether the main walk has checked the target of `r` already.
fn walked(r: &str) -> bool {
    r == "#"
        || ["#/definitions/", "#/$defs/"].iter().any(|p| {
            r.strip_prefix(p)
                .is_some_and(|name| !name.contains('/') && !name.contains('~'))
        })
}

/// The node a local reference (`#` and a JSON pointer) names; `None` for any other reference.
pub fn resolve<'s>(root: &'s Node<'s>, r: &str) -> Option<&'s Node<'s>> {
    let pointer = r.strip_prefix('#')?;
    if pointer.is_empty() {
        return Some(root);
    }
    let pointer = pointer.strip_prefix('/')?;
    let mut node = root;
    for seg in pointer.split('/') {
        if seg.is_empty()
            || !seg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'~' | b'$'))
        {
            return None;
        }
        let seg = if seg.contains('~') {
            let mut s = String::with_capacity(seg.len());
            let mut it = seg.chars();
            while let Some(c) = it.next() {
                if c == '~' {
                    s.push(match it.next()? {
                        '0' => '~',
                        '1' => '/',
                        _ => return None,
                    });
                } else {
                    s.push(c);
                }
            }
            std::borrow::Cow::Owned(s)
        } else {
            std::borrow::Cow::Borrowed(seg)
        };
        node = match node {
            Node::Obj(_) => node.get(&seg)?,
            Node::Arr(items) => {
                if seg.len() > 1 && seg.starts_with('0') {
                    return None;
                }
                items.get(seg.parse::<usize>().ok()?)?
            }
            _ => return None,
        };
    }
    matches!(node, Node::Obj(_) | Node::Bool(_)).then_some(node)
}

struct Cx<'s> {
    draft: Draft,
    root: &'s Node<'s>,
    patterns: HashMap<&'s str, Pattern>,
    refs: Vec<&'s str>,
}

fn is(node: &Node<'_>, kind: Kind) -> Option<()> {
    (node.kind() == kind).then_some(())
}

/// A non-negative integer as the general path reads it.
fn count(node: &Node<'_>) -> Option<()> {
    matches!(node, Node::Num(Num::U(_))).then_some(())
}

fn number(node: &Node<'_>) -> Option<()> {
    matches!(node, Node::Num(_)).then_some(())
}

/// An array of distinct strings.
fn string_array(node: &Node<'_>) -> Option<()> {
    let Node::Arr(items) = node else { return None };
    for (i, item) in items.iter().enumerate() {
        let Node::Str(s) = item else { return None };
        if items[..i]
            .iter()
            .any(|o| matches!(o, Node::Str(p) if p == s))
        {
            return None;
        }
    }
    Some(())
}

const SIMPLE_TYPES: [&str; 7] = [
    "array", "boolean", "integer", "null", "number", "object", "string",
];

impl<'s> Cx<'s> {
    fn schema(&mut self, node: &'s Node<'s>, root: bool) -> Option<()> {
        let members = match node {
            Node::Bool(_) => return Some(()),
            Node::Obj(members) => members,
            _ => return None,
        };
        let d7 = self.draft == Draft::Draft7;
        for (key, value) in members {
            match key.as_ref() {
                "$schema" | "$id" if root => {}
                "$ref" => {
                    let Node::Str(r) = value else { return None };
                    resolve(self.root, r)?;
                    self.refs.push(r);
                }
                "$comment" | "title" | "description" | "format" => is(value, Kind::String)?,
                "default" | "const" => {}
                "examples" | "enum" => is(value, Kind::Array)?,
                "readOnly" | "writeOnly" | "deprecated" | "uniqueItems" => is(value, Kind::Bool)?,
                "multipleOf" => match value {
                    Node::Num(Num::U(n)) if *n > 0 => {}
                    Node::Num(Num::I(n)) if *n > 0 => {}
                    Node::Num(Num::F(f)) if *f > 0.0 => {}
                    _ => return None,
                },
                "maximum" | "minimum" | "exclusiveMaximum" | "exclusiveMinimum" => number(value)?,
                "maxLength" | "minLength" | "maxItems" | "minItems" | "maxProperties"
                | "minProperties" => count(value)?,
                "pattern" => {
                    let Node::Str(p) = value else { return None };
                    self.pattern(p)?;
                }
                "additionalItems" if d7 => self.schema(value, false)?,
                "items" => match value {
                    Node::Arr(items) if d7 && !items.is_empty() => {
                        for item in items {
                            self.schema(item, false)?;
                        }
                    }
                    _ => self.schema(value, false)?,
                },
                "prefixItems" if !d7 => self.schemas(value)?,
                "allOf" | "anyOf" | "oneOf" => self.schemas(value)?,
                "contains"
                | "additionalProperties"
                | "propertyNames"
                | "not"
                | "if"
                | "then"
                | "else" => self.schema(value, false)?,
                "required" => string_array(value)?,
                "properties" | "definitions" | "$defs" => self.schema_map(value)?,
                "dependentSchemas" if !d7 => self.schema_map(value)?,
                "patternProperties" => {
                    let Node::Obj(members) = value else {
                        return None;
                    };
                    for (p, sub) in members {
                        self.pattern(p)?;
                        self.schema(sub, false)?;
                    }
                }
                "dependencies" if d7 => {
                    let Node::Obj(members) = value else {
                        return None;
                    };
                    for (_, dep) in members {
                        match dep {
                            Node::Arr(_) => string_array(dep)?,
                            _ => self.schema(dep, false)?,
                        }
                    }
                }
                "dependentRequired" if !d7 => {
                    let Node::Obj(members) = value else {
                        return None;
                    };
                    for (_, dep) in members {
                        string_array(dep)?;
                    }
                }
                "type" => match value {
                    Node::Str(t) if SIMPLE_TYPES.contains(&t.as_ref()) => {}
                    Node::Arr(types) if !types.is_empty() => {
                        string_array(value)?;
                        for t in types {
                            let Node::Str(t) = t else { return None };
                            if !SIMPLE_TYPES.contains(&t.as_ref()) {
                                return None;
                            }
                        }
                    }
                    _ => return None,
                },
                // Keywords of this or another draft the fast path does not implement.
                "additionalItems"
                | "prefixItems"
                | "dependentSchemas"
                | "dependencies"
                | "dependentRequired"
                | "$schema"
                | "$id"
                | "id"
                | "$anchor"
                | "$dynamicRef"
                | "$dynamicAnchor"
                | "$recursiveRef"
                | "$recursiveAnchor"
                | "$vocabulary"
                | "unevaluatedItems"
                | "unevaluatedProperties"
                | "maxContains"
                | "minContains"
                | "contentMediaType"
                | "contentEncoding"
                | "contentSchema"
                | "discriminator" => return None,
                // Unknown keywords are annotations, but one the reader kept in full may be a
                // keyword it has no rule for.
                _ => {}
            }
            // Draft 7 asserts formats, which the fast path does not implement.
            if d7 && key == "format" {
                return None;
            }
        }
        Some(())
    }

    fn schemas(&mut self, node: &'s Node<'s>) -> Option<()> {
        let Node::Arr(items) = node else { return None };
        if items.is_empty() {
            return None;
        }
        for item in items {
            self.schema(item, false)?;
        }
        Some(())
    }

    fn schema_map(&mut self, node: &'s Node<'s>) -> Option<()> {
        let Node::Obj(members) = node else {
            return None;
        };
        for (_, sub) in members {
            self.schema(sub, false)?;
        }
        Some(())
    }

    /// Checks that `pattern` compiles as jsonschema compiles it (ECMA 262 translated, then
    /// `fancy-regex`). Building the matcher costs ~300,000 instructions and most patterns are never
    /// matched, so a pattern that parses is built when first used, unless its build could still
    /// fail ([`build_may_fail`]).
    fn pattern(&mut self, pattern: &'s str) -> Option<()> {
        if self.patterns.contains_key(pattern) {
            return Some(());
        }
        let translated = jsonschema_regex::to_rust_regex(pattern).ok()?.into_owned();
        let regex = OnceCell::new();
        if build_may_fail(&translated) {
            let _ = regex.set(Some(compile(&translated)?));
        } else {
            fancy_regex::Expr::parse_tree(&translated).ok()?;
        }
        self.patterns.insert(
            pattern,
            Pattern {
                translated,
                regex,
                sequence: OnceCell::new(),
            },
        );
        Some(())
    }
}

/// Whether building a translated pattern that parses could still fail. Past the syntax, the
/// build rejects patterns over the engine's size limit (counted repetitions `x{n,m}`, long
/// patterns) and in regex-syntax's translation only Unicode class names (`\p{..}`) and
/// flag-dependent constructs (`(?-u)`); any `{` but those of `\x{..}`, `\u{..}` or `\{` counts.
fn build_may_fail(translated: &str) -> bool {
    let b = translated.as_bytes();
    translated.len() > 256
        || translated.contains("\\p")
        || translated.contains("\\P")
        || translated.contains("(?")
        || (0..b.len()).any(|i| {
            b[i] == b'{'
                && !(i >= 1 && b[i - 1] == b'\\'
                    || i >= 2 && b[i - 2] == b'\\' && matches!(b[i - 1], b'x' | b'u'))
        })
}

/// The matcher jsonschema builds for a translated pattern (default options: no limits set).
pub fn compile(translated: &str) -> Option<fancy_regex::Regex> {
    fancy_regex::RegexBuilder::new(translated).build().ok()
}

impl Cx<'_> {}
