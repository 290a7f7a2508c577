//! `kustomize` and `helm` components built through `kiln build`: the native engines are wired in,
//! objects carry provenance into the engine's input files, and template values reach the chart.

use std::path::Path;

use assert_cmd::Command;

#[test]
fn kustomize_and_helm_components_render_into_the_bundle() {
    let project = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/engines");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("b");
    let o = Command::cargo_bin("kiln")
        .unwrap()
        .env("KILN_CACHE_DIR", tmp.path().join("cache"))
        .arg("build")
        .arg(&project)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = Command::cargo_bin("kiln")
        .unwrap()
        .arg("inspect")
        .arg(&out)
        .args(["--output", "json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let objects: Vec<&serde_json::Value> = json["manifest"]["components"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["objects"].as_array().unwrap())
        .collect();
    let find = |kind: &str, name: &str| {
        *objects
            .iter()
            .find(|o| {
                o["id"]["kind"] == kind && o["id"]["name"].as_str().unwrap().starts_with(name)
            })
            .unwrap_or_else(|| panic!("{kind} {name} in {objects:?}"))
    };
    let web = find("Deployment", "staging-web");
    assert_eq!(web["id"]["namespace"], "web-staging");
    assert_eq!(web["provenance"]["producer"], "kustomize");
    assert_eq!(web["provenance"]["source"], "deploy");
    let config = find("ConfigMap", "staging-web-config-");
    assert_eq!(config["provenance"]["component"], "web");

    let api = find("Deployment", "api");
    assert_eq!(api["id"]["namespace"], "apps");
    assert_eq!(api["provenance"]["producer"], "helm");
    assert_eq!(api["provenance"]["file"], "chart/templates/deployment.yaml");
    let text = std::fs::read_to_string(out.join(api["file"].as_str().unwrap())).unwrap();
    assert!(
        text.contains("replicas: 3"),
        "inline values from target vars win: {text}"
    );
    assert!(
        text.contains("value: bonjour"),
        "values files apply: {text}"
    );
    assert!(text.contains("ghcr.io/acme/api:2.0.0"), "{text}");
}
