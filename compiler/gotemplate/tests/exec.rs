//! Execution of every construct, checked against Go's documented output.

mod common;
use common::{err, ok, run_mode};
use kiln_gotemplate::MissingKey;

#[test]
fn text_and_fields() {
    assert_eq!(ok("hello", "{}"), "hello");
    assert_eq!(ok("{{.a}}-{{.b.c}}", r#"{"a":1,"b":{"c":"x"}}"#), "1-x");
    assert_eq!(ok("{{.}}", r#""str""#), "str");
    assert_eq!(ok("{{ .missing }}", "{}"), "<no value>");
    assert_eq!(ok("{{ .n }}", r#"{"n":null}"#), "<no value>");
    assert_eq!(ok("{{ .missing.deeper }}", "{}"), "<no value>");
}

#[test]
fn trimming_and_comments() {
    assert_eq!(ok("a  {{- 1 -}}  b", "{}"), "a1b");
    assert_eq!(ok("a\n  {{- /* note */ -}}\n  b", "{}"), "ab");
    assert_eq!(ok("{{/* c */}}x", "{}"), "x");
    assert_eq!(ok("{{ 3 }} {{- 4 }}", "{}"), "34");
    assert_eq!(ok("{{- 5 -}}", "{}"), "5");
}

#[test]
fn constants() {
    assert_eq!(
        ok(
            "{{1}} {{1.5}} {{1e6}} {{0x10}} {{'a'}} {{true}} {{\"s\"}} {{`r`}}",
            "{}"
        ),
        "1 1.5 1e+06 16 97 true s r"
    );
    assert_eq!(
        ok("{{-3}} {{+2}} {{1_000}} {{0o17}} {{0b11}}", "{}"),
        "-3 2 1000 15 3"
    );
}

#[test]
fn variables_and_scope() {
    assert_eq!(ok("{{$x := 1}}{{$x}}{{$x = 2}}{{$x}}", "{}"), "12");
    assert_eq!(
        ok(
            "{{$x := 1}}{{if true}}{{$x = 2}}{{$y := 3}}{{end}}{{$x}}",
            "{}"
        ),
        "2"
    );
    assert_eq!(ok("{{$}}", "5"), "5");
    assert_eq!(ok("{{with .a}}{{$.b}}{{end}}", r#"{"a":1,"b":2}"#), "2");
    assert_eq!(ok("{{$m := .}}{{$m.a.b}}", r#"{"a":{"b":"deep"}}"#), "deep");
    assert!(
        run_mode(
            "{{if true}}{{$y := 3}}{{end}}{{$y}}",
            "{}",
            MissingKey::Default
        )
        .unwrap_err()
        .contains("undefined variable \"$y\"")
    );
}

#[test]
fn conditionals() {
    let t = "{{if .a}}A{{else if .b}}B{{else}}C{{end}}";
    assert_eq!(ok(t, r#"{"a":1}"#), "A");
    assert_eq!(ok(t, r#"{"b":"x"}"#), "B");
    assert_eq!(ok(t, r#"{"a":0,"b":""}"#), "C");
    assert_eq!(ok("{{if .l}}y{{else}}n{{end}}", r#"{"l":[]}"#), "n");
    assert_eq!(ok("{{if .m}}y{{else}}n{{end}}", r#"{"m":{}}"#), "n");
    assert_eq!(ok("{{if .f}}y{{else}}n{{end}}", r#"{"f":0.0}"#), "n");
    assert_eq!(
        ok(
            "{{with .a}}{{.}}{{else with .b}}b{{.}}{{else}}none{{end}}",
            r#"{"b":2}"#
        ),
        "b2"
    );
    assert_eq!(
        ok("{{with $x := .a}}{{$x}}{{.}}{{end}}", r#"{"a":"v"}"#),
        "vv"
    );
}

#[test]
fn ranges() {
    assert_eq!(ok("{{range .}}[{{.}}]{{end}}", "[1,2,3]"), "[1][2][3]");
    assert_eq!(
        ok("{{range $i, $e := .}}{{$i}}={{$e}} {{end}}", r#"["a","b"]"#),
        "0=a 1=b "
    );
    assert_eq!(
        ok(
            "{{range $k, $v := .}}{{$k}}:{{$v}} {{end}}",
            r#"{"b":2,"a":1,"c":3}"#
        ),
        "a:1 b:2 c:3 "
    );
    assert_eq!(ok("{{range .}}{{.}}{{else}}empty{{end}}", "[]"), "empty");
    assert_eq!(ok("{{range .x}}{{.}}{{else}}empty{{end}}", "{}"), "empty");
    assert_eq!(ok("{{range 3}}{{.}}{{end}}", "{}"), "012");
    assert_eq!(ok("{{range $i := 2}}{{$i}}{{end}}", "{}"), "01");
    assert_eq!(
        ok(
            "{{range .}}{{if eq . 3}}{{break}}{{end}}{{.}}{{end}}",
            "[1,2,3,4]"
        ),
        "12"
    );
    assert_eq!(
        ok(
            "{{range .}}{{if eq . 2}}{{continue}}{{end}}{{.}}{{end}}",
            "[1,2,3]"
        ),
        "13"
    );
    assert_eq!(ok("{{$v := 0}}{{range $v = .}}{{end}}{{$v}}", "[7,8]"), "8");
    assert!(err("{{range .}}{{end}}", r#""s""#).contains("range can't iterate over s"));
}

#[test]
fn templates_and_blocks() {
    assert_eq!(
        ok(
            r#"{{define "x"}}X{{.}}{{end}}{{template "x" 1}}{{template "x"}}"#,
            "{}"
        ),
        "X1X<no value>"
    );
    assert_eq!(
        ok(r#"{{block "b" .}}default {{.}}{{end}}"#, "7"),
        "default 7"
    );
    assert!(err(r#"{{template "nope"}}"#, "{}").contains("template \"nope\" not defined"));
    assert_eq!(
        ok(
            r#"{{define "v"}}{{$}}{{end}}{{$x := 1}}{{template "v" 2}}"#,
            "{}"
        ),
        "2"
    );
}

#[test]
fn and_or_not() {
    assert_eq!(
        ok(
            "{{and 1 0 2}} {{and 1 2}} {{or 0 \"\" 3}} {{or 0 \"\"}} {{not 0}}",
            "{}"
        ),
        "0 2 3  true"
    );
    // Short-circuit: the failing call is never evaluated.
    assert_eq!(
        ok("{{or 1 (fail \"boom\")}} {{and 0 (fail \"boom\")}}", "{}"),
        "1 0"
    );
    assert_eq!(ok("{{ 0 | and 1 }} {{ 5 | or 0 }}", "{}"), "0 5");
}

#[test]
fn comparisons() {
    assert_eq!(
        ok(
            "{{eq 1 1}} {{eq 1 2 1}} {{eq \"a\" \"b\"}} {{ne 1 2}} {{lt 1 2}} {{le 2 2}} {{gt 1.5 0.5}} {{ge \"a\" \"b\"}}",
            "{}"
        ),
        "true true false true true true true false"
    );
    assert_eq!(
        ok(
            "{{eq .missing \"x\"}} {{eq .n nil}} {{ne .missing 1}}",
            r#"{"n":null}"#
        ),
        "false true true"
    );
    assert!(
        err("{{eq 1 \"a\"}}", "{}").contains("error calling eq: incompatible types for comparison")
    );
    assert!(err("{{lt true false}}", "{}").contains("invalid type for comparison"));
    assert!(err("{{lt .missing 1}}", "{}").contains("invalid type for comparison"));
    assert!(err("{{eq 1}}", "{}").contains("missing argument for comparison"));
    assert!(
        err("{{eq .a .a}}", r#"{"a":[1]}"#)
            .contains("non-comparable type [%!s(int=1)]: []interface {}")
    );
    assert!(err("{{eq 1 1.0}}", "{}").contains("incompatible types for comparison"));
}

#[test]
fn len_index_slice() {
    assert_eq!(
        ok(
            "{{len .s}} {{len .l}} {{len .m}}",
            r#"{"s":"héllo","l":[1,2],"m":{"a":1}}"#
        ),
        "6 2 1"
    );
    assert_eq!(
        ok(
            "{{index .l 1}} {{index .m \"a\"}} {{index .n 0 \"k\"}} {{index .m \"zz\"}}",
            r#"{"l":[1,2],"m":{"a":"x"},"n":[{"k":"v"}]}"#
        ),
        "2 x v <no value>"
    );
    assert_eq!(ok("{{index \"abc\" 1}}", "{}"), "98");
    assert!(
        err("{{index .l 5}}", r#"{"l":[1]}"#)
            .contains("error calling index: index out of range: 5")
    );
    assert!(err("{{index .m 1}}", r#"{"m":{}}"#).contains("value has type int; should be string"));
    assert!(err("{{index .x 1}}", "{}").contains("index of untyped nil"));
    assert!(err("{{index 5 1}}", "{}").contains("can't index item of type int"));
    assert_eq!(
        ok(
            "{{slice .l 1}} {{slice .l 1 2}} {{slice \"hello\" 1 3}} {{slice .l}}",
            r#"{"l":[1,2,3]}"#
        ),
        "[2 3] [2] el [1 2 3]"
    );
    assert!(err("{{slice .l 2 1}}", r#"{"l":[1,2,3]}"#).contains("invalid slice index: 2 > 1"));
    assert!(err("{{len 3}}", "{}").contains("len of type int"));
}

#[test]
fn print_functions() {
    assert_eq!(ok("{{print 1 2 \"a\" 3}}", "{}"), "1 2a3");
    assert_eq!(ok("{{println 1 \"a\"}}", "{}"), "1 a\n");
    assert_eq!(
        ok(
            "{{printf \"%d-%s-%v-%q\" 1 \"x\" .l \"q\"}}",
            r#"{"l":[1,"a"]}"#
        ),
        "1-x-[1 a]-\"q\""
    );
    assert_eq!(
        ok("{{printf \"%v\" .m}}", r#"{"m":{"b":1,"a":[true,null]}}"#),
        "map[a:[true <nil>] b:1]"
    );
    assert_eq!(
        ok("{{printf \"%5.2f|%-4d|%x\" 3.14159 7 255}}", "{}"),
        " 3.14|7   |ff"
    );
    assert_eq!(ok("{{printf \"%d\" \"x\"}}", "{}"), "%!d(string=x)");
    assert_eq!(ok("{{ \"a\" | printf \"%s-%s\" \"b\" }}", "{}"), "b-a");
    assert_eq!(ok("{{printf \"%v %v\" nil .missing}}", "{}"), "<nil> <nil>");
}

#[test]
fn escapers() {
    assert_eq!(
        ok("{{html \"<a href='x'>&\\\"\"}}", "{}"),
        "&lt;a href=&#39;x&#39;&gt;&amp;&#34;"
    );
    assert_eq!(
        ok("{{js \"a'b\\\"<=>\\n\"}}", "{}"),
        "a\\'b\\\"\\u003C\\u003D\\u003E\\u000A"
    );
    assert_eq!(
        ok("{{urlquery \"a b&c=d/é\"}}", "{}"),
        "a+b%26c%3Dd%2F%C3%A9"
    );
    assert_eq!(ok("{{html .missing}}", "{}"), "&lt;no value&gt;");
}

#[test]
fn pipelines_and_parens() {
    assert_eq!(ok("{{ \"abc\" | upper }}", "{}"), "ABC");
    assert_eq!(ok("{{ .a | printf \"%s\" | upper }}", r#"{"a":"x"}"#), "X");
    assert_eq!(ok("{{ (index .l 0).k }}", r#"{"l":[{"k":"v"}]}"#), "v");
    assert_eq!(ok("{{ (.).a }}", r#"{"a":1}"#), "1");
    assert_eq!(ok("{{ printf \"%d\" (add 1 2) }}", "{}"), "3");
}

#[test]
fn user_function_arguments() {
    assert_eq!(ok("{{ trunc 2 \"hello\" }}", "{}"), "he");
    assert_eq!(ok("{{ half 3 }}", "{}"), "1.5");
    assert!(err("{{ upper 3 }}", "{}").contains("expected string; found 3"));
    assert!(
        err("{{ upper .n }}", r#"{"n":3}"#)
            .contains("wrong type for value; expected string; got int")
    );
    assert!(err("{{ upper .missing }}", "{}").contains("invalid value; expected string"));
    assert!(err("{{ upper }}", "{}").contains("wrong number of args for upper: want 1 got 0"));
    assert!(
        err("{{ \"a\" | upper \"b\" }}", "{}")
            .contains("wrong number of args for upper: want 1 got 2")
    );
    assert!(err("{{ trunc \"x\" \"y\" }}", "{}").contains("expected integer; found \"x\""));
    assert!(err("{{ fail \"boom\" }}", "{}").ends_with("error calling fail: boom"));
}

#[test]
fn missing_key_modes() {
    assert_eq!(
        run_mode("{{.a}}", "{}", MissingKey::Zero).unwrap(),
        "<no value>"
    );
    let e = run_mode("{{.a.b}}", "{}", MissingKey::Zero).unwrap_err();
    assert_eq!(
        e,
        "template: t:1:4: executing \"t\" at <.a.b>: nil pointer evaluating interface {}.b"
    );
    assert_eq!(
        run_mode("{{.a.b}}", "{}", MissingKey::Default).unwrap(),
        "<no value>"
    );
    let e = run_mode("{{.a}}", "{}", MissingKey::Error).unwrap_err();
    assert_eq!(
        e,
        "template: t:1:2: executing \"t\" at <.a>: map has no entry for key \"a\""
    );
    let e = run_mode("{{.a.b}}", r#"{"a":null}"#, MissingKey::Default).unwrap_err();
    assert!(e.ends_with("nil pointer evaluating interface {}.b"), "{e}");
    let e = run_mode("{{.a.b}}", r#"{"a":"s"}"#, MissingKey::Default).unwrap_err();
    assert!(
        e.ends_with("can't evaluate field b in type interface {}"),
        "{e}"
    );
}

#[test]
fn include_and_tpl() {
    let t = r#"{{define "h"}}[{{.}}]{{end}}{{include "h" 1 | upper}}"#;
    assert_eq!(ok(t, "{}"), "[1]");
    assert_eq!(ok(r#"{{ tpl "{{ .a }}" . }}"#, r#"{"a":"z"}"#), "z");
    assert_eq!(
        ok(
            r#"{{ tpl "{{define \"in\"}}I{{end}}{{include \"in\" .}}" . }}"#,
            "{}"
        ),
        "I"
    );
    let e = err(
        r#"{{define "h"}}{{fail "deep"}}{{end}}{{include "h" 1}}"#,
        "{}",
    );
    assert!(e.contains("error calling include: template: t:1:16: executing \"h\" at <fail \"deep\">: error calling fail: deep"), "{e}");
}

#[test]
fn tpl_texts_run_again_keep_their_scope() {
    // The second and third `tpl` of a text reuse its parse; its `define` must still be visible
    // only while it runs, and each run must see its own data.
    let t = r#"{{ $d := "{{define \"in\"}}<{{.}}>{{end}}{{include \"in\" .}}" }}{{ tpl $d 1 }}{{ tpl $d 2 }}{{ tpl $d 3 }}"#;
    assert_eq!(ok(t, "{}"), "<1><2><3>");
    let e = err(
        r#"{{ $d := "{{define \"in\"}}x{{end}}" }}{{ tpl $d . }}{{ tpl $d . }}{{ include "in" . }}"#,
        "{}",
    );
    assert!(e.contains(r#"no template "in""#), "{e}");
    let e = err(
        r#"{{ tpl "{{ .a.b }}" . }}{{ tpl "{{ .a.b }}" 1 }}"#,
        r#"{"a":{"b":1}}"#,
    );
    assert!(e.contains("can't evaluate field a in type int"), "{e}");
}

#[test]
fn maps_mutate_in_place() {
    assert_eq!(
        ok(r#"{{$d := dict "a" 1}}{{$_ := set $d "b" 2}}{{$d}}"#, "{}"),
        "map[a:1 b:2]"
    );
    assert_eq!(ok(r#"{{$_ := set . "x" 9}}{{.x}}"#, "{}"), "9");
}
