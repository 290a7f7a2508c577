//! Error messages users see for broken charts, snapshotted (the text follows Helm's wording).

mod common;

use std::path::PathBuf;

use kiln_helm::RenderOptions;
use kiln_helm::cli::{TemplateArgs, template};

/// `kiln helm template rel CHART` with extra values files, as the command line runs it.
fn cli_args(chart: PathBuf, values: Vec<PathBuf>) -> TemplateArgs {
    TemplateArgs {
        name: "rel".into(),
        chart,
        namespace: "default".into(),
        kube_version: None,
        values,
        set: Vec::new(),
        include_crds: false,
    }
}

/// The diagnostic as `kiln helm template` prints it on stderr (without colours), and its exit status.
fn report(args: &TemplateArgs) -> String {
    let e = match template(args) {
        Ok(_) => panic!("{} rendered but must fail", args.chart.display()),
        Err(e) => e,
    };
    let code = e.exit_code();
    let mut out = String::new();
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .with_width(100)
        .render_report(&mut out, &e)
        .expect("render report");
    // Paths outside the fixtures differ between machines.
    let fixtures = common::fixtures().display().to_string();
    format!(
        "exit status {code}\n{}",
        out.replace(&fixtures, "<fixtures>")
    )
}

fn fixture_report(chart: &str) -> String {
    report(&cli_args(
        common::fixtures().join("errors").join(chart),
        Vec::new(),
    ))
}

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

#[test]
fn fail_inside_include_reports_the_calling_template() {
    insta::assert_snapshot!(fixture_report("fail"));
}

#[test]
fn nil_pointer_uses_helms_execution_error_layout() {
    insta::assert_snapshot!(fixture_report("nilpointer"));
}

#[test]
fn wrong_argument_type_uses_helms_execution_error_layout() {
    insta::assert_snapshot!(fixture_report("badargs"));
}

#[test]
fn missing_named_template_names_the_template_set() {
    insta::assert_snapshot!(fixture_report("noinclude"));
}

#[test]
fn function_error_inside_include_keeps_gos_one_line_text() {
    insta::assert_snapshot!(fixture_report("funcerr"));
}

#[test]
fn tpl_parse_error_points_at_the_tpl_call() {
    insta::assert_snapshot!(fixture_report("tplparse"));
}

#[test]
fn unclosed_action_is_a_parse_error() {
    insta::assert_snapshot!(fixture_report("unclosed"));
}

#[test]
fn invalid_chart_values_file_points_at_the_line() {
    insta::assert_snapshot!(fixture_report("badvalues"));
}

#[test]
fn chart_without_version_is_rejected() {
    insta::assert_snapshot!(fixture_report("badchart"));
}

#[test]
fn required_and_schema_failures_are_input_errors() {
    insta::assert_snapshot!(fixture_report("required"));
    insta::assert_snapshot!(fixture_report("schema"));
}

#[test]
fn missing_chart_is_an_input_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope");
    let e = template(&cli_args(missing.clone(), Vec::new())).unwrap_err();
    assert_eq!(e.exit_code(), 2, "{e:?}");
    assert_eq!(
        e.message(),
        format!("path {:?} not found", missing.display().to_string())
    );
}

#[test]
fn unreadable_and_invalid_user_values_are_input_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let legacy = common::fixtures().join("legacy");
    let e = template(&cli_args(
        legacy.clone(),
        vec![dir.path().join("missing.yaml")],
    ))
    .unwrap_err();
    assert_eq!(e.exit_code(), 2, "{e:?}");
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "a: 1\n b: [\n").expect("write");
    let e = template(&cli_args(legacy, vec![bad])).unwrap_err();
    assert_eq!(e.exit_code(), 2, "{e:?}");
    assert_eq!(e.line, Some(2), "{e:?}");
}

#[test]
fn internal_failures_exit_with_one() {
    assert_eq!(kiln_helm::HelmError::internal("boom").exit_code(), 1);
}

#[test]
fn missing_value_passed_to_a_string_parameter() {
    insta::assert_snapshot!(fixture_report("wrongtype"));
}

#[test]
fn schema_failures_use_helms_wording_for_each_keyword() {
    insta::assert_snapshot!(fixture_report("schema-keywords"));
}
