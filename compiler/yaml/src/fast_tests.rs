//! The fast reader against the complete decoder: what it reads must decode the same, what it
//! hands over must include every edge it does not handle, and generated YAML (valid or mangled)
//! must never make it disagree or panic.

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::Resolution;
use crate::decode::{Duplicates, Mode};
use crate::fast;
use crate::helm::ManifestHead;

const MODES: [Mode; 3] = [
    Mode {
        resolution: Resolution::Yaml11,
        duplicates: Duplicates::Unsupported,
        go_keys: false,
    },
    Mode {
        resolution: Resolution::Yaml12,
        duplicates: Duplicates::Unsupported,
        go_keys: false,
    },
    crate::helm::MODE,
];

/// What the complete decoder makes of `text` in `mode`.
fn complete(text: &str, mode: Mode) -> Result<Value, String> {
    if mode.go_keys {
        return crate::helm::complete(text).map_err(|e| e.to_string());
    }
    crate::complete(text, mode.resolution).map_err(|e| e.to_string())
}

/// What Helm reads of a document: `None` for an empty one.
fn head_of(value: &Value) -> Option<ManifestHead> {
    (!value.is_null()).then(|| ManifestHead::of(value))
}

/// Checks every mode; returns whether the fast reader took the text in all of them. The head
/// reader must take exactly the texts the full reader takes, and find the same head in them.
fn agrees(text: &str) -> bool {
    let mut read = true;
    for mode in MODES {
        assert_eq!(
            fast::head(text, mode).map(|v| head_of(&v)),
            fast::single(text, mode).map(|v| head_of(&v)),
            "head reader disagrees on {text:?} ({mode:?})"
        );
        match fast::single(text, mode) {
            Some(v) => assert_eq!(
                Ok(&v),
                complete(text, mode).as_ref(),
                "fast reader disagrees on {text:?} ({mode:?})"
            ),
            None => read = false,
        }
    }
    read
}

fn read(text: &str) -> Value {
    assert!(agrees(text), "not read by the fast reader: {text:?}");
    fast::single(text, MODES[0]).unwrap()
}

#[test]
fn reads_what_values_files_and_manifests_are_made_of() {
    let text = "# comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x   # trailing\n  labels: {app: web, 'tier': \"a\\tb\"}\n\n  annotations:\n    a/b: 'it''s'\ndata:\n  nginx.conf: |\n    server {\n      listen 80;\n\n    }\n  folded: >-\n    one\n    two\n\n    three\n  empty: \"\"\nlist:\n- a\n- - nested\n  - 2\n- k: v\n  other: [1, 2.5, yes, ~]\n-\n  deep: true\nurl: http://x:80/a#b\ndescription: a long\n  text folded\n\n  with a break\nquoted: \"joined \\\n  here\"\n";
    assert_eq!(
        read(text),
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "x",
                "labels": {"app": "web", "tier": "a\tb"},
                "annotations": {"a/b": "it's"},
            },
            "data": {
                "nginx.conf": "server {\n  listen 80;\n\n}\n",
                "folded": "one two\nthree",
                "empty": "",
            },
            "list": ["a", ["nested", 2], {"k": "v", "other": [1, 2.5, true, null]}, {"deep": true}],
            "url": "http://x:80/a#b",
            "description": "a long text folded\nwith a break",
            "quoted": "joined here",
        })
    );
    assert_eq!(
        fast::head(text, crate::helm::MODE),
        Some(json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "x", "annotations": {"a/b": "it's"}},
        }))
    );
}

#[test]
fn reads_block_scalar_edges() {
    assert_eq!(read("a: |\n  x\n  y"), json!({"a": "x\ny"}));
    assert_eq!(
        read("a: |+\n  x\n\n\nb: 1\n"),
        json!({"a": "x\n\n\n", "b": 1})
    );
    assert_eq!(read("a: |-\n\n  x\n\n"), json!({"a": "\nx"}));
    assert_eq!(read("a: |\n  x\n    \n  y\n"), json!({"a": "x\n  \ny\n"}));
    assert_eq!(read("a: |2\n     x\n"), json!({"a": "   x\n"}));
    assert_eq!(read("a: |\nb: 1\n"), json!({"a": "", "b": 1}));
    assert_eq!(read("- >\n  a\n  b\n- c\n"), json!(["a b\n", "c"]));
}

#[test]
fn hands_over_what_it_does_not_read() {
    for text in [
        // Anchors, aliases, tags, merge keys, explicit and complex keys.
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a:\n  <<: {b: 1}\n",
        "? a\n: 1\n",
        "[a]: 1\n",
        // Characters: carriage returns, tabs, byte order marks, NEL.
        "a: 1\r\nb: 2\r\n",
        "a:\tb\n",
        "\u{feff}a: 1\n",
        "a: x\u{85}y\n",
        // Several documents, directives, an end marker.
        "a: 1\n---\nb: 2\n",
        "%YAML 1.1\n---\na: 1\n",
        "a: 1\n...\n",
        // Odd indentation and folded text with more-indented lines.
        "a:\n  b: 1\n c: 2\n",
        "a: >\n  x\n    y\n",
        "a: |+\n  x",
        // Keys that are not strings outside Helm's mode, duplicates.
        "1: a\n",
        "a: 1\na: 2\n",
        // Comments inside flow collections, special floats.
        "a: [1, # one\n  2]\n",
        "a: .inf\n",
        // Errors are the complete decoder's to report.
        "a: b: c\n",
        "a: [1\n",
        "a: 'x\n",
        "- a\nb: 1\n",
        "a: \"\\q\"\n",
    ] {
        assert_eq!(fast::single(text, MODES[0]), None, "{text:?}");
        agrees(text);
    }
}

#[test]
fn helm_mode_keeps_the_last_duplicate_and_prints_keys_as_go() {
    let text = "a: 1\na: 2\non: x\n1.5: y\n{k: 1}: z\n";
    assert_eq!(fast::single(text, crate::helm::MODE), None);
    let text = "a: 1\non: x\n1.5: w\na: 2\n";
    assert_eq!(
        fast::single(text, crate::helm::MODE),
        Some(json!({"a": 2, "true": "x", "1.5": "w"}))
    );
    agrees(text);
}

/// A YAML node to render.
#[derive(Debug, Clone)]
enum Node {
    Scalar(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

/// Scalar texts chosen to hit resolution rules, indicators and quoting edges.
const WORDS: &[&str] = &[
    "a",
    "web",
    "yes",
    "No",
    "on",
    "y",
    "~",
    "null",
    "",
    "0777",
    "0x1F",
    "1_000",
    "1e3",
    "12",
    "-3",
    "1.5",
    ".5",
    ".inf",
    "-",
    "-x",
    ":x",
    "a:b",
    "a: b",
    "a #b",
    "a#b",
    "x:",
    "#",
    "'",
    "\"",
    "''",
    "a'b",
    "a\"b",
    "[",
    "]",
    "{a}",
    ",",
    "&a",
    "*a",
    "!t",
    "|",
    ">",
    "%",
    "@",
    "`",
    "?x",
    "? x",
    "<<",
    "\\",
    "\\n",
    "é",
    "日本",
    "two words",
    " lead",
    "trail ",
    "a  b",
    "true",
    "False",
    "line\nbreak",
    "tab\there",
    "--- x",
    "...",
    "k8s.io/name",
];

/// Keys that make generated mappings look like Kubernetes objects, so the head reader's choices
/// of what to keep meet nesting, duplicates and odd values; with a few other keys.
const HEAD_KEYS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "name",
    "namespace",
    "annotations",
    "helm.sh/hook",
    "spec",
    "'kind'",
    "yes",
    "12",
    "a: b",
];

fn node() -> impl Strategy<Value = Node> {
    node_keyed(WORDS)
}

/// Nodes whose mapping keys are drawn from `keys`.
fn node_keyed(keys: &'static [&'static str]) -> impl Strategy<Value = Node> {
    let leaf = prop::sample::select(WORDS).prop_map(|w| Node::Scalar(w.to_string()));
    leaf.prop_recursive(4, 40, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Node::Seq),
            prop::collection::vec((prop::sample::select(keys), inner), 0..5).prop_map(|entries| {
                Node::Map(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect(),
                )
            }),
        ]
    })
}

/// Renders nodes as YAML, each style decision taken from a stream of choices.
struct Render<'c> {
    choices: &'c [u8],
    next: usize,
    out: String,
}

impl Render<'_> {
    fn choose(&mut self, n: u8) -> u8 {
        let c = self.choices[self.next % self.choices.len()];
        self.next += 1;
        c % n
    }

    fn scalar(&mut self, s: &str, indent: usize) {
        match self.choose(7) {
            0 => {
                self.out.push('\'');
                self.out.push_str(&s.replace('\'', "''"));
                self.out.push('\'');
            }
            1 => {
                self.out.push('"');
                for c in s.chars() {
                    match c {
                        '"' => self.out.push_str("\\\""),
                        '\\' => self.out.push_str("\\\\"),
                        '\n' => self.out.push_str("\\n"),
                        '\t' => self.out.push_str("\\t"),
                        ' ' if self.choose(4) == 0 => {
                            self.out.push('\n');
                            self.out.push_str(&" ".repeat(indent + 1));
                        }
                        c => self.out.push(c),
                    }
                }
                self.out.push('"');
            }
            2 | 3 => {
                let header = ["|", "|-", "|+", ">", ">-", "|2"][self.choose(6) as usize];
                self.out.push_str(header);
                let pad = " ".repeat(indent + 1 + self.choose(3) as usize);
                for line in s.split('\n') {
                    self.out.push('\n');
                    if !line.is_empty() {
                        self.out.push_str(&pad);
                        self.out.push_str(line);
                    }
                }
            }
            4 => {
                // Plain text folded over lines.
                let pad = " ".repeat(indent + 1 + self.choose(2) as usize);
                self.out.push_str(&s.replace(' ', &format!("\n{pad}")));
            }
            _ => self.out.push_str(s),
        }
        if self.choose(6) == 0 {
            self.out.push_str(" # note");
        }
    }

    fn flow(&mut self, node: &Node) {
        match node {
            Node::Scalar(s) => match self.choose(3) {
                0 => self.out.push_str(&format!("'{}'", s.replace('\'', "''"))),
                _ => self.out.push_str(s),
            },
            Node::Seq(items) => {
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    self.flow(item);
                }
                self.out.push(']');
            }
            Node::Map(entries) => {
                self.out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    self.out.push_str(k);
                    self.out.push_str(": ");
                    self.flow(v);
                }
                self.out.push('}');
            }
        }
    }

    fn blank_or_comment(&mut self, indent: usize) {
        match self.choose(8) {
            0 => self.out.push('\n'),
            1 => {
                let at = indent.saturating_sub(self.choose(3) as usize) + self.choose(3) as usize;
                self.out.push_str(&" ".repeat(at));
                self.out.push_str("# comment\n");
            }
            _ => {}
        }
    }

    /// A node after `key:` or `- `, owned by a collection in column `indent`.
    fn value(&mut self, node: &Node, indent: usize, in_seq: bool) {
        match node {
            Node::Scalar(s) => {
                self.out.push(' ');
                self.scalar(s, indent);
                self.out.push('\n');
            }
            _ if self.choose(4) == 0 => {
                self.out.push(' ');
                self.flow(node);
                self.out.push('\n');
            }
            Node::Seq(items) if !items.is_empty() && !in_seq && self.choose(2) == 0 => {
                // A sequence in its key's column.
                self.out.push('\n');
                self.block(node, indent);
            }
            Node::Map(entries) if !entries.is_empty() && in_seq && self.choose(2) == 0 => {
                // A compact mapping on the entry's line.
                self.out.push(' ');
                self.block_inline(node, indent + 2);
            }
            _ => {
                let step = 1 + self.choose(3) as usize;
                self.out.push('\n');
                self.block(node, indent + step);
            }
        }
    }

    fn block(&mut self, node: &Node, indent: usize) {
        self.blank_or_comment(indent);
        self.out.push_str(&" ".repeat(indent));
        self.block_inline(node, indent);
    }

    /// A block node whose first line's indentation is already written.
    fn block_inline(&mut self, node: &Node, indent: usize) {
        match node {
            Node::Scalar(s) => {
                self.scalar(s, indent);
                self.out.push('\n');
            }
            Node::Seq(items) if items.is_empty() => self.out.push_str("[]\n"),
            Node::Map(entries) if entries.is_empty() => self.out.push_str("{}\n"),
            Node::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.blank_or_comment(indent);
                        self.out.push_str(&" ".repeat(indent));
                    }
                    self.out.push('-');
                    self.value(item, indent, true);
                }
            }
            Node::Map(entries) => {
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        self.blank_or_comment(indent);
                        self.out.push_str(&" ".repeat(indent));
                    }
                    match self.choose(4) {
                        0 => self.out.push_str(&format!("\"{k}\"")),
                        _ => self.out.push_str(k),
                    }
                    self.out.push(':');
                    self.value(v, indent, false);
                }
            }
        }
    }
}

fn render(node: &Node, choices: &[u8]) -> String {
    let mut r = Render {
        choices,
        next: 0,
        out: String::new(),
    };
    if r.choose(4) == 0 {
        r.out.push_str("---\n");
    }
    r.block(node, 0);
    r.out
}

/// Characters a mangled text gets: indicators, whitespace, breaks and oddities.
const MANGLES: &[&str] = &[
    " ", "  ", "\t", "\n", "\r\n", "#", ":", ": ", "-", "- ", "'", "\"", "\\", "|", ">", "&a ",
    "*a", "!", "[", "]", "{", "}", ",", "?", "%", "@", "---\n", "...\n", "<<: ", "\u{85}", "é",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn generated_yaml_reads_as_the_complete_decoder_does(
        node in node(),
        choices in prop::collection::vec(any::<u8>(), 1..64),
    ) {
        agrees(&render(&node, &choices));
    }

    #[test]
    fn generated_objects_read_the_same_head_as_the_whole_decode(
        node in node_keyed(HEAD_KEYS),
        choices in prop::collection::vec(any::<u8>(), 1..64),
    ) {
        agrees(&render(&node, &choices));
    }

    #[test]
    fn mangled_objects_read_the_same_head_as_the_whole_decode(
        node in node_keyed(HEAD_KEYS),
        choices in prop::collection::vec(any::<u8>(), 1..64),
        edits in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(MANGLES), any::<bool>()), 1..4),
    ) {
        agrees(&mangle(render(&node, &choices), edits));
    }

    #[test]
    fn mangled_yaml_never_makes_it_disagree_or_panic(
        node in node(),
        choices in prop::collection::vec(any::<u8>(), 1..64),
        edits in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(MANGLES), any::<bool>()), 1..4),
    ) {
        agrees(&mangle(render(&node, &choices), edits));
    }
}

/// Applies edits to a text: each inserts a mangle at a place, or deletes the character there.
fn mangle(mut text: String, edits: Vec<(prop::sample::Index, &str, bool)>) -> String {
    for (at, insert, delete) in edits {
        let mut at = at.index(text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        if delete && at < text.len() {
            let end = (at + 1..=text.len())
                .find(|&e| text.is_char_boundary(e))
                .unwrap();
            text.replace_range(at..end, "");
        } else {
            text.insert_str(at, insert);
        }
    }
    text
}
