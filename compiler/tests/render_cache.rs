//! Inside `kiln build`, a component is rendered again only when one of its inputs changed: the
//! render cache serves the others (issue #3/#4), and a build whose every input is unchanged does
//! not render, load or write anything, yet repairs an output that was tampered with.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use kiln::build::{Built, Options, Stats, build};
use kiln::cache::Cache;
use kiln::graph::Graph;

/// A project with a kustomize overlay (over a base in a sibling directory), a Helm chart with a
/// values file and inline values, and plain manifests, each in a source of its own.
fn project(root: &Path) {
    let files: &[(&str, &str)] = &[
        (
            "kiln.kdl",
            r#"project "cached"
source "k" path="./kustomize"
source "c" path="./charts"
source "m" path="./manifests"
target "prod" {
    vars { replicas 2 }
}
component "web" {
    kustomize "k:overlays/prod"
}
component "api" {
    helm "c:api" release="api" namespace="apps" {
        values-file "c:values.yaml"
        values { replicaCount "{{ vars.replicas }}" }
    }
}
component "plain" {
    manifests "m:"
}
"#,
        ),
        (
            "kustomize/overlays/prod/kustomization.yaml",
            "namespace: web\nresources:\n  - ../../base\n",
        ),
        (
            "kustomize/base/kustomization.yaml",
            "resources:\n  - service.yaml\n",
        ),
        (
            "kustomize/base/service.yaml",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n    - port: 80\n",
        ),
        (
            "charts/api/Chart.yaml",
            "apiVersion: v2\nname: api\nversion: 0.1.0\n",
        ),
        ("charts/api/values.yaml", "replicaCount: 1\ngreeting: hi\n"),
        (
            "charts/api/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  replicas: {{ .Values.replicaCount | quote }}\n  greeting: {{ .Values.greeting | quote }}\n",
        ),
        ("charts/values.yaml", "greeting: hello\n"),
        (
            "manifests/ns.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n",
        ),
    ];
    for (path, text) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// Builds the project through the library and returns which components were rendered.
fn rendered(root: &Path, cache: &Path) -> Vec<String> {
    stats(root, cache).rendered
}

fn stats(root: &Path, cache: &Path) -> Stats {
    let project = kiln::project::load(root).unwrap();
    let graph = Graph::build(&project).unwrap();
    let options = Options {
        cache: Some(Cache::new(cache)),
        threads: 2,
    };
    match build(&project, &graph, &project.targets["prod"], &options, |_| {
        false
    })
    .unwrap()
    {
        Built::Compiled { stats, .. } => stats,
        Built::UpToDate { .. } => panic!("the build was not asked to skip"),
    }
}

fn edit(root: &Path, file: &str, from: &str, to: &str) {
    let path = root.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} holds {from:?}");
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn only_components_whose_inputs_changed_are_rendered_again() {
    let tmp = tempfile::tempdir().unwrap();
    let (root, cache) = (tmp.path().join("p"), tmp.path().join("cache"));
    project(&root);
    let all = ["web", "api", "plain"];
    assert_eq!(
        rendered(&root, &cache),
        all,
        "an empty cache renders everything"
    );
    let again = stats(&root, &cache);
    assert!(again.rendered.is_empty(), "nothing changed: {again:?}");
    assert_eq!(again.cached, all);

    let changes: &[(&str, &str, &str, &str)] = &[
        // (what changed, file, from, to) and the one component that must render again.
        (
            "kustomization file",
            "kustomize/overlays/prod/kustomization.yaml",
            "namespace: web",
            "namespace: web2",
        ),
        (
            "resource of a base in a sibling directory",
            "kustomize/base/service.yaml",
            "port: 80",
            "port: 81",
        ),
        (
            "chart template",
            "charts/api/templates/cm.yaml",
            "greeting:",
            "hello:",
        ),
        ("chart metadata", "charts/api/Chart.yaml", "0.1.0", "0.1.1"),
        (
            "chart default values",
            "charts/api/values.yaml",
            "greeting: hi",
            "greeting: yo",
        ),
        ("values file", "charts/values.yaml", "hello", "bonjour"),
        (
            "inline value from a target variable",
            "kiln.kdl",
            "replicas 2",
            "replicas 3",
        ),
        ("manifest", "manifests/ns.yaml", "name: web", "name: web-ns"),
    ];
    for (what, file, from, to) in changes {
        edit(&root, file, from, to);
        let expected = match *file {
            f if f.starts_with("kustomize/") => "web",
            f if f.starts_with("manifests/") => "plain",
            _ => "api",
        };
        let stats = stats(&root, &cache);
        assert_eq!(stats.rendered, [expected], "after a change to the {what}");
        assert_eq!(
            stats.cached.len(),
            2,
            "after a change to the {what}: {stats:?}"
        );
    }

    // Going back to an earlier state is served from the cache.
    edit(&root, "manifests/ns.yaml", "name: web-ns", "name: web");
    assert!(rendered(&root, &cache).is_empty());
}

fn kiln(args: &[&str], root: &Path, out: &Path, cache: &Path) -> (String, String) {
    let o = Command::cargo_bin("kiln")
        .unwrap()
        .env_remove("KILN_LOG")
        .arg("build")
        .arg(root)
        .arg("--out")
        .arg(out)
        .arg("--cache-dir")
        .arg(cache)
        .args(args)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    );
    assert!(o.status.success(), "{stderr}");
    (stdout, stderr)
}

fn verify(out: &Path) -> bool {
    Command::cargo_bin("kiln")
        .unwrap()
        .arg("verify")
        .arg(out)
        .arg("--quiet")
        .output()
        .unwrap()
        .status
        .success()
}

/// Lets the clock move past the last write, so the output stamp is not "racily clean".
fn settle() {
    std::thread::sleep(std::time::Duration::from_millis(50));
}

#[test]
fn an_unchanged_build_renders_nothing_and_a_tampered_output_is_rewritten() {
    let tmp = tempfile::tempdir().unwrap();
    let (root, cache, out) = (
        tmp.path().join("p"),
        tmp.path().join("cache"),
        tmp.path().join("out"),
    );
    project(&root);
    let (first, log) = kiln(&["-v"], &root, &out, &cache);
    assert!(log.contains("rendered=3 cached=0"), "{log}");
    settle();
    let (second, log) = kiln(&["-v"], &root, &out, &cache);
    assert_eq!(first, second, "the summary line names the same digest");
    assert!(log.contains("bundle up to date: nothing rendered"), "{log}");
    assert!(!log.contains("objects ready"), "{log}");

    let file = find_yaml(&out.join("components/web"));
    let original = std::fs::read(&file).unwrap();
    let tampers: &[(&str, &dyn Fn())] = &[
        ("same-size edit", &|| {
            let mut bytes = original.clone();
            let i = bytes.iter().position(|&b| b == b'8').unwrap();
            bytes[i] = b'9';
            std::fs::write(&file, bytes).unwrap();
        }),
        ("extra file", &|| {
            std::fs::write(out.join("components/extra.yaml"), "x: 1\n").unwrap()
        }),
        ("removed file", &|| std::fs::remove_file(&file).unwrap()),
    ];
    for (what, tamper) in tampers {
        tamper();
        settle();
        let (again, log) = kiln(&["-v"], &root, &out, &cache);
        assert_eq!(again, first, "{what}");
        assert!(log.contains("rendered=0 cached=3"), "{what}: {log}");
        assert!(verify(&out), "{what}: the rewritten bundle verifies");
        assert_eq!(std::fs::read(&file).unwrap(), original, "{what}");
        assert!(!out.join("components/extra.yaml").exists(), "{what}");
        settle();
    }

    // A changed input is rendered and written, whatever the stamp said; over an intact
    // output only the files that changed are written.
    let inode = |p: &Path| std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).unwrap());
    let untouched = inode(&file);
    edit(&root, "manifests/ns.yaml", "name: web", "name: web-ns");
    let (changed, log) = kiln(&["-v"], &root, &out, &cache);
    assert_ne!(changed, first);
    assert!(log.contains("rendered=1 cached=2"), "{log}");
    assert!(verify(&out), "the updated bundle verifies");
    assert_eq!(
        inode(&file),
        untouched,
        "another component's file is not rewritten"
    );

    // A tampered output is never updated in place: it is rewritten as a whole.
    settle();
    std::fs::write(out.join("components/extra.yaml"), "x: 1\n").unwrap();
    edit(&root, "manifests/ns.yaml", "name: web-ns", "name: web");
    let (back, _) = kiln(&["-v"], &root, &out, &cache);
    assert_eq!(back, first);
    assert!(verify(&out), "the rewritten bundle verifies");
    assert!(!out.join("components/extra.yaml").exists());
}

fn find_yaml(dir: &Path) -> PathBuf {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "yaml") {
                return p;
            }
        }
    }
    panic!("no yaml under {}", dir.display())
}
