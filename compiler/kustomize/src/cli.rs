//! `kiln kustomize DIR`: the command-line face of the engine, shaped like `kubectl kustomize DIR`.
//!
//! Exit status: 0 on success, 2 when the input is at fault (a broken kustomization, a missing
//! file, invalid YAML, a bad flag), 1 when kiln itself fails (the output cannot be written).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::KustomizeError;

/// Arguments of `kiln kustomize`, matching `kubectl kustomize`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The kustomization directory to build.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// `LoadRestrictionsRootOnly` (default) or `LoadRestrictionsNone`.
    #[arg(long, default_value = "LoadRestrictionsRootOnly")]
    pub load_restrictor: String,
}

/// Exit status for input errors (the kustomization or its files are at fault).
pub const EXIT_INPUT: u8 = 2;
/// Exit status for failures of kiln itself, such as an unwritable output.
pub const EXIT_INTERNAL: u8 = 1;

/// Builds the output text, or the diagnostic and exit status of the failure.
pub fn render(args: &Args) -> Result<String, (KustomizeError, u8)> {
    let restrict_to_root = match args.load_restrictor.as_str() {
        "LoadRestrictionsRootOnly" | "rootOnly" => true,
        "LoadRestrictionsNone" | "none" => false,
        other => {
            let e = KustomizeError::build(format!(
                "--load-restrictor must be LoadRestrictionsRootOnly or LoadRestrictionsNone, got {other}"
            ));
            return Err((e, EXIT_INPUT));
        }
    };
    let options = crate::Options {
        restrict_to_root,
        ..crate::Options::default()
    };
    crate::build(&args.dir, &options)
        .and_then(|objects| crate::output::to_yaml_stream(&objects))
        .map_err(|e| (e, EXIT_INPUT))
}

/// Runs the command, printing multi-document YAML on stdout and diagnostics on stderr.
pub fn run(args: &Args) -> ExitCode {
    match render(args) {
        Ok(text) => {
            let mut out = std::io::stdout().lock();
            if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                eprintln!(
                    "{:?}",
                    miette::Report::new(KustomizeError::build(format!(
                        "cannot write the output: {e}"
                    )))
                );
                return ExitCode::from(EXIT_INTERNAL);
            }
            ExitCode::SUCCESS
        }
        Err((e, code)) => {
            eprintln!("{:?}", miette::Report::new(e));
            ExitCode::from(code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The diagnostic as plain text (miette's narratable form, independent of terminal
    /// features) and the exit status, with the temporary directory masked.
    fn failure(files: &[(&str, &str)], flag: Option<&str>) -> String {
        let tmp = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(tmp.path().join(name), text).unwrap();
        }
        let args = Args {
            dir: tmp.path().to_path_buf(),
            load_restrictor: flag.unwrap_or("LoadRestrictionsRootOnly").to_string(),
        };
        let (e, code) = render(&args).expect_err("the build must fail");
        let mut text = String::new();
        miette::NarratableReportHandler::new()
            .render_report(&mut text, &e)
            .unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let text = text
            .replace(&root.display().to_string(), "<tmp>")
            .replace(&tmp.path().display().to_string(), "<tmp>");
        format!("exit status: {code}\n{text}")
    }

    #[test]
    fn missing_resource_is_an_input_error() {
        insta::assert_snapshot!(failure(
            &[("kustomization.yaml", "resources:\n- missing.yaml\n")],
            None
        ));
    }

    #[test]
    fn invalid_yaml_is_an_input_error() {
        insta::assert_snapshot!(failure(
            &[("kustomization.yaml", "resources: [a.yaml\n")],
            None
        ));
    }

    #[test]
    fn bad_load_restrictor_is_an_input_error() {
        insta::assert_snapshot!(failure(
            &[("kustomization.yaml", "resources: []\n")],
            Some("sometimes")
        ));
    }

    /// YAML 1.1 booleans (`on`, `yes`, `y`, `No`) are strings to kustomize (kyaml reads YAML
    /// 1.2) and are printed quoted; compared byte for byte with `kubectl kustomize`.
    #[test]
    fn old_booleans_stay_strings_as_in_kubectl() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("kustomization.yaml"),
            "resources:\n- cm.yaml\npatches:\n- patch: |\n    apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: c\n    data:\n      p: off\n",
        )
        .unwrap();
        std::fs::write(
            tmp.path().join("cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels:\n    x: yes\ndata:\n  a: on\n  b: \"on\"\n  d: y\n  e: No\n  f: true\n",
        )
        .unwrap();
        let args = Args {
            dir: tmp.path().to_path_buf(),
            load_restrictor: "LoadRestrictionsRootOnly".into(),
        };
        let ours = render(&args).unwrap();
        assert!(
            ours.contains("a: \"on\"\n") && ours.contains("x: \"yes\"\n"),
            "{ours}"
        );
        assert!(
            ours.contains("p: \"off\"\n") && ours.contains("f: true\n"),
            "{ours}"
        );
        let oracles = std::env::var_os("KILN_ORACLES")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/kiln-oracles"))
            });
        let Some(kubectl) = oracles.map(|d| d.join("kubectl")).filter(|k| k.exists()) else {
            eprintln!(
                "SKIPPED the kubectl comparison: kubectl not found in $KILN_ORACLES or ~/.cache/kiln-oracles"
            );
            return;
        };
        let out = std::process::Command::new(kubectl)
            .arg("kustomize")
            .arg(tmp.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(ours, String::from_utf8(out.stdout).unwrap());
    }

    #[test]
    fn a_good_kustomization_renders() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("kustomization.yaml"),
            "resources:\n- cm.yaml\n",
        )
        .unwrap();
        std::fs::write(
            tmp.path().join("cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  b: '1'\n  a: x\n",
        )
        .unwrap();
        let args = Args {
            dir: tmp.path().to_path_buf(),
            load_restrictor: "LoadRestrictionsRootOnly".into(),
        };
        assert_eq!(
            render(&args).unwrap(),
            "apiVersion: v1\ndata:\n  a: x\n  b: \"1\"\nkind: ConfigMap\nmetadata:\n  name: c\n"
        );
    }
}
