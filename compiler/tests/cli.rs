//! The `kiln` binary driven as users drive it: build, inspect, graph, diff and verify on the
//! bundled example, reproducibility across directories/environments/thread counts, and tampering.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/shop")
}

fn kiln(cache: &Path) -> Command {
    let mut cmd = Command::cargo_bin("kiln").unwrap();
    cmd.env("KILN_CACHE_DIR", cache)
        .env_remove("KILN_LOG")
        .env_remove("KILN_JOBS");
    cmd
}

/// Every file of a tree, by relative path.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn copy_tree(from: &Path, to: &Path) {
    for (rel, bytes) in tree(from) {
        let p = to.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
}

fn build(cache: &Path, target: &str, out: &Path) {
    kiln(cache)
        .arg("build")
        .arg(example())
        .args(["--target", target, "--out"])
        .arg(out)
        .assert()
        .success();
}

#[test]
fn example_bundle_is_stable() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("staging");
    build(tmp.path(), "staging", &out);
    let mut listing = String::new();
    for (path, bytes) in tree(&out) {
        listing.push_str(&format!(
            "=== {path}\n{}\n",
            String::from_utf8(bytes).unwrap()
        ));
    }
    insta::assert_snapshot!("example_staging_bundle", listing);
}

#[test]
fn builds_are_byte_identical_across_directories_environments_and_threads() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let project_b = b.path().join("elsewhere/shop");
    copy_tree(&example(), &project_b);
    for format in ["dir", "tar"] {
        let out_a = a.path().join(format!("out-{format}"));
        let out_b = b.path().join(format!("nested/out-{format}"));
        kiln(&a.path().join("cache"))
            .current_dir(example())
            .args([
                "build",
                ".",
                "--all-targets",
                "--jobs",
                "1",
                "--format",
                format,
                "--out",
            ])
            .arg(&out_a)
            .env("TZ", "UTC")
            .env("LANG", "C")
            .assert()
            .success();
        kiln(&b.path().join("cache"))
            .current_dir(b.path())
            .args([
                "build",
                "elsewhere/shop",
                "--all-targets",
                "--jobs",
                "8",
                "--format",
                format,
                "--out",
            ])
            .arg(&out_b)
            .env("TZ", "Pacific/Kiritimati")
            .env("LANG", "de_DE.UTF-8")
            .env("HOME", b.path())
            .env("KILN_TEST_NOISE", "x".repeat(100))
            .assert()
            .success();
        let (ta, tb) = (tree(&out_a), tree(&out_b));
        assert!(ta.len() >= 2, "{format}: {:?}", ta.keys());
        assert_eq!(
            ta.keys().collect::<Vec<_>>(),
            tb.keys().collect::<Vec<_>>(),
            "{format}"
        );
        for (path, bytes) in &ta {
            assert!(bytes == &tb[path], "{format}: {path} differs");
        }
    }
    // A warm cache gives the same bytes as a cold build.
    let warm = a.path().join("warm");
    kiln(&a.path().join("cache"))
        .arg("build")
        .arg(example())
        .args(["--all-targets", "--out"])
        .arg(&warm)
        .assert()
        .success();
    assert_eq!(tree(&warm), tree(&a.path().join("out-dir")));
}

#[test]
fn dir_and_tar_have_the_same_digest() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    let tar = tmp.path().join("b.tar");
    let digest = |out: &Path, format: &str| {
        let o = kiln(tmp.path())
            .arg("build")
            .arg(example())
            .args(["--target", "production", "--format", format, "--out"])
            .arg(out)
            .output()
            .unwrap();
        assert!(o.status.success());
        let s = String::from_utf8(o.stdout).unwrap();
        s[s.find("(blake3:").unwrap()..].trim().to_string()
    };
    assert_eq!(digest(&dir, "dir"), digest(&tar, "tar"));
    kiln(tmp.path())
        .args(["verify"])
        .arg(&tar)
        .assert()
        .success();
}

#[test]
fn inspect_lists_objects_with_provenance_and_waves() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("b");
    build(tmp.path(), "production", &out);
    let o = kiln(tmp.path()).arg("inspect").arg(&out).output().unwrap();
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("wave 0: crds, tenant"), "{text}");
    assert!(
        text.contains("from deploy:crds/paymentproviders.yaml:1 (manifests)"),
        "{text}"
    );
    assert!(text.contains("target   production"), "{text}");
    let o = kiln(tmp.path())
        .arg("inspect")
        .arg(&out)
        .args(["--output", "json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(json["digest"].as_str().unwrap().starts_with("blake3:"));
    let components = json["manifest"]["components"].as_array().unwrap();
    assert_eq!(components.len(), 6);
    let cm = components
        .iter()
        .flat_map(|c| c["objects"].as_array().unwrap())
        .find(|o| o["id"]["kind"] == "ConfigMap")
        .unwrap();
    assert_eq!(
        cm["provenance"]["file"],
        "config/production/storefront-config.yaml"
    );
    assert_eq!(cm["provenance"]["source"], "deploy");
}

#[test]
fn graph_prints_waves_and_dot() {
    let tmp = tempfile::tempdir().unwrap();
    let o = kiln(tmp.path())
        .arg("graph")
        .arg(example())
        .output()
        .unwrap();
    let text = String::from_utf8(o.stdout).unwrap();
    assert_eq!(
        text,
        "wave 0\n  crds (manifests)\n  tenant (use)\nwave 1\n  catalog (use) <- tenant\n  payments (manifests) <- crds, tenant\n  storefront (manifests) <- tenant\nwave 2\n  nightly-report (use) <- catalog\n"
    );
    let o = kiln(tmp.path())
        .arg("graph")
        .arg(example())
        .args(["--format", "dot"])
        .output()
        .unwrap();
    let dot = String::from_utf8(o.stdout).unwrap();
    assert!(dot.starts_with("digraph \"shop\" {"), "{dot}");
    assert!(dot.contains("\"payments\" -> \"crds\";"), "{dot}");
}

#[test]
fn diff_exits_1_on_changes_and_0_when_equal() {
    let tmp = tempfile::tempdir().unwrap();
    let (staging, production) = (tmp.path().join("s"), tmp.path().join("p"));
    build(tmp.path(), "staging", &staging);
    build(tmp.path(), "production", &production);
    kiln(tmp.path())
        .arg("diff")
        .arg(&staging)
        .arg(&staging)
        .assert()
        .code(0);
    let o = kiln(tmp.path())
        .arg("diff")
        .arg(&staging)
        .arg(&production)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("storefront-config"), "{text}");
    let o = kiln(tmp.path())
        .arg("diff")
        .arg(&staging)
        .arg(&production)
        .args(["--format", "markdown"])
        .output()
        .unwrap();
    let md = String::from_utf8(o.stdout).unwrap();
    assert!(md.contains('|'), "markdown has a summary table: {md}");
    let o = kiln(tmp.path())
        .arg("diff")
        .arg(&staging)
        .arg(&production)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(json["summary"]["changed"].as_u64().unwrap() >= 1, "{json}");
    kiln(tmp.path())
        .arg("diff")
        .arg(&staging)
        .arg(tmp.path().join("missing"))
        .assert()
        .code(2);
}

#[test]
fn verify_reports_tampering_with_exit_1() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("b");
    build(tmp.path(), "staging", &out);
    kiln(tmp.path()).arg("verify").arg(&out).assert().code(0);
    let victim = out.join("components/storefront/shop/configmap-storefront-config.yaml");
    let text = std::fs::read_to_string(&victim).unwrap();
    std::fs::write(&victim, text.replace("debug", "trace")).unwrap();
    let o = kiln(tmp.path()).arg("verify").arg(&out).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let report = String::from_utf8(o.stdout).unwrap();
    assert!(
        report.contains("components/storefront/shop/configmap-storefront-config.yaml"),
        "{report}"
    );
    // A tampered bundle is refused by the commands that read objects.
    kiln(tmp.path()).arg("inspect").arg(&out).assert().code(2);
    kiln(tmp.path())
        .arg("diff")
        .arg(&out)
        .arg(&out)
        .assert()
        .code(2);
}

#[test]
fn a_failed_build_leaves_the_previous_bundle_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("shop");
    copy_tree(&example(), &project);
    let out = tmp.path().join("out");
    kiln(tmp.path())
        .arg("build")
        .arg(&project)
        .args(["--target", "staging", "--out"])
        .arg(&out)
        .assert()
        .success();
    let before = tree(&out);
    std::fs::write(project.join("deploy/app/broken.yaml"), "kind: [unclosed\n").unwrap();
    kiln(tmp.path())
        .arg("build")
        .arg(&project)
        .args(["--target", "staging", "--out"])
        .arg(&out)
        .assert()
        .code(2);
    assert_eq!(tree(&out), before);
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        4,
        "only the project, the cache (renders and output stamps) and the bundle: {leftovers:?}"
    );
}

#[test]
fn quiet_prints_nothing_and_choosing_a_target_is_required() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("b");
    let o = kiln(tmp.path())
        .arg("build")
        .arg(example())
        .args(["--quiet", "--target", "staging", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(o.stdout.is_empty() && o.stderr.is_empty());
    let o = kiln(tmp.path())
        .arg("build")
        .arg(example())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("choose one with `--target`"));
    kiln(tmp.path())
        .arg("build")
        .arg("--no-such-flag")
        .assert()
        .code(2);
}
