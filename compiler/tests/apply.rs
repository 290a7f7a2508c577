//! `kiln apply`, `kiln drift` and `kiln rollback` driven as users drive them, against the API
//! server double over real HTTP through a kubeconfig file: the project's target names the
//! context, re-applies skip on the inventory digest, `--dry-run` prints a field diff, drift and
//! rollback read the inventory, tenant policies from `kiln.kdl` travel in the bundle, and exit
//! codes are 0/1/2 as everywhere in kiln.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use assert_cmd::Command;
use kiln_apiserver_double::ApiServer;
use serde_json::Value;

struct Env {
    server: Arc<ApiServer>,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    stop: Arc<AtomicBool>,
}

impl Drop for Env {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A double, a controller thread that rolls Deployments out, and a kubeconfig whose current
/// context points nowhere: only the context `kind-staging` reaches the double.
fn env() -> Env {
    let server = Arc::new(ApiServer::start_background().expect("start the double"));
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let config = server
        .kubeconfig("kind-staging")
        .replace(
            "current-context: kind-staging",
            "current-context: nowhere",
        )
        .replace(
            "contexts:\n",
            "contexts:\n- name: nowhere\n  context:\n    cluster: nowhere\n    user: kind-staging\n",
        )
        .replace(
            "clusters:\n",
            "clusters:\n- name: nowhere\n  cluster:\n    server: http://127.0.0.1:1\n",
        );
    std::fs::write(&kubeconfig, config).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let (s, flag) = (server.clone(), stop.clone());
    std::thread::spawn(move || {
        while !flag.load(Ordering::Relaxed) {
            for d in s.objects("apps/v1", "Deployment") {
                if d["status"]["observedGeneration"] != d["metadata"]["generation"] {
                    let ns = d["metadata"]["namespace"].as_str().unwrap_or_default();
                    let name = d["metadata"]["name"].as_str().unwrap_or_default();
                    let _ = s.mark_rolled_out("Deployment", ns, name);
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(30));
        }
    });
    Env {
        server,
        dir,
        kubeconfig,
        stop,
    }
}

impl Env {
    fn run(&self, args: &[&str]) -> Run {
        // The subcommand, then the cluster flags, then the rest.
        let mut cmd = Command::cargo_bin("kiln").unwrap();
        cmd.env("KILN_CACHE_DIR", self.dir.path().join("cache"))
            .env("KILN_STORE_DIR", self.dir.path().join("store"))
            .env_remove("KUBECONFIG")
            .env_remove("KILN_LOG")
            .arg(args[0])
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(["--request-timeout", "5s"])
            .args(&args[1..]);
        let out = cmd.output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn object(&self, api_version: &str, kind: &str, ns: &str, name: &str) -> Option<Value> {
        self.server.object(api_version, kind, ns, name)
    }
}

/// Text with every run of whitespace (and miette's gutter) as one space, so assertions do not
/// depend on where diagnostics wrap.
fn flat(s: &str) -> String {
    s.split_whitespace()
        .filter(|w| *w != "│")
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

const PROJECT: &str = r#"
project "shop"
source "deploy" path="./deploy"
target "staging" {
    cluster context="kind-staging"
}
target "production" {
    cluster context="prod-eu-1"
}
component "base" {
    manifests "deploy:base"
}
component "app" {
    depends-on "base"
    manifests "deploy:app"
}
"#;

fn settings(mode: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\ndata:\n  mode: {mode}\n"
    )
}

fn project(root: &Path) -> PathBuf {
    let p = root.join("shop");
    write(&p, "kiln.kdl", PROJECT);
    write(
        &p,
        "deploy/base/ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
    );
    write(&p, "deploy/app/settings.yaml", &settings("fast"));
    write(
        &p,
        "deploy/app/web.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n",
    );
    p
}

/// The digest in `applied blake3:… to target` or `blake3:… is already applied`.
fn digest_in(text: &str) -> String {
    let start = text.find("blake3:").expect("a digest in the output");
    text[start..start + 7 + 64].to_string()
}

#[test]
fn apply_builds_the_target_and_converges_through_its_context() {
    let e = env();
    let p = project(e.dir.path());
    let p = p.to_str().unwrap();

    let first = e.run(&["apply", p, "--target", "staging"]).expect(0);
    assert!(
        first
            .stdout
            .contains("3 created, 0 configured, 0 unchanged, 0 pruned"),
        "{}",
        first.stdout
    );
    assert!(
        first.stdout.contains("+ ConfigMap shop/settings"),
        "{}",
        first.stdout
    );
    assert!(
        first.stdout.contains("component app: ready"),
        "{}",
        first.stdout
    );
    let first_digest = digest_in(&first.stdout);
    let live = e.object("v1", "ConfigMap", "shop", "settings").unwrap();
    assert_eq!(live["data"]["mode"], "fast");
    assert_eq!(live["metadata"]["labels"]["kiln.dev/inventory"], "staging");
    assert!(
        Path::new(p).join("build/staging/bundle.json").is_file(),
        "the target is built where `kiln build` puts it"
    );

    // The same bundle again: one read of the inventory, nothing else.
    e.server.clear_requests();
    let again = e.run(&["apply", p, "--target", "staging"]).expect(0);
    assert!(
        again.stdout.contains("is already applied"),
        "{}",
        again.stdout
    );
    assert_eq!(e.server.requests().len(), 1, "{:?}", e.server.requests());

    // A change in the project: the dry-run prints the field diff, writes nothing, exits 1.
    write(Path::new(p), "deploy/app/settings.yaml", &settings("slow"));
    e.server.clear_requests();
    let plan = e
        .run(&["apply", p, "--target", "staging", "--dry-run"])
        .expect(1);
    assert!(
        plan.stdout
            .contains("0 to create, 1 to configure, 2 unchanged, 0 pending, 0 to prune"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("  ~ ConfigMap shop/settings (configure)\n      ~ data.mode: fast -> slow\n"),
        "{}",
        plan.stdout
    );
    assert_eq!(e.server.write_count(), 0);
    let json = e
        .run(&[
            "apply",
            p,
            "--target",
            "staging",
            "--dry-run",
            "--output",
            "json",
        ])
        .expect(1);
    let json: Value = serde_json::from_str(&json.stdout).unwrap();
    let configured: Vec<&Value> = json["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["action"] == "configure")
        .collect();
    assert_eq!(configured.len(), 1);
    assert_eq!(configured[0]["object"], "ConfigMap shop/settings");

    let second = e.run(&["apply", p, "--target", "staging"]).expect(0);
    assert!(
        second.stdout.contains("  ~ ConfigMap shop/settings\n"),
        "{}",
        second.stdout
    );
    assert_eq!(
        e.object("v1", "ConfigMap", "shop", "settings").unwrap()["data"]["mode"],
        "slow"
    );
    let clean = e
        .run(&["apply", p, "--target", "staging", "--dry-run"])
        .expect(0);
    assert!(
        clean
            .stdout
            .contains("0 to create, 0 to configure, 3 unchanged"),
        "{}",
        clean.stdout
    );

    // Someone edits the live object: drift names the field and the manager, exits 1.
    e.run(&["drift", p, "--target", "staging"]).expect(0);
    e.server
        .edit("v1", "ConfigMap", "shop", "settings", "kubectl-edit", |o| {
            o["data"]["mode"] = "by-hand".into()
        })
        .unwrap();
    let drift = e.run(&["drift", p, "--target", "staging"]).expect(1);
    assert!(
        drift.stdout.contains("1 of 3 objects drifted"),
        "{}",
        drift.stdout
    );
    assert!(
        drift.stdout.contains(
            "  ~ ConfigMap shop/settings (by kubectl-edit)\n      ~ data.mode: slow -> by-hand\n"
        ),
        "{}",
        drift.stdout
    );

    // Rollback to the first bundle, from the store `kiln apply` kept it in.
    let back = e
        .run(&[
            "rollback",
            "--target",
            "staging",
            "--project",
            p,
            "--force-conflicts",
        ])
        .expect(0);
    assert!(back.stdout.contains(&first_digest), "{}", back.stdout);
    assert_eq!(
        e.object("v1", "ConfigMap", "shop", "settings").unwrap()["data"]["mode"],
        "fast"
    );
    let inv = e
        .object("v1", "ConfigMap", "kiln-system", "kiln-inventory-staging")
        .unwrap();
    assert_eq!(inv["data"]["digest"], first_digest.as_str());

    let unknown = e
        .run(&[
            "rollback",
            "--target",
            "staging",
            "--project",
            p,
            "--to",
            "blake3:00",
        ])
        .expect(2);
    assert!(unknown.stderr.contains("blake3:00"), "{}", unknown.stderr);
}

#[test]
fn bundles_apply_directly_and_bad_input_exits_2() {
    let e = env();
    let p = project(e.dir.path());
    let tar = e.dir.path().join("staging.tar");
    let mut build = Command::cargo_bin("kiln").unwrap();
    build
        .env("KILN_CACHE_DIR", e.dir.path().join("cache"))
        .arg("build")
        .arg(&p)
        .args(["--target", "staging", "--format", "tar", "--out"])
        .arg(&tar)
        .assert()
        .success();
    let tar = tar.to_str().unwrap();

    // A bundle carries no context: without --project or --context the kubeconfig's current
    // context is used, which here points nowhere (exit 1, the cluster is unreachable).
    let lost = e.run(&["apply", tar]).expect(1);
    assert!(
        flat(&lost.stderr).contains("cannot reach the API server"),
        "{}",
        lost.stderr
    );
    assert!(
        !lost.stderr.contains("ERROR"),
        "no log noise: {}",
        lost.stderr
    );

    let ok = e
        .run(&["apply", tar, "--project", p.to_str().unwrap()])
        .expect(0);
    assert!(ok.stdout.contains("3 created"), "{}", ok.stdout);
    e.run(&["apply", tar, "--context", "kind-staging"])
        .expect(0);

    let wrong = e
        .run(&[
            "apply",
            tar,
            "--context",
            "kind-staging",
            "--target",
            "production",
        ])
        .expect(2);
    assert!(
        wrong
            .stderr
            .contains("the bundle is for target `staging` but `production` was requested"),
        "{}",
        wrong.stderr
    );
    let missing = e
        .run(&["apply", p.to_str().unwrap(), "--target", "prod"])
        .expect(2);
    assert!(
        missing.stderr.contains("has no target `prod`"),
        "{}",
        missing.stderr
    );
    let several = e.run(&["apply", p.to_str().unwrap()]).expect(2);
    assert!(
        several.stderr.contains("has 2 targets"),
        "{}",
        several.stderr
    );

    // A tampered bundle is refused before any request.
    let dir_bundle = Path::new(p.to_str().unwrap()).join("build/staging");
    e.run(&[
        "apply",
        p.to_str().unwrap(),
        "--target",
        "staging",
        "--dry-run",
    ])
    .expect(0);
    let file = std::fs::read_dir(dir_bundle.join("components/app/shop"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: evil, namespace: shop}\n",
    )
    .unwrap();
    e.server.clear_requests();
    let tampered = e
        .run(&[
            "apply",
            dir_bundle.to_str().unwrap(),
            "--context",
            "kind-staging",
        ])
        .expect(2);
    assert!(
        tampered.stderr.contains("kiln::applier::bundle") || tampered.stderr.contains("digest"),
        "{}",
        tampered.stderr
    );
    assert!(e.server.requests().is_empty());
}

const TENANT_PROJECT: &str = r#"
project "teams"
source "deploy" path="./deploy"
target "staging" {
    cluster context="kind-staging"
}
component "base" {
    manifests "deploy:base"
}
component "team-a" {
    depends-on "base"
    service-account "team-a/deployer"
    namespaces "team-a"
    manifests "deploy:team-a"
}
"#;

#[test]
fn tenant_policy_from_kiln_kdl_is_enforced_before_any_write() {
    let e = env();
    let p = e.dir.path().join("teams");
    write(&p, "kiln.kdl", TENANT_PROJECT);
    write(
        &p,
        "deploy/base/ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-b\n",
    );
    write(
        &p,
        "deploy/team-a/ok.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n  namespace: team-a\n",
    );
    write(
        &p,
        "deploy/team-a/sneaky.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sneaky\n  namespace: team-b\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: escalate\nrules: []\n",
    );
    let ps = p.to_str().unwrap();
    e.server.clear_requests();
    let refused = e.run(&["apply", ps]).expect(2);
    assert!(
        flat(&refused.stderr).contains("component `team-a` may not write ConfigMap team-b/sneaky"),
        "{}",
        refused.stderr
    );
    assert!(
        flat(&refused.stderr)
            .contains("ClusterRole.rbac.authorization.k8s.io escalate: it is cluster-scoped"),
        "{}",
        refused.stderr
    );
    assert!(
        flat(&refused.stderr).contains("sneaky.yaml:1)"),
        "{}",
        refused.stderr
    );
    assert_eq!(e.server.write_count(), 0);
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(p.join("build/staging/bundle.json")).unwrap())
            .unwrap();
    let team_a = manifest["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "team-a")
        .unwrap();
    assert_eq!(
        team_a["tenancy"],
        serde_json::json!({"namespaces": ["team-a"], "service_account": "team-a/deployer"})
    );

    std::fs::remove_file(p.join("deploy/team-a/sneaky.yaml")).unwrap();
    e.server
        .restrict_user("system:serviceaccount:team-a:deployer", &["team-a"]);
    e.run(&["apply", ps]).expect(0);
    let writes: Vec<_> = e
        .server
        .requests()
        .into_iter()
        .filter(|r| r.is_write() && r.path.ends_with("configmaps/ok"))
        .collect();
    assert_eq!(writes.len(), 1);
    assert_eq!(
        writes[0].impersonated_user.as_deref(),
        Some("system:serviceaccount:team-a:deployer")
    );
}

#[test]
fn tenant_declarations_are_checked_by_the_compiler() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "service-account \"deployer\"",
            "`deployer` is not a service account `namespace/name`",
        ),
        (
            "namespaces \"Team_A\"",
            "`Team_A` is not a valid namespace name",
        ),
        ("namespaces \"a\" \"a\"", "duplicate namespace `a`"),
        (
            "namespaces \"a\"\n    namespaces \"b\"",
            "duplicate `namespaces` in component `team-a`",
        ),
    ];
    for (decl, message) in cases {
        let p = dir.path().join("p");
        write(
            &p,
            "kiln.kdl",
            &format!(
                "project \"p\"\nsource \"deploy\" path=\"./deploy\"\ntarget \"t\" {{\n    cluster context=\"c\"\n}}\ncomponent \"team-a\" {{\n    {decl}\n    manifests \"deploy:x.yaml\"\n}}\n"
            ),
        );
        write(
            &p,
            "deploy/x.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
        );
        let out = Command::cargo_bin("kiln")
            .unwrap()
            .env("KILN_CACHE_DIR", dir.path().join("cache"))
            .arg("build")
            .arg(&p)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{decl}: {stderr}");
        assert!(stderr.contains(message), "{decl}: {stderr}");
        assert!(
            stderr.contains("kiln.kdl:7:"),
            "points at the line: {stderr}"
        );
    }
}
