//! Differential test: every fixture overlay under `fixtures/kustomize/` is built by kiln and by
//! the real `kubectl kustomize`; the objects and their order must be equal.

use std::path::{Path, PathBuf};
use std::process::Command;

fn oracle() -> Option<PathBuf> {
    let dir = std::env::var_os("KILN_ORACLES")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/kiln-oracles")))?;
    let kubectl = dir.join("kubectl");
    kubectl.exists().then_some(kubectl)
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/kustomize")
}

#[test]
fn fixtures_match_kubectl_kustomize() {
    let Some(kubectl) = oracle() else {
        eprintln!(
            "SKIPPED: kubectl not found in $KILN_ORACLES or ~/.cache/kiln-oracles; run tests/install-oracles.sh"
        );
        return;
    };
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .expect("fixtures/kustomize exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("kustomization.yaml").exists())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 5, "expected the fixture overlays");
    let mut checked = 0;
    for dir in dirs {
        let out = Command::new(&kubectl)
            .arg("kustomize")
            .arg(&dir)
            .output()
            .unwrap();
        let kustomization = std::fs::read_to_string(dir.join("kustomization.yaml")).unwrap();
        if kustomization.contains("kind: Component") {
            continue;
        }
        assert!(
            out.status.success(),
            "kubectl failed on {}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let expected: Vec<serde_json::Value> =
            kiln_yaml::parse_documents(&String::from_utf8(out.stdout).unwrap())
                .unwrap()
                .into_iter()
                .map(|d| d.value)
                .collect();
        let got = kiln_kustomize::build(&dir, &kiln_kustomize::Options::default())
            .unwrap_or_else(|e| panic!("kiln failed on {}: {e}", dir.display()));
        // Round-trip through kiln's printer so value types are compared as printed.
        let printed = kiln_kustomize::output::to_yaml_stream(&got).unwrap();
        let got: Vec<serde_json::Value> = kiln_yaml::parse_documents(&printed)
            .unwrap()
            .into_iter()
            .map(|d| d.value)
            .collect();
        assert_eq!(
            got.len(),
            expected.len(),
            "object count differs for {}",
            dir.display()
        );
        for (g, e) in got.iter().zip(&expected) {
            assert_eq!(g, e, "object differs in {}", dir.display());
        }
        checked += 1;
    }
    assert!(checked >= 5);
}
