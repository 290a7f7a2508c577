//! `kiln diff` output on small realistic bundles, snapshotted in every format.

mod common;

use kiln_bundle::{Bundle, BundleSpec, ComponentSpec, diff, write_dir};
use serde_json::json;
use std::path::Path;

fn changed_spec() -> BundleSpec {
    let mut spec = common::spec();
    let app = &mut spec.components[1];
    app.objects[0].0 = common::deployment("ghcr.io/acme/web:1.1.0", 3);
    app.objects[0].0["spec"]["template"]["spec"]["containers"][0]["args"] =
        json!(["--port", "8080", "--verbose"]);
    app.objects[1].0["data"]["app.properties"] = json!("mode=fast\nlevel=4\ncache=on\n");
    app.objects[1].0["data"]
        .as_object_mut()
        .unwrap()
        .remove("enabled");
    let service = app.objects.remove(2);
    spec.components[0].objects[1].0["stringData"]["password"] = json!("correct horse");
    spec.components.push(ComponentSpec {
        name: "edge".into(),
        depends_on: vec!["app".into()],
        tenancy: Default::default(),
        objects: vec![
            (service.0, common::prov("edge", "deploy/edge.yaml", 1)),
            (
                json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                       "metadata": {"name": "web", "namespace": "shop"},
                       "spec": {"rules": [{"host": "shop.example.com"}]}}),
                common::prov("edge", "deploy/edge.yaml", 20),
            ),
        ],
    });
    spec.waves.push(vec!["edge".into()]);
    spec
}

fn open(dir: &Path, name: &str, spec: &BundleSpec) -> Bundle {
    let path = dir.join(name);
    write_dir(spec, &path).unwrap();
    Bundle::open(&path).unwrap()
}

fn pair() -> (tempfile::TempDir, Bundle, Bundle) {
    let tmp = tempfile::tempdir().unwrap();
    let a = open(tmp.path(), "a", &common::spec());
    let b = open(tmp.path(), "b", &changed_spec());
    (tmp, a, b)
}

fn scrub(text: String, dir: &Path) -> String {
    text.replace(&dir.display().to_string(), "$TMP")
}

#[test]
fn text() {
    let (tmp, a, b) = pair();
    insta::assert_snapshot!(scrub(diff(&a, &b).to_text(), tmp.path()));
}

#[test]
fn markdown() {
    let (tmp, a, b) = pair();
    insta::assert_snapshot!(scrub(diff(&a, &b).to_markdown(), tmp.path()));
}

#[test]
fn json() {
    let (tmp, a, b) = pair();
    insta::assert_snapshot!(scrub(diff(&a, &b).to_json(), tmp.path()));
}

#[test]
fn secrets_never_appear_in_output() {
    let (_tmp, a, b) = pair();
    let d = diff(&a, &b);
    for out in [d.to_text(), d.to_markdown(), d.to_json()] {
        assert!(!out.contains("hunter2") && !out.contains("correct horse"));
    }
}

#[test]
fn equal_bundles_have_an_empty_diff() {
    let (_tmp, a, _) = pair();
    let d = diff(&a, &a);
    assert!(d.is_empty());
    assert_eq!(d.summary.unchanged, 5);
    assert!(d.to_markdown().contains("No changes"));
}

#[test]
fn reversed_diff_mirrors_counts() {
    let (_tmp, a, b) = pair();
    let forward = diff(&a, &b).summary;
    let back = diff(&b, &a).summary;
    assert_eq!((forward.added, forward.removed), (back.removed, back.added));
    assert_eq!(forward.changed, back.changed);
}

#[test]
fn markdown_stays_within_the_comment_limit() {
    let (_tmp, a, b) = pair();
    let d = diff(&a, &b);
    let full = d.to_markdown();
    let small = d.to_markdown_limited(900);
    assert!(small.len() < full.len());
    assert!(
        small.contains("more objects not shown") || small.contains("not shown; run `kiln diff`"),
        "{small}"
    );
}

#[test]
fn api_version_bump_is_a_field_change_not_a_new_object() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bumped = common::spec();
    bumped.components[1].objects[0].0["apiVersion"] = json!("apps/v1beta2");
    let a = open(tmp.path(), "a", &common::spec());
    let b = open(tmp.path(), "b", &bumped);
    let d = diff(&a, &b);
    assert_eq!(
        (d.summary.added, d.summary.removed, d.summary.changed),
        (0, 0, 1)
    );
    let fields = &d.objects[0].fields;
    assert_eq!(fields.len(), 1);
    assert_eq!(fields[0].path, "apiVersion");
    assert_eq!(fields[0].to, Some(json!("apps/v1beta2")));
}

#[test]
fn diff_paths_matches_diff_of_opened_bundles_and_still_verifies() {
    let (tmp, a, b) = pair();
    let direct = kiln_bundle::diff_paths(&tmp.path().join("a"), &tmp.path().join("b")).unwrap();
    assert_eq!(direct, diff(&a, &b));
    std::fs::write(
        tmp.path()
            .join("b/components/base/_cluster/namespace-shop.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: evil\n",
    )
    .unwrap();
    let err = kiln_bundle::diff_paths(&tmp.path().join("a"), &tmp.path().join("b")).unwrap_err();
    assert!(
        err.to_string().contains("namespace-shop.yaml: tampered"),
        "{err}"
    );
}

/// The same objects, but `app` now runs as a tenant: a service account and two namespaces, and
/// `db` loses one of its namespaces.
fn tenancy_pair() -> (tempfile::TempDir, Bundle, Bundle) {
    let tmp = tempfile::tempdir().unwrap();
    let mut before = common::spec();
    before.components[0].tenancy = kiln_bundle::Tenancy {
        namespaces: Some(vec!["data".into(), "shop".into()]),
        service_account: Some("shop/db-deployer".into()),
    };
    let mut after = before.clone();
    after.components[0].tenancy.namespaces = Some(vec!["shop".into()]);
    after.components[1].tenancy = kiln_bundle::Tenancy {
        namespaces: Some(vec!["shop".into()]),
        service_account: Some("shop/app-deployer".into()),
    };
    let a = open(tmp.path(), "a", &before);
    let b = open(tmp.path(), "b", &after);
    (tmp, a, b)
}

#[test]
fn tenancy_changes_are_listed_per_component() {
    let (tmp, a, b) = tenancy_pair();
    let d = diff(&a, &b);
    assert!(d.objects.is_empty(), "no object changed");
    assert!(!d.is_empty(), "a tenancy change is a change");
    insta::assert_snapshot!("tenancy_text", scrub(d.to_text(), tmp.path()));
    insta::assert_snapshot!("tenancy_json", scrub(d.to_json(), tmp.path()));
    let md = d.to_markdown();
    assert!(md.contains("service account"), "{md}");
}
