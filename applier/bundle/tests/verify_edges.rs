//! Verification edge cases: files that hash right but are not canonical, tampered tars, and
//! bundles whose manifest was re-signed by hand.

mod common;

use kiln_bundle::{Bundle, Manifest, Problem, canonical, verify, write_dir, write_tar};
use std::fs;

/// Rewrites one object file and fixes its digest in the manifest, as a forger would.
fn forge(dir: &std::path::Path, file: &str, text: &str) {
    fs::write(dir.join(file), text).unwrap();
    let mut manifest: Manifest =
        serde_json::from_slice(&fs::read(dir.join("bundle.json")).unwrap()).unwrap();
    for c in &mut manifest.components {
        for o in &mut c.objects {
            if o.file == file {
                o.digest = kiln_bundle::Digest::of(text.as_bytes());
            }
        }
    }
    fs::write(
        dir.join("bundle.json"),
        canonical::json_bytes(&manifest).unwrap(),
    )
    .unwrap();
}

#[test]
fn valid_but_non_canonical_yaml_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("b");
    write_dir(&common::spec(), &out).unwrap();
    let file = "components/base/_cluster/namespace-shop.yaml";
    forge(
        &out,
        file,
        "kind: Namespace\napiVersion: v1\nmetadata: {name: shop}\n",
    );
    let report = verify(&out).unwrap();
    assert_eq!(
        report.problems,
        [Problem::NotCanonical { file: file.into() }]
    );
}

#[test]
fn an_object_that_is_not_the_listed_one_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("b");
    write_dir(&common::spec(), &out).unwrap();
    let file = "components/base/_cluster/namespace-shop.yaml";
    forge(
        &out,
        file,
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: other\n",
    );
    let report = verify(&out).unwrap();
    assert!(
        matches!(&report.problems[..], [Problem::IdMismatch { actual, .. }] if actual == "v1 Namespace other")
    );
    forge(&out, file, "a: [unclosed\n");
    let report = verify(&out).unwrap();
    assert!(
        matches!(&report.problems[..], [Problem::Unparseable { .. }]),
        "{report:?}"
    );
}

#[test]
fn tampered_tar_entry_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let tar = tmp.path().join("b.tar");
    write_tar(&common::spec(), &tar).unwrap();
    let mut bytes = fs::read(&tar).unwrap();
    let needle = b"replicas: 2";
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap();
    bytes[at + needle.len() - 1] = b'9';
    fs::write(&tar, &bytes).unwrap();
    let report = verify(&tar).unwrap();
    assert!(
        matches!(&report.problems[..], [Problem::Tampered { file, .. }] if file == "components/app/shop/deployment-web.yaml")
    );
    assert!(report.to_text().contains("tampered"));
    assert!(Bundle::open(&tar).is_err());
}

#[test]
fn report_text_and_json_are_stable() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("b");
    write_dir(&common::spec(), &out).unwrap();
    fs::remove_file(out.join("components/app/shop/service-web.yaml")).unwrap();
    let report = verify(&out).unwrap();
    let scrub = |s: String| s.replace(&out.display().to_string(), "$BUNDLE");
    insta::assert_snapshot!(scrub(report.to_text()));
    insta::assert_snapshot!(scrub(report.to_json()));
}
