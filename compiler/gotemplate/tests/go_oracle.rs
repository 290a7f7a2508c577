//! Differential test against Go itself: every case is rendered by `helm template` (Go's
//! text/template with Helm's settings: `missingkey=zero`, numbers from YAML are float64,
//! `<no value>` removed) and by this engine configured the same way; outputs must be equal.
//! Only Go builtins are used, so the comparison is about the engine, not Helm's functions.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use kiln_gotemplate::{Error, FuncMap, JsonNumbers, Map, MissingKey, Templates, Value};

const VALUES: &str = r#"
num: 3
big: 1000000
f: 2.5
neg: -7
zero: 0
s: hello
empty: ""
t: true
nul: null
l: [1, "two", 3.5, true, null]
ls: [b, a, c]
m: {b: 2, a: "x", c: [1, 2], d: {e: f}}
nested: {a: {b: {c: deep}}}
"#;

/// Named templates available to every case (a `_helpers.tpl` on Helm's side).
const HELPERS: &str =
    "{{ define \"inner\" }}<{{ . }}>{{ end }}{{ define \"vars\" }}{{ $.Values | len }}{{ end }}";

const CASES: &[&str] = &[
    "{{ .Values.num }} {{ .Values.big }} {{ .Values.f }} {{ .Values.neg }} {{ .Values.zero }}",
    "{{ .Values.s }}|{{ .Values.empty }}|{{ .Values.t }}|{{ .Values.nul }}|{{ .Values.missing }}",
    "{{ .Values.l }} {{ .Values.m }}",
    "{{ printf \"%d %v %s %q\" .Values.num .Values.num .Values.num .Values.num }}",
    "{{ printf \"%5.1f|%-6.2f|%e|%g|%G|%E\" .Values.f .Values.f .Values.big .Values.big .Values.f .Values.f }}",
    "{{ printf \"%x %X %o %b %c %U %#x\" 255 255 8 5 65 65 255 }}",
    "{{ printf \"%t %v %T %T %T %T\" .Values.t .Values.t .Values.t .Values.num .Values.s .Values.l }}",
    "{{ printf \"%s|%10s|%-10s|%.2s|%q|%x\" \"go\" \"go\" \"go\" \"gopher\" \"a\\tb\" \"hi\" }}",
    "{{ printf \"%v|%d|%s\" .Values.l .Values.l .Values.ls }}",
    "{{ printf \"%v %v %d\" .Values.m nil .Values.missing }}",
    "{{ printf \"%d %d\" 1 }} {{ printf \"%d\" 1 2 }} {{ printf \"%!\" }} {{ printf \"%z\" 1 }}",
    "{{ printf \"%[2]d-%[1]d %*d %.*f\" 1 2 5 7 2 3.14159 }}",
    "{{ printf \"%+d % d %05d %-5d| %+.2e\" 5 5 -42 3 12345.678 }}",
    "{{ printf \"%v %v %v %v %v\" 1e21 1e20 0.000001 0.0001 123456789.0 }}",
    "{{ printf \"%.0f %.3g %g %g\" 2.5 3.14159 100000.0 1e-7 }}",
    "{{ print 1 2 \"a\" \"b\" 3 .Values.nul 4 }}",
    "{{ println 1 \"a\" .Values.l }}",
    "{{ len .Values.s }} {{ len .Values.l }} {{ len .Values.m }} {{ len \"héllo\" }}",
    "{{ index .Values.l 1 }} {{ index .Values.m \"a\" }} {{ index .Values.m \"d\" \"e\" }} {{ index .Values.m \"zz\" }}",
    "{{ index \"abc\" 0 }} {{ index .Values.ls 2 }}",
    "{{ and 1 0 }} {{ and 1 2 }} {{ or 0 \"\" }} {{ or 0 \"x\" }} {{ not .Values.empty }}",
    "{{ eq .Values.num 3.0 }} {{ eq .Values.s \"hello\" \"x\" }} {{ ne .Values.missing 1 }} {{ eq .Values.nul nil }}",
    "{{ lt 1 2 }} {{ le 2 2 }} {{ gt \"b\" \"a\" }} {{ ge 1.5 2.5 }} {{ lt .Values.f 3.0 }}",
    "{{ html \"<a href='x'>&\\\"\" }} {{ js \"it's <b>=\\\\\" }} {{ urlquery \"a b&c/é?\" }}",
    "{{ html .Values.missing }} {{ js 1 2 }} {{ urlquery .Values.l }}",
    "{{ range .Values.ls }}[{{ . }}]{{ end }} {{ range $k, $v := .Values.m }}{{ $k }}={{ $v }};{{ end }}",
    "{{ range $i, $e := .Values.l }}{{ $i }}:{{ $e }} {{ else }}none{{ end }}",
    "{{ range .Values.missing }}x{{ else }}empty{{ end }} {{ range 3 }}{{ . }}{{ end }} {{ range $i := 2 }}{{ $i }}{{ end }}",
    "{{ range .Values.l }}{{ if eq (printf \"%v\" .) \"two\" }}{{ continue }}{{ end }}{{ if not . }}{{ break }}{{ end }}{{ . }},{{ end }}",
    "{{ with .Values.m.d }}{{ .e }}{{ end }} {{ with .Values.missing }}x{{ else with .Values.s }}{{ . }}{{ else }}none{{ end }}",
    "{{ if .Values.zero }}a{{ else if .Values.empty }}b{{ else if .Values.l }}c{{ else }}d{{ end }}",
    "{{ $x := 1 }}{{ $x = 2 }}{{ $x }} {{ $y := .Values.s }}{{ if true }}{{ $y = \"in\" }}{{ end }}{{ $y }}",
    "{{ template \"inner\" .Values.s }}{{ template \"inner\" }}{{ template \"vars\" . }}",
    "{{ block \"blk\" .Values.num }}block {{ . }}{{ end }}",
    "{{ .Values.nested.a.b.c }} {{ (.Values.nested.a).b.c }} {{ $n := .Values.nested }}{{ $n.a.b.c }}",
    "{{- /* comment */ -}}   trimmed   {{- 1 -}}   \n  done",
    "{{ 'a' }} {{ 0x1F }} {{ 1e3 }} {{ 0o17 }} {{ 1_000 }} {{ -0 }} {{ .5 }}",
    "{{ \"a\" | printf \"%s-%s\" \"b\" }} {{ .Values.s | len }} {{ 3 | printf \"%d\" }}",
    "{{ printf \"%v\" (index .Values.l 4) }} {{ index .Values.l 4 }} {{ printf \"%s\" .Values.nul }}",
    "{{ printf \"%6.2v|%-8v|%08.3f|%+v\" 3.14159 \"ab\" -3.14159 .Values.m }}",
    "{{ printf \"%#v %#v %#v\" .Values.s .Values.num .Values.ls }}",
    "{{ printf \"%x %X % x\" \"hello\" .Values.s \"ab\" }}",
    "{{ printf \"%c|%q|%U\" 0x1F600 0x1F600 0x1F600 }}",
];

fn oracle_helm() -> Option<PathBuf> {
    let dir = std::env::var_os("KILN_ORACLES")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/kiln-oracles"))
        })?;
    let helm = dir.join("helm");
    helm.exists().then_some(helm)
}

fn engine_output(case: &str, values: &serde_json::Value) -> String {
    let mut t = Templates::new(FuncMap::new());
    t.set_name("gotpl");
    t.set_missing_key(MissingKey::Zero);
    t.parse("helpers", HELPERS).expect("helpers parse");
    t.parse("t", case).unwrap_or_else(|e| panic!("{case}: {e}"));
    let top = Map::new();
    top.insert(
        "Values",
        Value::from_json_with(values, JsonNumbers::Float64),
    );
    let out = t
        .execute("t", &Value::Map(top))
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    out.replace("<no value>", "")
}

#[test]
fn engine_matches_go() {
    let Some(helm) = oracle_helm() else {
        eprintln!(
            "\n!!! SKIPPED: helm oracle not found (set KILN_ORACLES or run tests/install-oracles.sh) !!!\n"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let chart = dir.path().join("c");
    std::fs::create_dir_all(chart.join("templates")).expect("chart dir");
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    )
    .expect("write");
    std::fs::write(chart.join("values.yaml"), VALUES).expect("write");
    std::fs::write(chart.join("templates/_helpers.tpl"), HELPERS).expect("write");
    for (i, case) in CASES.iter().enumerate() {
        let mut text = String::new();
        let _ = write!(
            text,
            "{{{{- define \"case{i}\" }}}}{case}{{{{ end -}}}}\nout: {{{{ include \"case{i}\" . | quote }}}}\n"
        );
        std::fs::write(chart.join(format!("templates/case{i:03}.yaml")), text).expect("write");
    }
    let output = Command::new(&helm)
        .args(["template", "r"])
        .arg(&chart)
        .output()
        .expect("run helm");
    assert!(
        output.status.success(),
        "helm failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    let values = kiln_yaml::from_str(VALUES).expect("values");
    let mut failures = Vec::new();
    for doc in stdout.split("---\n").filter(|d| d.contains("# Source:")) {
        let source = doc.lines().next().unwrap_or_default();
        let i: usize = source
            .trim_start_matches("# Source: c/templates/case")
            .trim_end_matches(".yaml")
            .parse()
            .expect("case number");
        let parsed = kiln_yaml::from_str(doc).expect("helm output is YAML");
        let go = parsed["out"].as_str().unwrap_or_default().to_string();
        let ours = engine_output(CASES[i], &values);
        if go != ours {
            failures.push(format!(
                "case {i}: {}\n   go: {go:?}\n  ours: {ours:?}",
                CASES[i]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Templates that fail; Go's message (as Helm prints it) must equal ours.
const ERROR_CASES: &[&str] = &[
    "{{ .Values.missing.b }}",
    "{{ .Values.nul.b }}",
    "{{ .Values.s.b }}",
    "{{ .Values.l.x }}",
    "x\n\n  {{ .Values.m.d.e.f }}",
    "{{ eq 1 \"a\" }}",
    "{{ lt .Values.l 1 }}",
    "{{ eq .Values.l .Values.l }}",
    "{{ index .Values.l 9 }}",
    "{{ index .Values.m 1 }}",
    "{{ index .Values.missing 1 }}",
    "{{ len 3 }}",
    "{{ and }}",
    "{{ printf }}",
    "{{ printf 3 }}",
    "{{ range .Values.s }}{{ end }}",
    "{{ template \"nope\" }}",
    "{{ nil }}",
    "{{ 3 4 }}",
    "{{ .Values.s 4 }}",
    "{{ $x := 1 }}{{ $x 2 }}",
    "{{ if }}",
    "{{ end }}",
    "{{ else }}",
    "{{ if 1 }}",
    "{{ nosuch 1 }}",
    "{{ $u }}",
    "{{ .a | 3 }}",
    "{{ \"unterminated }}",
    "{{ 1 }",
    "{{ (1 }}",
    "{{ 1) }}",
    "{{ .Values.# }}",
    "{{ break }}",
    "{{ range 3 }}{{ break 1 }}{{ end }}",
    "{{ define \"a\" }}{{ end }}{{ define \"a\" }}x{{ end }}{{ define \"a\" }}y{{ end }}",
    "{{ template \"x\" 1 2 }}",
    "{{ $x = 1 }}",
    "{{ range $a, $b, $c := . }}{{ end }}",
    "{{ with $x := 1 }}{{ end }}{{ $x }}",
    "{{ 1.5.x }}",
    "{{ 99999999999999999999 }}",
    "{{ 0x }}",
    "{{ '\\q' }}",
    "{{ \"\\q\" }}",
    "\n{{ /* c */ }}",
    "{{/* unclosed",
    "line1\n{{ if 1 }}\n{{ .Values.missing.x }}\n{{ end }}",
    "{{ html .Values.x.y }}",
    "{{ not }}",
    "{{ ne 1 }}",
];

fn helm_error(helm: &PathBuf, case: &str) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let chart = dir.path().join("c");
    std::fs::create_dir_all(chart.join("templates")).expect("chart dir");
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    )
    .expect("write");
    std::fs::write(chart.join("values.yaml"), VALUES).expect("write");
    std::fs::write(chart.join("templates/t.yaml"), case).expect("write");
    let output = Command::new(helm)
        .args(["template", "r"])
        .arg(&chart)
        .output()
        .expect("run helm");
    assert!(
        !output.status.success(),
        "{case:?} rendered without error in Go"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    let msg = stderr.trim().trim_start_matches("Error: ");
    let msg = msg.split("\n\nUse --debug").next().unwrap_or(msg);
    if msg.starts_with("template: ") {
        return msg.to_string();
    }
    if let Some(rest) = msg.strip_prefix("parse error at (") {
        let (loc, text) = rest.split_once("): ").unwrap_or((rest, ""));
        return format!("template: {loc}: {text}");
    }
    // Helm v4 reformats simple execution errors over three lines.
    let lines: Vec<&str> = msg.lines().collect();
    if lines.len() >= 3 {
        let exec = lines[1].trim().trim_end_matches(':');
        return format!(
            "template: {}: {}: {}",
            lines[0].trim(),
            exec,
            lines[2..].join("\n").trim()
        );
    }
    msg.to_string()
}

fn engine_error(case: &str, values: &serde_json::Value) -> String {
    let mut t = Templates::new(FuncMap::new());
    t.set_name("gotpl");
    t.set_missing_key(MissingKey::Zero);
    if let Err(e) = t.parse("c/templates/t.yaml", case) {
        // Helm shortens parse errors to their last `: ` segment.
        let Error::Parse(p) = e else {
            return e.to_string();
        };
        let last = p.message.rsplit(": ").next().unwrap_or_default();
        return format!(
            "template: {}:{}: {last}",
            p.location.parse_name, p.location.line
        );
    }
    let top = Map::new();
    top.insert(
        "Values",
        Value::from_json_with(values, JsonNumbers::Float64),
    );
    match t.execute("c/templates/t.yaml", &Value::Map(top)) {
        Ok(out) => format!("no error; output {out:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn errors_match_go() {
    let Some(helm) = oracle_helm() else {
        eprintln!(
            "\n!!! SKIPPED: helm oracle not found (set KILN_ORACLES or run tests/install-oracles.sh) !!!\n"
        );
        return;
    };
    let values = kiln_yaml::from_str(VALUES).expect("values");
    let mut failures = Vec::new();
    for case in ERROR_CASES {
        let go = helm_error(&helm, case);
        let ours = engine_error(case, &values);
        if go != ours {
            failures.push(format!("{case:?}\n   go: {go}\n  ours: {ours}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
