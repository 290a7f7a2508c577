//! The bad-input corpus: every case in `fixtures/invalid/` is a project that `kiln build` must
//! reject with exit code 2, a diagnostic (snapshotted) and nothing written.
//!
//! A case may hold an `args` file with extra `kiln build` arguments; by default the output goes
//! to a fresh temporary directory.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/invalid")
}

fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn every_invalid_project_is_a_diagnostic_with_exit_2_and_no_output() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 25, "the corpus lost cases: {}", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let before = listing(case);
        let out_root = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        let out_dir = out_root.path().join("bundle");
        let mut cmd = Command::cargo_bin("kiln").unwrap();
        cmd.current_dir(case)
            .env("KILN_CACHE_DIR", cache.path())
            .env_remove("KILN_LOG")
            .env_remove("KILN_JOBS")
            .arg("build")
            .arg(".");
        match std::fs::read_to_string(case.join("args")) {
            Ok(args) => {
                cmd.args(args.split_whitespace());
                if !args.contains("--out") {
                    cmd.arg("--out").arg(&out_dir);
                }
            }
            Err(_) => {
                cmd.arg("--out").arg(&out_dir);
            }
        }
        let output = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        if output.status.code() != Some(2) {
            failures.push(format!(
                "{name}: exit {:?}, stderr:\n{stderr}",
                output.status.code()
            ));
        }
        if !output.stdout.is_empty() {
            failures.push(format!(
                "{name}: printed on stdout: {}",
                String::from_utf8_lossy(&output.stdout)
            ));
        }
        if out_dir.exists() || std::fs::read_dir(out_root.path()).unwrap().next().is_some() {
            failures.push(format!("{name}: left output behind"));
        }
        if listing(case) != before {
            failures.push(format!("{name}: wrote into the project"));
        }
        insta::with_settings!({ snapshot_suffix => name.clone(), prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!("diagnostic", stderr);
        });
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
