//! Remote sources end to end, through the `kiln` binary: a project using a Git repository
//! (`git daemon`), a Helm repository (packaged by the real `helm`, served over HTTP) and a chart
//! in an OCI registry (Debian's `docker-registry`, pushed with `helm push`) builds, locks, and
//! rebuilds `--locked` and `--offline` with the servers stopped to the same bundle digest.

#[path = "../sources/tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use assert_cmd::Command;
use common::{Faults, git, git_daemon, helm, helm_cmd, registry, run, static_files};

struct Env {
    home: PathBuf,
    cache: PathBuf,
    insecure: String,
}

impl Env {
    fn kiln(&self) -> Command {
        let mut cmd = Command::cargo_bin("kiln").unwrap();
        cmd.env("KILN_CACHE_DIR", &self.cache)
            .env("KILN_INSECURE_REGISTRIES", &self.insecure)
            .env("HOME", &self.home)
            .env("DOCKER_CONFIG", self.home.join(".docker"))
            .env_remove("KILN_LOG")
            .env_remove("KILN_JOBS");
        cmd
    }
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A bare repository `app.git` below `repos` with `deploy/configmap.yaml` on `main`.
fn git_repo(work: &Path, repos: &Path) {
    let src = work.join("app-work");
    write(
        &src.join("deploy/configmap.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\n  namespace: default\ndata:\n  from: git\n",
    );
    git(&src, &["init", "-q", "-b", "main"]);
    git(&src, &["add", "-A"]);
    git(&src, &["commit", "-qm", "first"]);
    std::fs::create_dir_all(repos).unwrap();
    let bare = repos.join("app.git");
    git(
        repos,
        &[
            "clone",
            "-q",
            "--bare",
            src.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
}

/// Packages a one-template chart `demo` at `version` into `out` with the real helm.
fn package_chart(helm: &Path, work: &Path, version: &str, out: &Path) -> PathBuf {
    let chart = work.join("demo");
    write(
        &chart.join("Chart.yaml"),
        "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
    );
    write(&chart.join("values.yaml"), "message: hello\n");
    write(
        &chart.join("templates/configmap.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-demo\ndata:\n  message: {{ .Values.message | quote }}\n",
    );
    std::fs::create_dir_all(out).unwrap();
    run(helm_cmd(helm, work).args([
        "package",
        chart.to_str().unwrap(),
        "--version",
        version,
        "--destination",
        out.to_str().unwrap(),
    ]));
    out.join(format!("demo-{version}.tgz"))
}

const PROJECT: &str = r#"project "remote"

source "app" git="GIT_URL" ref="main"
source "repo" helm-repo="HELM_URL" chart="demo" version="^1"
source "oci" oci="OCI_URL" version="1.x"

target "dev" {
    cluster context="dev"
}

component "app" {
    manifests "app:deploy"
}

component "web" {
    helm "repo" release="web"
}

component "packaged" {
    helm "oci:." release="packaged"
}
"#;

/// The bundle digest `kiln build` prints: `… -> OUT (blake3:…)`.
fn digest(stdout: &[u8]) -> String {
    let out = String::from_utf8_lossy(stdout);
    let line = out.lines().last().unwrap_or_default();
    line.rsplit_once('(')
        .and_then(|(_, d)| d.strip_suffix(')'))
        .unwrap_or_else(|| panic!("no digest in {out:?}"))
        .to_string()
}

fn build(env: &Env, project: &Path, flags: &[&str]) -> String {
    let out = env
        .kiln()
        .arg("build")
        .arg(project)
        .args(flags)
        .arg("--out")
        .arg(project.join("out"))
        .assert()
        .success();
    digest(&out.get_output().stdout)
}

/// The diagnostic of a failed `kiln build`, with the server ports made stable.
fn failure(env: &Env, project: &Path, flags: &[&str], ports: &[u16]) -> String {
    let out = env
        .kiln()
        .arg("build")
        .arg(project)
        .args(flags)
        .assert()
        .code(2);
    // The summary line of the sources step (it has a duration) is not part of the diagnostic.
    let mut stderr: String = String::from_utf8_lossy(&out.get_output().stderr)
        .lines()
        .filter(|l| !l.starts_with("sources: "))
        .map(|l| format!("{l}\n"))
        .collect();
    for p in ports {
        stderr = stderr.replace(&format!(":{p}"), ":PORT");
    }
    stderr
}

#[test]
fn git_helm_repository_and_oci_sources_build_lock_and_rebuild_offline() {
    let Some(helm) = helm() else { return };
    if !Path::new("/usr/bin/docker-registry").exists()
        && std::env::var_os("KILN_DOCKER_REGISTRY").is_none()
    {
        eprintln!("\n!!! SKIPPED: docker-registry missing (apt-get install docker-registry) !!!\n");
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let work = t.path().join("work");
    std::fs::create_dir_all(&work).unwrap();

    let repos = t.path().join("repos");
    git_repo(&work, &repos);
    let daemon = git_daemon(&repos);

    let charts = t.path().join("charts");
    let tgz = package_chart(&helm, &work, "1.2.0", &charts);
    let faults = Arc::new(Faults {
        fail_next: 0.into(),
        hang_ms: 0.into(),
        basic_auth: Default::default(),
        hits: 0.into(),
    });
    let http = static_files(&charts, faults);
    run(helm_cmd(&helm, &work).args([
        "repo",
        "index",
        charts.to_str().unwrap(),
        "--url",
        &http.url(),
    ]));

    let reg = registry(&t.path().join("registry"));
    run(helm_cmd(&helm, &work).args([
        "push",
        tgz.to_str().unwrap(),
        &format!("oci://127.0.0.1:{}/charts", reg.port),
        "--plain-http",
    ]));

    let env = Env {
        home: work.clone(),
        cache: t.path().join("cache"),
        insecure: format!("127.0.0.1:{}", reg.port),
    };
    let project = t.path().join("project");
    let kdl = PROJECT
        .replace(
            "GIT_URL",
            &format!("git://127.0.0.1:{}/app.git", daemon.port),
        )
        .replace("HELM_URL", &http.url())
        .replace(
            "OCI_URL",
            &format!("oci://127.0.0.1:{}/charts/demo", reg.port),
        );
    write(&project.join("kiln.kdl"), &kdl);
    let ports = [daemon.port, reg.port, http.port];
    let lock = project.join("kiln.lock");

    // --locked without a lock: nothing is fetched, exit 2, and the lock is not written.
    let missing = failure(&env, &project, &["--locked"], &ports);
    assert!(!lock.exists());
    insta::assert_snapshot!("locked_without_lock", missing);

    // A plain build pins everything and writes the lock.
    let first = build(&env, &project, &[]);
    let written = std::fs::read_to_string(&lock).unwrap();
    for name in ["[source.app]", "[source.repo]", "[source.oci]"] {
        assert!(written.contains(name), "{written}");
    }
    let bundle = std::fs::read_to_string(project.join("out/bundle.json")).unwrap();
    for pinned in ["\"app\"", "\"repo\"", "\"oci\"", "blake3:"] {
        assert!(
            bundle.contains(pinned),
            "the bundle records the lock: {bundle}"
        );
    }

    // `kiln lock` from scratch writes the same lock and says what it added.
    std::fs::remove_file(&lock).unwrap();
    let out = env.kiln().arg("lock").arg(&project).assert().success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    for name in ["app", "repo", "oci"] {
        assert!(stdout.contains(&format!("added   {name} ")), "{stdout}");
    }
    assert_eq!(std::fs::read_to_string(&lock).unwrap(), written);
    let out = env.kiln().arg("lock").arg(&project).assert().success();
    assert!(
        String::from_utf8_lossy(&out.get_output().stdout).contains("up to date"),
        "a second `kiln lock` changes nothing"
    );

    assert_eq!(build(&env, &project, &["--locked"]), first);

    // A new chart release: `kiln update repo` moves only that source and says so; the bundle
    // digest follows the lock.
    package_chart(&helm, &work, "1.3.0", &charts);
    run(helm_cmd(&helm, &work).args([
        "repo",
        "index",
        charts.to_str().unwrap(),
        "--url",
        &http.url(),
    ]));
    let out = env
        .kiln()
        .args(["update", "repo", "--project"])
        .arg(&project)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert_eq!(stdout.trim(), "updated repo 1.2.0 -> 1.3.0");
    let written = std::fs::read_to_string(&lock).unwrap();
    let first_pin = first;
    let first = build(&env, &project, &["--locked"]);
    assert_ne!(first, first_pin, "the bundle digest pins the sources");

    // With every server stopped, `--locked` (warm cache) and `--offline` give the same bundle.
    drop(daemon);
    drop(http);
    drop(reg);
    assert_eq!(build(&env, &project, &["--locked"]), first);
    assert_eq!(build(&env, &project, &["--offline"]), first);
    assert_eq!(std::fs::read_to_string(&lock).unwrap(), written);

    // `kiln cache gc` keeps what the lock pins: the three sources' content (chart 1.2.0, no
    // longer pinned by `repo`, is still the content `oci` pins).
    let out = env
        .kiln()
        .args(["cache", "gc", "--keep-days", "0", "--project"])
        .arg(&project)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(stdout.trim_end().ends_with("kept 3"), "{stdout}");
    assert_eq!(build(&env, &project, &["--offline"]), first);

    // A declaration that no longer matches its lock entry: exit 2, lock untouched.
    write(
        &project.join("kiln.kdl"),
        &kdl.replace("version=\"^1\"", "version=\"~1.2\""),
    );
    let stale = failure(&env, &project, &["--locked"], &ports);
    assert_eq!(std::fs::read_to_string(&lock).unwrap(), written);
    insta::assert_snapshot!("locked_with_stale_lock", stale);

    // Offline with an empty cache: says what is missing and how to fill the cache.
    write(&project.join("kiln.kdl"), &kdl);
    let cold = Env {
        cache: t.path().join("empty-cache"),
        ..env
    };
    let not_cached = failure(&cold, &project, &["--offline"], &ports);
    insta::assert_snapshot!("offline_without_cache", not_cached);
}

/// A repository `bases.git` below `repos`: `base/` and `deploy/base/` are kustomizations with
/// one ConfigMap each; `main` and tag `v1` point at the only commit.
fn bases_repo(work: &Path, repos: &Path) {
    let src = work.join("bases-work");
    for (dir, name) in [("base", "from-base"), ("deploy/base", "from-deploy")] {
        write(
            &src.join(dir).join("kustomization.yaml"),
            "resources:\n- configmap.yaml\n",
        );
        write(
            &src.join(dir).join("configmap.yaml"),
            &format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n"),
        );
    }
    git(&src, &["init", "-q", "-b", "main"]);
    git(&src, &["add", "-A"]);
    git(&src, &["commit", "-qm", "bases"]);
    git(&src, &["tag", "v1"]);
    std::fs::create_dir_all(repos).unwrap();
    let bare = repos.join("bases.git");
    git(
        repos,
        &[
            "clone",
            "-q",
            "--bare",
            src.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
}

const REMOTE_BASES: &str = r#"project "remote-bases"

source "daemon" git="GIT_URL" ref="main"
source "smart" git="HTTP_URL" ref="v1" path="deploy"

target "dev" {
    cluster context="dev"
}

component "site" {
    kustomize "overlay"
}
"#;

#[test]
fn kustomize_remote_resources_read_declared_git_sources_only() {
    let t = tempfile::tempdir().unwrap();
    let work = t.path().join("work");
    let repos = t.path().join("repos");
    bases_repo(&work, &repos);
    let daemon = git_daemon(&repos);
    let smart = common::git_http(&repos);
    let git_url = format!("git://127.0.0.1:{}/bases.git", daemon.port);
    let http_url = format!("{}/bases.git", smart.url());

    let project = t.path().join("project");
    write(
        &project.join("kiln.kdl"),
        &REMOTE_BASES
            .replace("GIT_URL", &git_url)
            .replace("HTTP_URL", &http_url),
    );
    // The kustomize forms: `repo//dir?ref=`, and a `path=` source read below its sub-path.
    let overlay = format!(
        "namePrefix: prod-\nresources:\n- {git_url}//base?ref=main\n- {http_url}//deploy/base?ref=v1\n"
    );
    write(&project.join("overlay/kustomization.yaml"), &overlay);
    let env = Env {
        home: work.clone(),
        cache: t.path().join("cache"),
        insecure: String::new(),
    };
    let first = build(&env, &project, &[]);
    let bundle = std::fs::read_to_string(project.join("out/bundle.json")).unwrap();
    for name in ["prod-from-base", "prod-from-deploy"] {
        assert!(bundle.contains(name), "{name} missing from {bundle}");
    }

    // Remote bases come from the lock and the cache: no server is needed to rebuild.
    drop(daemon);
    drop(smart);
    assert_eq!(build(&env, &project, &["--locked"]), first);

    // A repository (or ref) no source declares is never fetched: the diagnostic names the URL
    // and shows the `source` node to add.
    write(
        &project.join("overlay/kustomization.yaml"),
        &format!("{overlay}- https://github.com/acme/other//deploy?ref=v3\n"),
    );
    let undeclared = failure(&env, &project, &["--locked"], &[])
        .replace(&t.path().display().to_string(), "TMP")
        .replace(&git_url, "GIT_URL");
    insta::assert_snapshot!("kustomize_remote_undeclared", undeclared);
    write(
        &project.join("overlay/kustomization.yaml"),
        &format!("{overlay}- {git_url}//base?ref=v2\n"),
    );
    let other_ref = failure(&env, &project, &["--locked"], &[])
        .replace(&t.path().display().to_string(), "TMP")
        .replace(&git_url, "GIT_URL");
    insta::assert_snapshot!("kustomize_remote_other_ref", other_ref);
}

#[test]
fn planning_a_remote_source_that_was_not_fetched_says_how_to_fetch_it() {
    let t = tempfile::tempdir().unwrap();
    write(
        &t.path().join("kiln.kdl"),
        "project \"p\"\nsource \"repo\" helm-repo=\"https://charts.example\" chart=\"demo\"\ntarget \"dev\" {\n    cluster context=\"dev\"\n}\ncomponent \"web\" {\n    helm \"repo\"\n}\n",
    );
    let project = kiln::project::load(t.path()).unwrap();
    let err = kiln::resolve::plan(&project, &project.targets["dev"]).unwrap_err();
    insta::assert_snapshot!("remote_source_not_fetched", err.render_plain());
}

#[test]
fn git_path_and_ca_file_reach_the_source_declarations() {
    let t = tempfile::tempdir().unwrap();
    write(
        &t.path().join("kiln.kdl"),
        r#"project "p"
source "app" git="https://git.example/acme/app.git" ref="v1" path="deploy/base" ca-file="certs/ca.pem"
source "charts" helm-repo="https://charts.example" chart="demo" ca-file="certs/ca.pem"
source "oci" oci="oci://registry.example/charts/demo" tag="1.0.0" ca-file="certs/ca.pem"
target "dev" {
    cluster context="dev"
}
"#,
    );
    let project = kiln::project::load(t.path()).unwrap();
    let specs = kiln::sources::specs(&project).unwrap();
    let ca = project.root.join("certs/ca.pem");
    assert_eq!(
        specs[0],
        kiln_sources::SourceSpec::git(
            "app",
            "https://git.example/acme/app.git",
            kiln_sources::GitSelect::Ref("v1".into())
        )
        .with_path("deploy/base")
        .with_ca_file(&ca)
    );
    assert_eq!(specs[1].ca_file.as_deref(), Some(ca.as_path()));
    assert_eq!(specs[2].ca_file.as_deref(), Some(ca.as_path()));

    // `path=` leaving the repository is refused at its declaration.
    write(
        &t.path().join("kiln.kdl"),
        "project \"p\"\nsource \"app\" git=\"https://git.example/a.git\" path=\"../x\"\ntarget \"dev\" {\n    cluster context=\"dev\"\n}\n",
    );
    let project = kiln::project::load(t.path()).unwrap();
    let err = kiln::sources::specs(&project).unwrap_err();
    insta::assert_snapshot!("git_path_outside_repository", err.render_plain());
}
