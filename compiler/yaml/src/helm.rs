//! Decoding as Helm does (`sigs.k8s.io/yaml` over go-yaml v2): the first document of a text,
//! YAML 1.1 scalars, the last of duplicate keys winning, and non-string keys turned into the
//! string Go prints for them (`on: x` is `{"true": "x"}`).
//!
//! [`from_str`] decodes a whole document; [`scan_head`] checks that a rendered manifest is
//! YAML and returns only the fields Helm sorts and hooks by, without building the tree.
//! Both try the fast reader, then the event decoder, and defer to serde-saphyr for what it leaves, as
//! [`crate::from_str`] does.

use granit_parser::{Event, Parser, ScalarStyle};
use serde_json::{Map, Number, Value};

use crate::decode::{self, Duplicates, Mode, Unsupported};
use crate::{Error, Resolution, resolve};

pub(crate) const MODE: Mode = Mode {
    resolution: Resolution::Yaml11,
    duplicates: Duplicates::LastWins,
    go_keys: true,
};

/// Decodes the first YAML document of `text` as Helm does; numbers keep their int/float kind
/// (Helm's JSON round trip makes them all float64 afterwards) and an empty text is null.
pub fn from_str(text: &str) -> Result<Value, Error> {
    if let Some(value) = crate::fast::single(text, MODE) {
        return Ok(value);
    }
    match decode::single(text, MODE) {
        Ok(value) => Ok(value),
        Err(Unsupported) => complete(text),
    }
}

pub(crate) fn complete(text: &str) -> Result<Value, Error> {
    let mut options = serde_saphyr::Options::default();
    options.legacy_octal_numbers = true;
    options.duplicate_keys = serde_saphyr::options::DuplicateKeyPolicy::LastWins;
    options.emit_comments = false;
    options.budget = Some(nesting_budget());
    let docs = serde_saphyr::from_multiple_with_options::<GoValue>(text, options)
        .map_err(crate::to_error)?;
    let mut value = docs.into_iter().next().map_or(Value::Null, |d| d.0);
    crate::eof_block_scalar::trim_final_line_feed(text, &mut value);
    Ok(value)
}

/// No limit on size (charts carry megabytes of CRDs) but one on nesting: serde-saphyr recurses
/// per level, and a text like `fromYaml (repeat 64 "a: [")` must end in an error, not exhaust
/// the stack of the thread rendering the template.
fn nesting_budget() -> serde_saphyr::Budget {
    let mut b = serde_saphyr::Budget::default();
    b.max_reader_input_bytes = None;
    b.max_events = usize::MAX;
    b.max_aliases = usize::MAX;
    b.max_anchors = usize::MAX;
    b.max_recorded_anchor_events = usize::MAX;
    b.max_recorded_anchor_bytes = usize::MAX;
    b.max_documents = usize::MAX;
    b.max_nodes = usize::MAX;
    b.max_total_scalar_bytes = usize::MAX;
    b.max_merge_keys = usize::MAX;
    b.enforce_alias_anchor_ratio = false;
    b.max_depth = 40;
    b
}

/// The head of a Kubernetes object: what Helm reads of a rendered manifest to sort it and find
/// its hooks (Helm's `SimpleHead`). A field is `None` when absent or not a string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManifestHead {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    /// `metadata.annotations` whose values are strings, in document order.
    pub annotations: Vec<(String, String)>,
}

impl ManifestHead {
    /// The value of an annotation, e.g. `helm.sh/hook`.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The head of a decoded object, as [`scan_head`] reads it from text.
    pub fn of(object: &Value) -> ManifestHead {
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        let metadata = object.get("metadata");
        ManifestHead {
            api_version: text(object.get("apiVersion")),
            kind: text(object.get("kind")),
            name: text(metadata.and_then(|m| m.get("name"))),
            namespace: text(metadata.and_then(|m| m.get("namespace"))),
            annotations: metadata
                .and_then(|m| m.get("annotations"))
                .and_then(Value::as_object)
                .map(|a| {
                    a.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// Checks that `text` (one rendered manifest document) is YAML that [`from_str`] accepts, and
/// returns its head without building the object: `Ok(None)` for an empty document (only
/// comments, or null), which Helm skips. Errors are those of [`from_str`].
pub fn scan_head(text: &str) -> Result<Option<ManifestHead>, Error> {
    // The fast reader builds only the head's fields, and costs less than scanning parser events.
    if let Some(value) = crate::fast::head(text, MODE) {
        return Ok((!value.is_null()).then(|| ManifestHead::of(&value)));
    }
    match Scanner::new(text).document() {
        Ok(head) => Ok(head),
        Err(Unsupported) => {
            let value = from_str(text)?;
            Ok((!value.is_null()).then(|| ManifestHead::of(&value)))
        }
    }
}

/// Where a scanned node sits, for the fields the head keeps.
#[derive(Clone, Copy, PartialEq)]
enum Place {
    Root,
    Metadata,
    Annotations,
    Other,
}

struct Scanner<'a> {
    parser: Parser<'a, granit_parser::StrInput<'a>>,
    head: ManifestHead,
    /// Every annotation in order, `None` where the value is not a string (the last one counts).
    annotations: Vec<(String, Option<String>)>,
    /// Anchors whose node is complete; an alias to any other is recursive.
    anchors: Vec<bool>,
    nodes: usize,
    aliases: usize,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        Scanner {
            parser: Parser::new_from_str_with_options(text, decode::parser_options()),
            head: ManifestHead::default(),
            annotations: Vec::new(),
            anchors: Vec::new(),
            nodes: 0,
            aliases: 0,
        }
    }

    fn next(&mut self) -> Result<Event<'a>, Unsupported> {
        match self.parser.next_event() {
            Some(Ok((event, _))) => Ok(event),
            _ => Err(Unsupported),
        }
    }

    fn document(mut self) -> Result<Option<ManifestHead>, Unsupported> {
        if !matches!(self.next()?, Event::StreamStart) {
            return Err(Unsupported);
        }
        let empty = match self.next()? {
            Event::StreamEnd => return Ok(None),
            Event::DocumentStart(..) => {
                let first = self.next()?;
                let empty = matches!(&first, Event::Scalar(t, ScalarStyle::Plain, 0, None)
                    if matches!(resolve::plain(t, Resolution::Yaml11), resolve::Plain::Null));
                self.node(first, Place::Root, 0)?;
                if !matches!(self.next()?, Event::DocumentEnd) {
                    return Err(Unsupported);
                }
                empty
            }
            _ => return Err(Unsupported),
        };
        // A later document, or anything unexpected, goes to the complete decoder.
        if !matches!(self.next()?, Event::StreamEnd) {
            return Err(Unsupported);
        }
        self.head.annotations = self
            .annotations
            .into_iter()
            .filter_map(|(k, v)| Some((k, v?)))
            .collect();
        Ok((!empty).then_some(self.head))
    }

    fn anchored(&mut self, id: usize) {
        if id != 0 {
            if self.anchors.len() <= id {
                self.anchors.resize(id + 1, false);
            }
            self.anchors[id] = true;
        }
    }

    /// Walks a node as the decoder would build it, giving up where the decoder would.
    fn node(&mut self, event: Event<'a>, place: Place, depth: usize) -> Result<(), Unsupported> {
        self.nodes += 1;
        if depth >= 48 || self.nodes > 200_000 {
            return Err(Unsupported);
        }
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                if tag.is_some() || place != Place::Other {
                    return Err(Unsupported);
                }
                if style == ScalarStyle::Plain
                    && resolve::plain(&text, Resolution::Yaml11) == resolve::Plain::Unsupported
                {
                    return Err(Unsupported);
                }
                self.anchored(anchor);
                Ok(())
            }
            Event::SequenceStart(_, anchor, tag) => {
                if tag.is_some() || place != Place::Other {
                    return Err(Unsupported);
                }
                loop {
                    match self.next()? {
                        Event::SequenceEnd => break,
                        event => self.node(event, Place::Other, depth + 1)?,
                    }
                }
                self.anchored(anchor);
                Ok(())
            }
            Event::MappingStart(_, anchor, tag) => {
                if tag.is_some() {
                    return Err(Unsupported);
                }
                self.mapping(place, depth)?;
                self.anchored(anchor);
                Ok(())
            }
            // The head is only read where no alias can stand in for a field.
            Event::Alias(id) if place == Place::Other => {
                self.aliases += 1;
                if self.aliases > 1_000 || !self.anchors.get(id).is_some_and(|done| *done) {
                    return Err(Unsupported);
                }
                Ok(())
            }
            _ => Err(Unsupported),
        }
    }

    fn mapping(&mut self, place: Place, depth: usize) -> Result<(), Unsupported> {
        loop {
            let key = match self.next()? {
                Event::MappingEnd => return Ok(()),
                Event::Scalar(text, style, 0, None) => {
                    // Merge keys (`<<`) go to the decoder, which checks what they merge.
                    if style == ScalarStyle::Plain
                        && (text == "<<" || !resolve::is_plain_string(&text, Resolution::Yaml11))
                    {
                        return Err(Unsupported);
                    }
                    text
                }
                _ => return Err(Unsupported),
            };
            let value = self.next()?;
            let field = match (place, key.as_ref()) {
                (Place::Root, "apiVersion") => Some(&mut self.head.api_version),
                (Place::Root, "kind") => Some(&mut self.head.kind),
                (Place::Metadata, "name") => Some(&mut self.head.name),
                (Place::Metadata, "namespace") => Some(&mut self.head.namespace),
                _ => None,
            };
            if let Some(field) = field {
                *field = string_scalar(&value)?;
                continue;
            }
            if place == Place::Annotations {
                let value = string_scalar(&value)?;
                match self.annotations.iter_mut().find(|(k, _)| *k == key) {
                    Some(entry) => entry.1 = value,
                    None => self.annotations.push((key.into_owned(), value)),
                }
                continue;
            }
            let inner = match (place, key.as_ref()) {
                (Place::Root, "metadata") => {
                    // A later `metadata` replaces the earlier one entirely.
                    self.head.name = None;
                    self.head.namespace = None;
                    self.annotations.clear();
                    Place::Metadata
                }
                (Place::Metadata, "annotations") => {
                    self.annotations.clear();
                    Place::Annotations
                }
                _ => Place::Other,
            };
            let inner = match (&value, inner) {
                (Event::MappingStart(..), inner) => inner,
                // `metadata: null` and other non-mappings hold no head fields.
                (Event::Scalar(..), Place::Metadata | Place::Annotations) => Place::Other,
                (_, inner) => inner,
            };
            self.node(value, inner, depth + 1)?;
        }
    }
}

/// The string a head field holds: `None` for any other scalar; collections, aliases and tagged
/// values go to the complete decoder.
fn string_scalar(event: &Event<'_>) -> Result<Option<String>, Unsupported> {
    match event {
        Event::Scalar(text, style, _, None) => {
            if *style != ScalarStyle::Plain {
                return Ok(Some(text.to_string()));
            }
            match resolve::plain(text, Resolution::Yaml11) {
                resolve::Plain::Str => Ok(Some(text.to_string())),
                resolve::Plain::Unsupported => Err(Unsupported),
                _ => Ok(None),
            }
        }
        _ => Err(Unsupported),
    }
}

/// A node decoded by serde-saphyr with Helm's keys: go-yaml resolves plain keys as scalars too
/// and sigs.k8s.io/yaml prints them back as strings.
struct GoValue(Value);

impl<'de> serde::Deserialize<'de> for GoValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(GoVisitor).map(GoValue)
    }
}

struct GoVisitor;

impl<'de> serde::de::Visitor<'de> for GoVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::from(i))
    }
    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        Ok(Value::from(u))
    }
    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(Number::from_f64(f).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_string()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(GoVisitor)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(GoValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(GoValue(k)) = map.next_key()? {
            let key = match k {
                Value::String(s) => s,
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => resolve::go_number_key(&n),
                other => {
                    return Err(serde::de::Error::custom(format!(
                        "unsupported map key of type: {}",
                        match other {
                            Value::Null => "%!s(<nil>)",
                            Value::Array(_) => "[]interface {}",
                            _ => "map[interface {}]interface {}",
                        }
                    )));
                }
            };
            let GoValue(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_and_duplicates_as_helm() {
        assert_eq!(
            from_str("on: x\na: 1\na: 2\n").unwrap(),
            json!({"true": "x", "a": 2})
        );
        assert_eq!(
            from_str("a: 1\na: 2\nb: 3\n").unwrap(),
            json!({"a": 2, "b": 3})
        );
        assert_eq!(
            from_str("2: v\n1.5: w\n1e6: x\n").unwrap(),
            json!({"2": "v", "1.5": "w", "1e+06": "x"})
        );
        assert_eq!(from_str("a: 1\n---\nb: 2\n").unwrap(), json!({"a": 1}));
        assert_eq!(from_str("").unwrap(), Value::Null);
        assert!(from_str("? [a]\n: 1\n").is_err());
    }

    #[test]
    fn block_scalar_ending_the_text_keeps_no_line_feed() {
        // helm: `.Files.Get "f.yaml" | fromYaml` of `b: >\n  folded\n  text` is "folded text".
        assert_eq!(
            from_str("b: >\n  folded\n  text").unwrap(),
            json!({"b": "folded text"})
        );
        assert_eq!(
            from_str("b: !!str |\n  tagged").unwrap(),
            json!({"b": "tagged"})
        );
    }

    #[test]
    fn head_of_a_manifest() {
        let text = "# Source: c/templates/job.yaml\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  namespace: \"apps\"\n  labels: {a: b}\n  annotations:\n    helm.sh/hook: pre-install\n    helm.sh/hook-weight: \"-5\"\n    count: 5\nspec:\n  template:\n    spec:\n      containers: [{name: m, image: x}]\n";
        let head = scan_head(text).unwrap().unwrap();
        assert_eq!(head.api_version.as_deref(), Some("batch/v1"));
        assert_eq!(head.kind.as_deref(), Some("Job"));
        assert_eq!(head.name.as_deref(), Some("migrate"));
        assert_eq!(head.namespace.as_deref(), Some("apps"));
        assert_eq!(head.annotation("helm.sh/hook"), Some("pre-install"));
        assert_eq!(head.annotation("helm.sh/hook-weight"), Some("-5"));
        assert_eq!(head.annotation("count"), None);
        assert_eq!(head, ManifestHead::of(&from_str(text).unwrap()));
    }

    #[test]
    fn head_scan_agrees_with_decoding() {
        let texts = [
            "",
            "# only a comment\n",
            "~\n",
            "- a\n- b\n",
            "kind: A\nkind: B\n",
            "metadata: {name: a}\nmetadata:\n  namespace: b\n",
            "metadata:\n  annotations: {a: x, a: y, b: z}\n",
            "metadata: ~\nkind: K\n",
            "x: &m {name: n}\nmetadata: *m\n",
            "metadata:\n  <<: {name: merged}\n",
            "kind: !!str K\n",
            "kind: 12\napiVersion: true\n",
            "metadata:\n  annotations:\n    yes: on\n",
            "spec: {a: &x 1, b: *x}\nkind: K\n",
            "metadata:\n  annotations: {a: 1, b: x, a: y}\n",
        ];
        for text in texts {
            let decoded = from_str(text).unwrap();
            let expected = (!decoded.is_null()).then(|| ManifestHead::of(&decoded));
            assert_eq!(scan_head(text).unwrap(), expected, "{text}");
        }
    }

    #[test]
    fn head_scan_rejects_what_decoding_rejects() {
        for text in [
            "a: [1\n",
            "a: b: c\n",
            "? [a]\n: 1\n",
            "a: *missing\n",
            "spec:\n  x: .inf\n",
            "spec: &a\n  x: *a\n",
            "spec:\n  <<: 1\n",
        ] {
            assert!(from_str(text).is_err(), "{text}");
            assert!(scan_head(text).is_err(), "{text}");
        }
        let err = scan_head("kind: K\nspec: [1\n").unwrap_err();
        assert_eq!((err.line, err.column), (Some(2), Some(7)), "{err}");
    }
}
