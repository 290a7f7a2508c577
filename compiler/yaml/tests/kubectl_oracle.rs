//! The Go-style emitter against the real `kubectl kustomize`: a ConfigMap full of strings that
//! need quoting, folding or block style must print byte for byte as kubectl prints it.

use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Command;

fn kubectl() -> Option<PathBuf> {
    let dir = std::env::var_os("KILN_ORACLES")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/kiln-oracles"))
        })?;
    let path = dir.join("kubectl");
    path.is_file().then_some(path)
}

fn tricky_config_map() -> Value {
    let values = [
        "yes",
        "1.2.3",
        "0777",
        "a: b",
        " lead",
        "2001-12-14",
        "12:30",
        "true",
        "line1\nline2\n",
        "x\ty",
        "",
        "1e3",
        "~",
        "-",
        "a #b",
        "it's",
        "0x1F",
        "1_000",
        "*x",
        "this is a rather long string value that keeps going and going past eighty columns for sure yes",
        "null",
        "trail ",
        "é",
        "a\u{1}b",
        "on",
        "1.0",
        ".inf",
        "08",
        "+1",
        "multi\nno-trailing",
        "@x",
        "%x",
        "{x",
        "x:",
        "3.",
        "1e",
        "0b101",
        "0o17",
        "- x",
        "'quoted' and a very long tail that needs folding somewhere after eighty",
        "keep\n\n",
        "N",
        "y",
        "10m",
        "nginx:1.25",
        "--flag=value",
    ];
    let mut data = serde_json::Map::new();
    for (i, v) in values.iter().enumerate() {
        data.insert(format!("k{i:02}"), json!(v));
    }
    data.insert("n".into(), json!("key that is an old bool"));
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": data})
}

#[test]
fn go_style_matches_kubectl_kustomize() {
    let Some(kubectl) = kubectl() else {
        eprintln!(
            "SKIPPED: kubectl oracle not found; run tests/install-oracles.sh or set KILN_ORACLES"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let object = tricky_config_map();
    std::fs::write(
        dir.path().join("cm.json"),
        serde_json::to_string(&object).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        "resources:\n- cm.json\n",
    )
    .unwrap();
    let output = Command::new(kubectl)
        .arg("kustomize")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let expected = String::from_utf8(output.stdout).unwrap();
    let options = kiln_yaml::EmitOptions {
        sort_keys: true,
        ..kiln_yaml::EmitOptions::ORDERED
    };
    let ours = kiln_yaml::to_string_with(&object, options);
    assert_eq!(ours, expected);
    assert_eq!(kiln_yaml::from_str(&ours).unwrap(), object);
}
