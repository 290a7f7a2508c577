//! Error messages users see for broken charts, snapshotted (the text follows Helm's wording).

mod common;

use kiln_helm::RenderOptions;

fn message(chart: &str) -> String {
    let path = common::fixtures().join("errors").join(chart);
    let opts = RenderOptions {
        release: "rel".into(),
        ..RenderOptions::default()
    };
    match kiln_helm::render(&path, &opts) {
        Ok(_) => panic!("{chart} rendered but must fail"),
        Err(e) => {
            let mut s = e.message().to_string();
            if let (Some(file), Some(line), Some(col)) = (&e.file, e.line, e.column) {
                s.push_str(&format!("\n--> {file}:{line}:{col}"));
            }
            if !e.chain.is_empty() {
                s.push_str(&format!("\nchain: {}", e.chain.join(" -> ")));
            }
            s
        }
    }
}

#[test]
fn required_value_missing() {
    insta::assert_snapshot!(message("required"));
}

#[test]
fn values_fail_the_schema() {
    insta::assert_snapshot!(message("schema"));
}

#[test]
fn rendered_text_is_not_yaml() {
    insta::assert_snapshot!(message("badyaml"));
}

#[test]
fn unknown_function_is_a_parse_error() {
    insta::assert_snapshot!(message("parse"));
}

#[test]
fn error_inside_nested_includes_shows_the_chain() {
    insta::assert_snapshot!(message("include-chain"));
}

#[test]
fn missing_dependency_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("Chart.yaml"),
        "apiVersion: v2\nname: lonely\nversion: 0.1.0\ndependencies:\n  - name: gone\n    version: 1.0.0\n",
    )
    .expect("write");
    let e = kiln_helm::render(dir.path(), &RenderOptions::default()).unwrap_err();
    assert_eq!(
        e.message(),
        "found in Chart.yaml, but missing in charts/ directory: gone"
    );
}

#[test]
fn bad_set_expression_is_reported() {
    let opts = RenderOptions {
        set: vec!["a,b=1".into()],
        ..RenderOptions::default()
    };
    let e = kiln_helm::render(&common::fixtures().join("legacy"), &opts).unwrap_err();
    assert_eq!(
        e.message(),
        "failed parsing --set data: key \"a\" has no value (cannot end with ,)"
    );
}
