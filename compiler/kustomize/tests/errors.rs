//! Error messages users see for broken kustomizations, snapshotted.

use std::path::Path;

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

fn error_of(files: &[(&str, &str)], entry: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), files);
    let err = kiln_kustomize::build(&tmp.path().join(entry), &kiln_kustomize::Options::default())
        .expect_err("the build must fail");
    let root = tmp.path().canonicalize().unwrap();
    err.to_string()
        .replace(&root.display().to_string(), "<tmp>")
        .replace(&tmp.path().display().to_string(), "<tmp>")
}

#[test]
fn missing_resource_file() {
    insta::assert_snapshot!(error_of(
        &[("kustomization.yaml", "resources:\n- nope.yaml\n")],
        "."
    ));
}

#[test]
fn unknown_kustomization_field() {
    insta::assert_snapshot!(error_of(
        &[("kustomization.yaml", "resource:\n- a.yaml\n")],
        "."
    ));
}

#[test]
fn remote_resource_is_refused() {
    insta::assert_snapshot!(error_of(
        &[(
            "kustomization.yaml",
            "resources:\n- https://github.com/org/repo//deploy?ref=v1\n"
        )],
        "."
    ));
}

#[test]
fn cycle_between_kustomizations() {
    insta::assert_snapshot!(error_of(
        &[
            ("a/kustomization.yaml", "resources:\n- ../b\n"),
            ("b/kustomization.yaml", "resources:\n- ../a\n"),
        ],
        "a"
    ));
}

#[test]
fn file_outside_root_is_refused() {
    insta::assert_snapshot!(error_of(
        &[
            ("app/kustomization.yaml", "resources:\n- ../cm.yaml\n"),
            (
                "cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
            ),
        ],
        "app"
    ));
}

#[test]
fn patch_without_target_object() {
    insta::assert_snapshot!(error_of(
        &[
            (
                "kustomization.yaml",
                "resources:\n- cm.yaml\npatches:\n- patch: |-\n    apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: other\n"
            ),
            (
                "cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
            ),
        ],
        "."
    ));
}

#[test]
fn duplicate_ids() {
    insta::assert_snapshot!(error_of(
        &[
            ("kustomization.yaml", "resources:\n- cm.yaml\n- cm2.yaml\n"),
            (
                "cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
            ),
            (
                "cm2.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
            ),
        ],
        "."
    ));
}

#[test]
fn malformed_json_patch() {
    insta::assert_snapshot!(error_of(
        &[
            (
                "kustomization.yaml",
                "resources:\n- cm.yaml\npatches:\n- target:\n    kind: ConfigMap\n  patch: |-\n    - op: frobnicate\n      path: /data\n"
            ),
            (
                "cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
            ),
        ],
        "."
    ));
}

/// The message and the hint, as users read them.
fn report_of(files: &[(&str, &str)], entry: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), files);
    let err = kiln_kustomize::build(&tmp.path().join(entry), &kiln_kustomize::Options::default())
        .expect_err("the build must fail");
    let help = miette::Diagnostic::help(&err)
        .map(|h| format!("\nhelp: {h}"))
        .unwrap_or_default();
    let root = tmp.path().canonicalize().unwrap();
    format!("{err}{help}")
        .replace(&root.display().to_string(), "<tmp>")
        .replace(&tmp.path().display().to_string(), "<tmp>")
}

#[test]
fn blank_namespace_on_role_binding_subject() {
    insta::assert_snapshot!(report_of(
        &[
            ("kustomization.yaml", "resources:\n- rbac.yaml\n"),
            (
                "rbac.yaml",
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: read\nsubjects:\n- kind: ServiceAccount\n  name: reader\n  namespace:\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: read\n"
            ),
        ],
        "."
    ));
}

#[test]
fn iam_policy_generator_for_an_unsupported_cloud() {
    insta::assert_snapshot!(report_of(
        &[(
            "kustomization.yaml",
            "generators:\n- |-\n  apiVersion: builtin\n  kind: IAMPolicyGenerator\n  metadata:\n    name: g\n  cloud: aws\n  kubernetesService:\n    name: a\n  serviceAccount:\n    name: b\n    projectId: c\n"
        )],
        "."
    ));
}

#[test]
fn value_add_transformer_without_targets() {
    insta::assert_snapshot!(report_of(
        &[
            (
                "kustomization.yaml",
                "resources:\n- cm.yaml\ntransformers:\n- |-\n  apiVersion: builtin\n  kind: ValueAddTransformer\n  metadata:\n    name: v\n  value: x\n"
            ),
            (
                "cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
            ),
        ],
        "."
    ));
}

#[test]
fn unknown_generator_plugin() {
    insta::assert_snapshot!(report_of(
        &[(
            "kustomization.yaml",
            "generators:\n- |-\n  apiVersion: builtin\n  kind: HelmChartInflationGenerator\n  metadata:\n    name: h\n"
        )],
        "."
    ));
}

#[test]
fn resource_file_that_is_not_yaml_points_at_the_spot() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        &[
            ("kustomization.yaml", "resources:\n- cm.yaml\n"),
            (
                "cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: [1, 2\n",
            ),
        ],
    );
    let err = kiln_kustomize::build(tmp.path(), &kiln_kustomize::Options::default())
        .expect_err("the build must fail");
    let Some(span) = miette::Diagnostic::labels(&err).and_then(|mut l| l.next()) else {
        panic!("a YAML error carries a source span: {err}");
    };
    assert!(miette::Diagnostic::source_code(&err).is_some());
    let text = std::fs::read_to_string(tmp.path().join("cm.yaml")).unwrap();
    assert!(
        span.offset() >= text.find("a: [").unwrap(),
        "the span points into the broken flow sequence, not at {}",
        span.offset()
    );
    let root = tmp.path().canonicalize().unwrap();
    insta::assert_snapshot!(
        err.to_string()
            .replace(&root.display().to_string(), "<tmp>")
            .replace(&tmp.path().display().to_string(), "<tmp>")
    );
}

#[test]
fn kustomization_that_is_not_yaml_points_at_the_spot() {
    insta::assert_snapshot!(error_of(
        &[(
            "kustomization.yaml",
            "resources:\n- a.yaml\nnamePrefix: \"open\n"
        )],
        "."
    ));
}
