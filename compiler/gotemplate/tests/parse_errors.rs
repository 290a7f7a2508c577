//! Syntax errors with Go's exact messages and lines (`template: NAME:LINE: MESSAGE`).

mod common;
use common::err;

#[test]
fn syntax_errors_read_like_go() {
    let cases: &[(&str, &str)] = &[
        ("{{ if }}", "template: t:1: missing value for if"),
        ("a\n{{ end }}", "template: t:2: unexpected {{end}}"),
        ("{{ else }}", "template: t:1: unexpected {{else}}"),
        ("{{ if 1 }}", "template: t:1: unexpected EOF"),
        (
            "{{ nosuch 1 }}",
            "template: t:1: function \"nosuch\" not defined",
        ),
        ("{{ $u }}", "template: t:1: undefined variable \"$u\""),
        (
            "{{ .a | 3 }}",
            "template: t:1: non executable command in pipeline stage 2",
        ),
        ("{{ \"x }}", "template: t:1: unterminated quoted string"),
        ("{{ 1 }", "template: t:1: unexpected \"}\" in operand"),
        ("{{ (1 }}", "template: t:1: unclosed left paren"),
        ("{{ 1) }}", "template: t:1: unexpected right paren"),
        ("{{ .a# }}", "template: t:1: bad character U+0023 '#'"),
        ("{{ break }}", "template: t:1: {{break}} outside {{range}}"),
        (
            "{{ range 3 }}{{ continue 1 }}{{ end }}",
            "template: t:1: unexpected \"1\" in {{continue}}",
        ),
        (
            "{{ template \"x\" 1 2 }}",
            "template: t:1:12: executing \"t\" at <{{template \"x\" 1 2}}>: template \"x\" not defined",
        ),
        (
            "{{ range $a, $b, $c := . }}{{ end }}",
            "template: t:1: too many declarations in range",
        ),
        (
            "{{ 1.5.x }}",
            "template: t:1: unexpected . after term \"1.5\"",
        ),
        (
            "{{ 99999999999999999999 }}",
            "template: t:1: integer overflow: \"99999999999999999999\"",
        ),
        ("{{ 0x }}", "template: t:1: illegal number syntax: \"0x\""),
        ("{{/* open", "template: t:1: unclosed comment"),
        (
            "{{ /* c */ }}",
            "template: t:1: unexpected \"/\" in command",
        ),
        ("a\nb\n{{ .x", "template: t:3: unclosed action"),
        (
            "{{ if 1 }}\n{{ else }}\n{{ else }}{{ end }}",
            "template: t:3: expected end; found {{else}}",
        ),
        (
            "{{ define \"a\" }}x{{ end }}{{ define \"a\" }}y{{ end }}",
            "template: t:1: template: multiple definition of template \"a\"",
        ),
        ("{{ \"\\q\" }}", "template: t:1: invalid syntax"),
        (
            "{{ $x := 1 }}{{ $x 2 }}",
            "template: t:1:16: executing \"t\" at <$x>: can't give argument to non-function $x",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(&err(text, "{}"), want, "for {text:?}");
    }
}

#[test]
fn execution_errors_carry_location_and_context() {
    assert_eq!(
        err("line1\n  {{ .a.b.c }}", r#"{"a":{"b":1}}"#),
        "template: t:2:7: executing \"t\" at <.a.b.c>: can't evaluate field c in type interface {}"
    );
    assert_eq!(
        err(
            r#"{{define "d"}}{{ index . 3 }}{{end}}{{ template "d" .l }}"#,
            r#"{"l":[1]}"#
        ),
        "template: t:1:17: executing \"d\" at <index . 3>: error calling index: index out of range: 3"
    );
}
