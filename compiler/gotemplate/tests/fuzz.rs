//! Property tests: parsing and executing arbitrary input never panics (errors are fine).

mod common;

use kiln_gotemplate::{MissingKey, Templates};
use proptest::prelude::*;

/// Fragments of template syntax, so that generated inputs reach deep into the parser and executor.
const TOKENS: &[&str] = &[
    "{{",
    "}}",
    "{{-",
    "-}}",
    " ",
    "\n",
    ".",
    ".a",
    ".b",
    ".a.b",
    "$",
    "$x",
    "$y",
    ":=",
    "=",
    "|",
    "(",
    ")",
    ",",
    "\"s\"",
    "`r`",
    "'c'",
    "1",
    "-2",
    "3.5",
    "1e6",
    "0x1f",
    "true",
    "false",
    "nil",
    "if",
    "else",
    "end",
    "range",
    "with",
    "define",
    "template",
    "block",
    "break",
    "continue",
    "\"t\"",
    "and",
    "or",
    "not",
    "len",
    "index",
    "slice",
    "print",
    "printf",
    "println",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "html",
    "js",
    "urlquery",
    "call",
    "upper",
    "include",
    "tpl",
    "fail",
    "dict",
    "list",
    "set",
    "\"%d %s %v %5.2f %x %q %!\"",
    "/*",
    "*/",
    "text",
    "é",
    "#",
    "\\",
];

fn template_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..60).prop_map(|v| v.concat())
}

fn run_all_modes(text: &str) {
    for mode in [MissingKey::Default, MissingKey::Zero, MissingKey::Error] {
        let mut t = Templates::new(common::funcs());
        t.set_missing_key(mode);
        if t.parse("t", text).is_ok() {
            let data = common::data(r#"{"a":{"b":[1,"x",null,{"c":2.5}]},"b":"s","l":[3,2,1]}"#);
            for name in t
                .names()
                .into_iter()
                .map(str::to_string)
                .collect::<Vec<_>>()
            {
                let _ = t.execute(&name, &data);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn soup_never_panics(text in template_soup()) {
        run_all_modes(&text);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,80}") {
        run_all_modes(&text);
        run_all_modes(&format!("{{{{{text}}}}}"));
    }
}

#[test]
fn deep_nesting_does_not_overflow_the_stack() {
    let depth = 20_000;
    let text = format!("{}x{}", "{{if 1}}".repeat(depth), "{{end}}".repeat(depth));
    assert_eq!(common::ok(&text, "{}"), "x");
    let parens = format!("{{{{ {}1{} }}}}", "(".repeat(5_000), ")".repeat(5_000));
    assert_eq!(common::ok(&parens, "{}"), "1");
    let recursive = r#"{{define "r"}}{{if lt . 3000}}{{template "r" (len (printf "%*d" (len (printf "%d" .)) 0))}}{{end}}{{end}}{{template "r" 0}}"#;
    let _ = common::run(recursive, "{}");
}

#[test]
fn runaway_recursion_is_an_error() {
    let e = common::err(
        r#"{{define "r"}}{{template "r" .}}{{end}}{{template "r" .}}"#,
        "{}",
    );
    assert!(
        e.contains("exceeded maximum template depth (100000)"),
        "{e}"
    );
}
