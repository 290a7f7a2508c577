//! Writing, reopening and verifying bundles on disk, in both forms.

mod common;

use kiln_bundle::{
    Bundle, BundleError, Previous, Problem, build, verify, write_dir, write_dir_over, write_tar,
};
use std::fs;

#[test]
fn dir_and_tar_have_the_same_digest_and_objects() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = common::spec();
    let d1 = write_dir(&spec, &tmp.path().join("out")).unwrap();
    let d2 = write_tar(&spec, &tmp.path().join("out.tar")).unwrap();
    assert_eq!(d1, d2);
    let a = Bundle::open(tmp.path().join("out")).unwrap();
    let b = Bundle::open(tmp.path().join("out.tar")).unwrap();
    assert_eq!(a.digest(), d1);
    assert_eq!(b.digest(), d1);
    assert_eq!(a.manifest(), b.manifest());
    let objects: Vec<_> = a.objects().map(|o| o.value.clone()).collect();
    assert_eq!(objects.len(), 5);
    assert!(objects.contains(&common::deployment("ghcr.io/acme/web:1.0.0", 2)));
    assert_eq!(a.wave(0).count(), 2);
}

#[test]
fn same_spec_gives_the_same_bytes_anywhere() {
    let t1 = tempfile::tempdir().unwrap();
    let t2 = tempfile::tempdir().unwrap();
    let mut reversed = common::spec();
    reversed.components.reverse();
    for c in &mut reversed.components {
        c.objects.reverse();
    }
    write_tar(&common::spec(), &t1.path().join("b.tar")).unwrap();
    write_tar(&reversed, &t2.path().join("nested/dir/b.tar")).unwrap();
    assert_eq!(
        fs::read(t1.path().join("b.tar")).unwrap(),
        fs::read(t2.path().join("nested/dir/b.tar")).unwrap()
    );
    write_dir(&common::spec(), &t1.path().join("d")).unwrap();
    for (path, bytes) in &build(&common::spec()).unwrap().files {
        assert_eq!(
            &fs::read(t1.path().join("d").join(path)).unwrap(),
            bytes,
            "{path}"
        );
    }
}

#[test]
fn layout_is_made_for_review() {
    let built = build(&common::spec()).unwrap();
    let paths: Vec<_> = built.files.keys().cloned().collect();
    assert_eq!(
        paths,
        [
            "bundle.json",
            "components/app/shop/configmap-web-config.yaml",
            "components/app/shop/deployment-web.yaml",
            "components/app/shop/service-web.yaml",
            "components/base/_cluster/namespace-shop.yaml",
            "components/base/shop/secret-db.yaml",
        ]
    );
    let cm =
        String::from_utf8(built.files["components/app/shop/configmap-web-config.yaml"].clone())
            .unwrap();
    insta::assert_snapshot!(cm);
}

#[test]
fn tampered_missing_and_extra_files_are_all_named() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("b");
    write_dir(&common::spec(), &out).unwrap();
    fs::write(
        out.join("components/app/shop/service-web.yaml"),
        "apiVersion: v1\n",
    )
    .unwrap();
    fs::remove_file(out.join("components/base/shop/secret-db.yaml")).unwrap();
    fs::write(out.join("components/app/extra.yaml"), "x: 1\n").unwrap();
    let report = verify(&out).unwrap();
    assert!(!report.is_ok());
    let kinds: Vec<String> = report.problems.iter().map(Problem::describe).collect();
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    assert!(
        matches!(&report.problems[0], Problem::Missing { file } if file == "components/base/shop/secret-db.yaml")
    );
    assert!(
        matches!(&report.problems[1], Problem::Tampered { file, .. } if file == "components/app/shop/service-web.yaml")
    );
    assert!(
        matches!(&report.problems[2], Problem::Extra { file } if file == "components/app/extra.yaml")
    );
    match Bundle::open(&out) {
        Err(err @ BundleError::Unverified { .. }) => {
            let message = err
                .to_string()
                .replace(&out.display().to_string(), "$BUNDLE");
            insta::assert_snapshot!(message);
        }
        other => panic!("expected an unverified bundle, got {other:?}"),
    }
}

#[test]
fn edited_manifest_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("b");
    let digest = write_dir(&common::spec(), &out).unwrap();
    let manifest = fs::read_to_string(out.join("bundle.json")).unwrap();
    fs::write(
        out.join("bundle.json"),
        manifest.replace("staging", "production"),
    )
    .unwrap();
    let report = kiln_bundle::verify_expecting(&out, Some(digest)).unwrap();
    assert!(matches!(report.problems[0], Problem::DigestMismatch { .. }));
    fs::write(out.join("bundle.json"), "{ not json").unwrap();
    let report = verify(&out).unwrap();
    assert!(matches!(
        report.problems[0],
        Problem::ManifestInvalid { line: 1, .. }
    ));
}

#[test]
fn failed_write_leaves_the_previous_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("b");
    let first = write_dir(&common::spec(), &out).unwrap();
    let mut bad = common::spec();
    bad.components[1].objects.push((
        serde_json::json!({"kind": "X"}),
        common::prov("app", "x.yaml", 3),
    ));
    let err = write_dir(&bad, &out).unwrap_err();
    assert!(err.to_string().contains("x.yaml:3"), "{err}");
    assert_eq!(Bundle::open(&out).unwrap().digest(), first);
    let leftovers: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["b"]);
}

#[test]
fn rewriting_replaces_the_previous_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("b");
    write_dir(&common::spec(), &out).unwrap();
    let mut next = common::spec();
    next.components[0].objects.pop();
    let digest = write_dir(&next, &out).unwrap();
    let bundle = Bundle::open(&out).unwrap();
    assert_eq!(bundle.digest(), digest);
    assert_eq!(bundle.objects().count(), 4);
    let leftovers: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["b"]);
}

#[test]
fn refuses_to_replace_a_directory_that_is_not_a_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("precious.txt"), "keep me").unwrap();
    let err = write_dir(&common::spec(), tmp.path()).unwrap_err();
    assert!(matches!(err, BundleError::OutputNotABundle { .. }));
    assert_eq!(
        fs::read_to_string(tmp.path().join("precious.txt")).unwrap(),
        "keep me"
    );
}

#[test]
fn corrupt_tars_are_errors_not_panics() {
    let tmp = tempfile::tempdir().unwrap();
    let tar = tmp.path().join("b.tar");
    write_tar(&common::spec(), &tar).unwrap();
    let bytes = fs::read(&tar).unwrap();
    for cut in [10, 600, bytes.len() / 2, bytes.len() - 1500] {
        fs::write(&tar, &bytes[..cut]).unwrap();
        assert!(Bundle::open(&tar).is_err(), "cut at {cut}");
    }
    fs::write(&tar, b"\xff\xfe garbage").unwrap();
    assert!(Bundle::open(&tar).is_err());
}

#[test]
fn unchanged_rebuild_rewrites_nothing_but_repairs_damage() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("b");
    write_dir(&common::spec(), &out).unwrap();
    let file = out.join("components/app/shop/service-web.yaml");
    let inode =
        |p: &std::path::Path| std::os::unix::fs::MetadataExt::ino(&fs::metadata(p).unwrap());
    let before = inode(&file);
    write_dir(&common::spec(), &out).unwrap();
    assert_eq!(
        inode(&file),
        before,
        "an identical rebuild must not rewrite files"
    );
    fs::write(&file, "tampered: true\n").unwrap();
    fs::write(out.join("stray.txt"), "x").unwrap();
    write_dir(&common::spec(), &out).unwrap();
    assert!(verify(&out).unwrap().is_ok());
}

/// Every file under `dir` with its bytes, relative and sorted.
fn tree(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                files.push((rel, fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

fn inode(path: &std::path::Path) -> u64 {
    std::os::unix::fs::MetadataExt::ino(&fs::metadata(path).unwrap())
}

#[test]
fn update_over_an_intact_bundle_writes_only_what_changed() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("b");
    write_dir(&common::spec(), &out).unwrap();
    let untouched = out.join("components/app/shop/service-web.yaml");
    let before = inode(&untouched);

    let mut next = common::spec();
    next.components[1].objects[0].0 = common::deployment("ghcr.io/acme/web:1.1.0", 3);
    next.components[0].objects.pop();
    let digest = write_dir_over(&next, &out, Previous::Intact).unwrap();

    let fresh = tmp.path().join("fresh");
    assert_eq!(write_dir(&next, &fresh).unwrap(), digest);
    assert_eq!(
        tree(&out),
        tree(&fresh),
        "same files as a bundle written afresh"
    );
    assert!(verify(&out).unwrap().is_ok());
    assert_eq!(
        inode(&untouched),
        before,
        "an unchanged object is not rewritten"
    );
}

#[test]
fn update_removes_the_directories_of_removed_components() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("b");
    let mut spec = common::spec();
    spec.components[0].objects.push((
        serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "only", "namespace": "elsewhere"}}),
        common::prov("base", "deploy/other.yaml", 1),
    ));
    write_dir(&spec, &out).unwrap();
    assert!(out.join("components/base/elsewhere").is_dir());
    write_dir_over(&common::spec(), &out, Previous::Intact).unwrap();
    assert!(!out.join("components/base/elsewhere").exists());
    assert!(verify(&out).unwrap().is_ok());
}

#[test]
fn an_interrupted_update_is_rewritten_as_a_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("b");
    write_dir(&common::spec(), &out).unwrap();
    // What a crash after the first steps of an update leaves: the marker, no manifest.
    fs::write(out.join(".kiln-updating"), "").unwrap();
    fs::remove_file(out.join("bundle.json")).unwrap();
    fs::write(
        out.join("components/app/shop/service-web.yaml"),
        "half: written\n",
    )
    .unwrap();
    assert!(
        Bundle::open(&out).is_err(),
        "a reader never sees a bundle mid-update"
    );

    let mut next = common::spec();
    next.components[0].objects.pop();
    write_dir_over(&next, &out, Previous::Intact).unwrap();
    assert!(verify(&out).unwrap().is_ok());
    assert!(!out.join(".kiln-updating").exists());
}

#[test]
fn an_update_with_the_same_objects_touches_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("b");
    write_dir(&common::spec(), &out).unwrap();
    let manifest = inode(&out.join("bundle.json"));
    write_dir_over(&common::spec(), &out, Previous::Intact).unwrap();
    assert_eq!(inode(&out.join("bundle.json")), manifest);
}
