//! Keeps the double honest: drives the real `kubectl` (the oracle install) against it over HTTP
//! and checks the answers are the ones a real cluster gives.

use kiln_apiserver_double::ApiServer;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn kubectl_binary() -> Option<PathBuf> {
    let dir = std::env::var_os("KILN_ORACLES")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/kiln-oracles")))?;
    let bin = dir.join("kubectl");
    bin.exists().then_some(bin)
}

struct Kubectl {
    bin: PathBuf,
    kubeconfig: PathBuf,
    dir: tempfile::TempDir,
}

struct Out {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Kubectl {
    fn run(&self, args: &[&str]) -> Out {
        let out = Command::new(&self.bin)
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", self.dir.path())
            .output()
            .expect("run kubectl");
        Out {
            ok: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.ok,
            "kubectl {args:?} failed:\n{}\n{}",
            out.stdout, out.stderr
        );
        out.stdout
    }

    fn apply(&self, name: &str, yaml: &str, extra: &[&str]) -> Out {
        let path = self.dir.path().join(name);
        std::fs::write(&path, yaml).unwrap();
        let path = path.to_string_lossy().into_owned();
        let mut args = vec!["apply", "--server-side", "-f", path.as_str()];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    fn get_json(&self, args: &[&str]) -> Value {
        let mut a = vec!["get"];
        a.extend_from_slice(args);
        a.extend_from_slice(&["-o", "json", "--show-managed-fields"]);
        serde_json::from_str(&self.ok(&a)).expect("kubectl printed JSON")
    }
}

fn setup() -> Option<(ApiServer, Kubectl)> {
    let Some(bin) = kubectl_binary() else {
        eprintln!(
            "SKIPPED: kubectl oracle not found; run tests/install-oracles.sh or set KILN_ORACLES"
        );
        return None;
    };
    let server = ApiServer::start_background().expect("start double");
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    server.write_kubeconfig(&kubeconfig, "double").unwrap();
    Some((
        server,
        Kubectl {
            bin,
            kubeconfig,
            dir,
        },
    ))
}

const APP: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: demo
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: demo
  labels: {app: web}
data:
  key: one
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: demo
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
"#;

#[test]
fn kubectl_server_side_apply_get_conflict_delete() {
    let Some((server, k)) = setup() else { return };

    let resources = k.ok(&["api-resources", "--no-headers"]);
    let line = resources
        .lines()
        .find(|l| l.starts_with("deployments "))
        .expect("deployments listed");
    let cols: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        cols,
        ["deployments", "deploy", "apps/v1", "true", "Deployment"]
    );
    assert!(
        resources
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == ["namespaces", "ns", "v1", "false", "Namespace"])
    );

    let out = k.apply("app.yaml", APP, &[]);
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(
        out.stdout.lines().collect::<Vec<_>>(),
        [
            "namespace/demo serverside-applied",
            "configmap/cfg serverside-applied",
            "deployment.apps/web serverside-applied"
        ]
    );

    let cm = k.get_json(&["configmap", "cfg", "-n", "demo"]);
    assert_eq!(cm["data"]["key"], "one");
    let mf = &cm["metadata"]["managedFields"][0];
    assert_eq!(mf["manager"], "kubectl");
    assert_eq!(mf["operation"], "Apply");
    assert_eq!(mf["fieldsV1"]["f:data"]["f:key"], serde_json::json!({}));
    assert!(cm["metadata"]["uid"].is_string());
    let rv = cm["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();

    // Re-applying the same configuration changes nothing, not even the resourceVersion.
    let out = k.apply("app.yaml", APP, &[]);
    assert!(out.ok, "{}", out.stderr);
    let cm = k.get_json(&["configmap", "cfg", "-n", "demo"]);
    assert_eq!(cm["metadata"]["resourceVersion"], rv.as_str());

    // Another field manager setting the same field to a different value conflicts.
    let other = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: demo\ndata:\n  key: two\n";
    let out = k.apply("other.yaml", other, &["--field-manager=other"]);
    assert!(!out.ok, "conflict must fail: {}", out.stdout);
    assert!(
        out.stderr
            .contains("Apply failed with 1 conflict: conflict with \"kubectl\": .data.key"),
        "{}",
        out.stderr
    );
    let out = k.apply(
        "other.yaml",
        other,
        &["--field-manager=other", "--force-conflicts"],
    );
    assert!(out.ok, "{}", out.stderr);
    let cm = k.get_json(&["configmap", "cfg", "-n", "demo"]);
    assert_eq!(cm["data"]["key"], "two");
    let managers: Vec<&str> = cm["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["manager"].as_str().unwrap())
        .collect();
    assert_eq!(
        managers,
        ["kubectl", "other"],
        "kubectl keeps its labels, other owns data"
    );
    assert!(
        cm["metadata"]["managedFields"][0]["fieldsV1"]
            .get("f:data")
            .is_none()
    );

    // Spec changes bump the generation; label selectors filter lists.
    let dep = k.get_json(&["deployment", "web", "-n", "demo"]);
    assert_eq!(dep["metadata"]["generation"], 1);
    let deployment_only = APP
        .split("---")
        .nth(2)
        .unwrap()
        .replace("replicas: 2", "replicas: 3");
    let out = k.apply("app2.yaml", &deployment_only, &[]);
    assert!(out.ok, "{}", out.stderr);
    let dep = k.get_json(&["deployment", "web", "-n", "demo"]);
    assert_eq!(dep["metadata"]["generation"], 2);
    assert_eq!(dep["spec"]["replicas"], 3);
    assert_eq!(
        k.ok(&["get", "cm", "-n", "demo", "-l", "app=web", "-o", "name"])
            .trim(),
        "configmap/cfg"
    );
    assert_eq!(
        k.ok(&["get", "cm", "-n", "demo", "-l", "app!=web", "-o", "name"])
            .trim(),
        ""
    );

    let out = k.ok(&["delete", "configmap", "cfg", "-n", "demo"]);
    assert_eq!(out.trim(), "configmap \"cfg\" deleted from demo namespace");
    let out = k.run(&["get", "configmap", "cfg", "-n", "demo"]);
    assert!(!out.ok);
    assert!(
        out.stderr
            .contains("Error from server (NotFound): configmaps \"cfg\" not found"),
        "{}",
        out.stderr
    );
    assert!(server.object("v1", "ConfigMap", "demo", "cfg").is_none());
}

const CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
"#;

#[test]
fn kubectl_sees_crd_resources_and_validation_errors() {
    let Some((server, k)) = setup() else { return };
    let out = k.apply("crd.yaml", CRD, &[]);
    assert!(out.ok, "{}", out.stderr);
    k.ok(&[
        "wait",
        "--for=condition=Established",
        "crd/widgets.example.com",
        "--timeout=10s",
    ]);
    let resources = k.ok(&["api-resources", "--api-group=example.com", "--no-headers"]);
    assert_eq!(
        resources.split_whitespace().collect::<Vec<_>>(),
        ["widgets", "wd", "example.com/v1", "true", "Widget"]
    );
    let widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w1\n  namespace: default\nspec:\n  size: 3\n";
    let out = k.apply("w.yaml", widget, &[]);
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(
        out.stdout.trim(),
        "widget.example.com/w1 serverside-applied"
    );
    let w = k.get_json(&["wd", "w1"]);
    assert_eq!(w["spec"]["size"], 3);
    assert_eq!(w["metadata"]["generation"], 1);

    let bad = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: bad\n  namespace: default\nspec:\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: b}}\n    spec: {containers: [{name: c, image: i}]}\n";
    let out = k.apply("bad.yaml", bad, &[]);
    assert!(!out.ok);
    assert!(
        out.stderr.contains(
            "The Deployment \"bad\" is invalid: spec.template.metadata.labels: Invalid value"
        ),
        "{}",
        out.stderr
    );

    // Deleting the CRD removes its resources from discovery and its objects.
    k.ok(&["delete", "crd", "widgets.example.com"]);
    let resources = k.ok(&["api-resources", "--no-headers"]);
    assert!(!resources.contains("example.com"), "{resources}");
    assert!(server.objects("example.com/v1", "Widget").is_empty());
}

const TWO_CONTAINERS: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: demo}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: demo, labels: {app: web}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: app
        image: nginx:1.27
        env: [{name: MODE, value: fast}, {name: LEVEL, value: "3"}]
      - name: sidecar
        image: busybox:1.36
"#;

fn containers(k: &Kubectl) -> Vec<(String, String)> {
    let d = k.get_json(&["deployment", "web", "-n", "demo"]);
    d["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["image"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn kubectl_patch_strategic_merge_and_json() {
    let Some((server, k)) = setup() else { return };
    let out = k.apply("two.yaml", TWO_CONTAINERS, &[]);
    assert!(out.ok, "{}{}", out.stdout, out.stderr);
    let deploy = ["patch", "deployment", "web", "-n", "demo"];
    let patch = |kind: &str, body: &str| {
        let mut args = deploy.to_vec();
        args.extend_from_slice(&["--type", kind, "-p", body]);
        k.run(&args)
    };

    // Strategic merge: containers merge by name, env by name; the sidecar stays.
    let out = patch(
        "strategic",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:1.28","env":[{"name":"LEVEL","value":"4"}]}]}}}}"#,
    );
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), "deployment.apps/web patched");
    assert_eq!(
        containers(&k),
        pairs(&[("app", "nginx:1.28"), ("sidecar", "busybox:1.36")])
    );
    let d = k.get_json(&["deployment", "web", "-n", "demo"]);
    let mut env: Vec<String> = d["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}={}",
                e["name"].as_str().unwrap(),
                e["value"].as_str().unwrap()
            )
        })
        .collect();
    env.sort();
    assert_eq!(env, ["LEVEL=4", "MODE=fast"], "env merges by name");
    assert_eq!(d["metadata"]["generation"], 2);
    let managers: Vec<&str> = d["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["manager"].as_str())
        .collect();
    assert!(managers.contains(&"kubectl-patch"), "{managers:?}");

    // A `$patch: delete` directive removes one list item.
    let out = patch(
        "strategic",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}"#,
    );
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(containers(&k), pairs(&[("app", "nginx:1.28")]));

    // JSON merge patch replaces lists whole.
    let out = patch(
        "merge",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"only","image":"nginx:1.29"}]}}}}"#,
    );
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(containers(&k), pairs(&[("only", "nginx:1.29")]));

    // JSON patch: operations by pointer.
    let out = patch(
        "json",
        r#"[{"op":"replace","path":"/spec/replicas","value":3},{"op":"add","path":"/metadata/labels/tier","value":"front"},{"op":"remove","path":"/metadata/labels/app"}]"#,
    );
    assert!(out.ok, "{}", out.stderr);
    let d = k.get_json(&["deployment", "web", "-n", "demo"]);
    assert_eq!(d["spec"]["replicas"], 3);
    assert_eq!(
        d["metadata"]["labels"],
        serde_json::json!({"tier": "front"})
    );

    // A failing `test` operation changes nothing and is refused as invalid.
    let out = patch(
        "json",
        r#"[{"op":"test","path":"/spec/replicas","value":9},{"op":"replace","path":"/spec/replicas","value":1}]"#,
    );
    assert!(!out.ok);
    assert!(
        out.stderr
            .contains("the server rejected our request due to an error in our request"),
        "{}",
        out.stderr
    );
    assert_eq!(
        server
            .object("apps/v1", "Deployment", "demo", "web")
            .unwrap()["spec"]["replicas"],
        3
    );

    // Custom resources have no merge strategies: strategic merge is refused, merge works.
    let out = k.apply("crd.yaml", CRD, &[]);
    assert!(out.ok, "{}", out.stderr);
    k.ok(&[
        "wait",
        "--for=condition=Established",
        "crd/widgets.example.com",
    ]);
    let out = k.apply(
        "w.yaml",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: demo}\nspec: {size: 1}\n",
        &[],
    );
    assert!(out.ok, "{}", out.stderr);
    let out = k.run(&[
        "patch",
        "widget",
        "w",
        "-n",
        "demo",
        "--type",
        "strategic",
        "-p",
        r#"{"spec":{"size":2}}"#,
    ]);
    assert!(!out.ok);
    assert!(
        out.stderr.contains("UnsupportedMediaType")
            || out
                .stderr
                .contains("strategic merge patch is not supported"),
        "{}",
        out.stderr
    );
    let out = k.run(&[
        "patch",
        "widget",
        "w",
        "-n",
        "demo",
        "--type",
        "merge",
        "-p",
        r#"{"spec":{"size":2}}"#,
    ]);
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(
        server
            .object("example.com/v1", "Widget", "demo", "w")
            .unwrap()["spec"]["size"],
        2
    );
}
