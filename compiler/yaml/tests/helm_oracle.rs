//! The canonical emitter against Go's YAML 1.1 decoder: values written canonically are read by
//! the real `helm` (`sigs.k8s.io/yaml`) and must come back as the very same strings.

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Command;

fn helm() -> Option<PathBuf> {
    let dir = std::env::var_os("KILN_ORACLES")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/kiln-oracles"))
        })?;
    let path = dir.join("helm");
    path.is_file().then_some(path)
}

const FIXED: &[&str] = &[
    "yes",
    "No",
    "ON",
    "off",
    "y",
    "N",
    "~",
    "null",
    "Null",
    "true",
    "False",
    "0777",
    "0o17",
    "0x1F",
    "0b101",
    "1e3",
    "1E-3",
    "1_000",
    "12:30:45",
    "-1",
    "+1",
    ".5",
    "1.",
    ".inf",
    "-.Inf",
    ".NaN",
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    " lead",
    "trail ",
    "a: b",
    "a:b",
    "a #b",
    "a#b",
    "#c",
    "key:",
    "- x",
    "-",
    "---",
    "...",
    "? x",
    "?x",
    ":x",
    "*a",
    "&a",
    "!a",
    "%a",
    "@a",
    "`a",
    "|",
    ">",
    "'q'",
    "\"q\"",
    "[a]",
    "{a}",
    "a, b",
    "<<",
    "=",
    "é",
    "日本語",
    "tab\there",
    "\t",
    "\n",
    "a\n",
    "a\n\n",
    "a\nb",
    " a\nb",
    "a\n b\n",
    "a\n\tb",
    "a\r\nb",
    "\u{1b}[0m",
    "a\\b",
    "😀",
    "10m",
    "1Gi",
    "nginx:1.25",
    "-Xmx512m",
    "1.2.3",
    "",
];

#[test]
fn go_decoder_reads_canonical_strings_back() {
    let Some(helm) = helm() else {
        eprintln!(
            "SKIPPED: helm oracle not found; run tests/install-oracles.sh or set KILN_ORACLES"
        );
        return;
    };
    let mut strings: Vec<String> = FIXED.iter().map(|s| s.to_string()).collect();
    let mut runner = TestRunner::deterministic();
    let random = "(\\PC|[\\n\\t :#'\"-]){0,14}";
    for _ in 0..400 {
        strings.push(random.new_tree(&mut runner).unwrap().current());
    }
    let mut mapping = serde_json::Map::new();
    for (i, s) in strings.iter().enumerate() {
        mapping.insert(s.clone(), json!(i));
    }
    let values =
        json!({"list": strings, "keys": mapping, "nested": {"deep": [{"x": strings[..40]}]}});
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("c");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(chart.join("values.yaml"), "{}\n").unwrap();
    std::fs::write(
        chart.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: out\ndata:\n  values.json: {{ .Values | toJson | quote }}\n",
    )
    .unwrap();
    let values_file = dir.path().join("values.yaml");
    std::fs::write(&values_file, kiln_yaml::to_canonical_string(&values)).unwrap();
    let output = Command::new(helm)
        .args(["template", "r"])
        .arg(&chart)
        .arg("-f")
        .arg(&values_file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let docs = kiln_yaml::parse_documents(&String::from_utf8(output.stdout).unwrap()).unwrap();
    let json_text = docs[0].value["data"]["values.json"].as_str().unwrap();
    let back: Value = serde_json::from_str(json_text).unwrap();
    assert_eq!(back["list"], values["list"]);
    assert_eq!(back["nested"], values["nested"]);
    let keys: Vec<&String> = back["keys"].as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), mapping.len());
    for key in keys {
        assert!(mapping.contains_key(key), "key {key:?} came back changed");
    }
}
