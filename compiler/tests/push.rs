//! `kiln push` and `oci://` references in `kiln apply` and `kiln diff`, against a real registry
//! (Debian's `docker-registry`) and the API server double: a pushed bundle applies by tag and by
//! digest, diffs against its directory as equal, and a tampered artifact, another artifact type
//! or an unreachable registry each stop before the cluster sees a single request.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use kiln_apiserver_double::ApiServer;
use kiln_oci::testing::{RegistryServer, bundle_parts, push_raw};
use kiln_oci::{BundleRef, Puller, Registry, RegistryOptions, media};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn kiln(dir: &Path, kubeconfig: &Path, args: &[&str]) -> Run {
    let mut cmd = Command::cargo_bin("kiln").unwrap();
    cmd.env("KILN_CACHE_DIR", dir.join("cache"))
        .env("KILN_STORE_DIR", dir.join("store"))
        .env("DOCKER_CONFIG", dir.join("docker"))
        .env_remove("KUBECONFIG")
        .env_remove("KILN_LOG")
        .env_remove("KILN_INSECURE_REGISTRIES")
        .arg(args[0]);
    if args[0] == "apply" {
        cmd.arg("--kubeconfig").arg(kubeconfig).args([
            "--context",
            "kind-staging",
            "--request-timeout",
            "5s",
        ]);
    }
    let out = cmd.args(&args[1..]).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn flat(s: &str) -> String {
    s.split_whitespace()
        .filter(|w| *w != "│")
        .collect::<Vec<_>>()
        .join(" ")
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// Builds a one-target project into a bundle directory with the `kiln` binary.
fn built_bundle(dir: &Path) -> PathBuf {
    let p = dir.join("shop");
    write(
        &p,
        "kiln.kdl",
        "project \"shop\"\nsource \"deploy\" path=\"./deploy\"\ntarget \"staging\" {\n    cluster context=\"kind-staging\"\n}\ncomponent \"app\" {\n    manifests \"deploy:app\"\n}\n",
    );
    write(
        &p,
        "deploy/app/ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
    );
    write(
        &p,
        "deploy/app/settings.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\ndata:\n  mode: fast\n",
    );
    let out = dir.join("bundle");
    Command::cargo_bin("kiln")
        .unwrap()
        .env("KILN_CACHE_DIR", dir.join("cache"))
        .arg("build")
        .arg(&p)
        .args(["--target", "staging", "--out"])
        .arg(&out)
        .assert()
        .success();
    out
}

#[test]
fn push_then_apply_and_diff_by_reference_and_refuse_bad_artifacts() {
    let Some(registry_server) = RegistryServer::start_or_skip(None) else {
        return;
    };
    let api = ApiServer::start_background().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let kubeconfig = dir.join("kubeconfig");
    api.write_kubeconfig(&kubeconfig, "kind-staging").unwrap();
    let bundle = built_bundle(dir);
    let host = registry_server.host();
    let tag = format!("oci://{host}/fleet/shop:staging");

    // Without --insecure the registry is spoken to over HTTPS, which it does not serve.
    assert_eq!(
        kiln(dir, &kubeconfig, &["push", bundle.to_str().unwrap(), &tag]).code,
        1
    );
    let pushed = kiln(
        dir,
        &kubeconfig,
        &[
            "push",
            bundle.to_str().unwrap(),
            &tag,
            "--insecure",
            "--revision",
            "main@sha1:abc",
        ],
    );
    assert_eq!(pushed.code, 0, "{}", pushed.stderr);
    // A tag is required, and the input must be a bundle.
    let untagged = format!("oci://{host}/fleet/shop");
    assert_eq!(
        kiln(
            dir,
            &kubeconfig,
            &["push", bundle.to_str().unwrap(), &untagged, "--insecure"]
        )
        .code,
        2
    );
    assert_eq!(
        kiln(dir, &kubeconfig, &["push", &tag, &tag, "--insecure"]).code,
        2
    );

    let registry = Registry::new(RegistryOptions {
        insecure: vec![host.clone()],
        ..RegistryOptions::default()
    })
    .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let reference = BundleRef::parse(&tag).unwrap();
    let digest = rt
        .block_on(
            Puller::new(registry.clone(), None)
                .unwrap()
                .resolve(&reference),
        )
        .unwrap();
    let pinned = reference.pinned(&digest);
    assert_eq!(
        pushed.stdout.trim(),
        pinned,
        "push prints the pinned reference"
    );

    let ok = kiln(dir, &kubeconfig, &["apply", &tag, "--insecure"]);
    assert_eq!(ok.code, 0, "{}\n{}", ok.stdout, ok.stderr);
    assert!(ok.stdout.contains("2 created"), "{}", ok.stdout);
    assert!(api.object("v1", "ConfigMap", "shop", "settings").is_some());

    let plan = kiln(
        dir,
        &kubeconfig,
        &["apply", &pinned, "--insecure", "--dry-run"],
    );
    assert_eq!(
        plan.code, 0,
        "nothing to change\n{}\n{}",
        plan.stdout, plan.stderr
    );

    let same = kiln(
        dir,
        &kubeconfig,
        &["diff", bundle.to_str().unwrap(), &pinned, "--insecure"],
    );
    assert_eq!(same.code, 0, "{}\n{}", same.stdout, same.stderr);
    assert!(
        same.stdout.contains(&pinned),
        "the reference names the side: {}",
        same.stdout
    );

    // Every way an artifact can be wrong exits 2 before any request reaches the cluster.
    let built = kiln_bundle::read_verified(&bundle).unwrap();
    let (config, _) = bundle_parts(&built).unwrap();
    let mut evil = built.clone();
    let file = evil
        .files
        .keys()
        .find(|k| k.contains("configmap"))
        .unwrap()
        .clone();
    let text = String::from_utf8(evil.files[&file].clone()).unwrap();
    evil.files
        .insert(file, text.replace("mode: fast", "mode: evil").into_bytes());
    let (_, layer) = bundle_parts(&evil).unwrap();
    let evil_ref = BundleRef::parse(&format!("oci://{host}/fleet/evil:staging")).unwrap();
    rt.block_on(push_raw(
        &registry,
        &evil_ref,
        media::ARTIFACT_TYPE,
        (media::ARTIFACT_TYPE, config),
        vec![(media::LAYER, layer)],
        BTreeMap::new(),
    ))
    .unwrap();
    let flux_ref = BundleRef::parse(&format!("oci://{host}/fleet/flux:v1")).unwrap();
    rt.block_on(push_raw(
        &registry,
        &flux_ref,
        "application/vnd.cncf.flux.config.v1+json",
        ("application/vnd.cncf.flux.config.v1+json", b"{}".to_vec()),
        vec![(
            "application/vnd.cncf.flux.content.v1.tar+gzip",
            b"x".to_vec(),
        )],
        BTreeMap::new(),
    ))
    .unwrap();

    let before = api.request_count();
    let tampered = kiln(
        dir,
        &kubeconfig,
        &["apply", &evil_ref.to_string(), "--insecure"],
    );
    assert_eq!(tampered.code, 2, "{}", tampered.stderr);
    let text = flat(&tampered.stderr);
    assert!(
        text.contains("evil:staging@sha256:"),
        "names the reference: {text}"
    );
    assert!(text.contains("failed verification"), "{text}");
    assert!(
        text.contains("configmap"),
        "names the tampered file: {text}"
    );

    let flux = kiln(
        dir,
        &kubeconfig,
        &["apply", &flux_ref.to_string(), "--insecure", "--dry-run"],
    );
    assert_eq!(flux.code, 2, "{}", flux.stderr);
    assert!(
        flat(&flux.stderr).contains("is not a kiln bundle"),
        "{}",
        flux.stderr
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = kiln(
        dir,
        &kubeconfig,
        &[
            "apply",
            &format!("oci://127.0.0.1:{port}/fleet/shop:staging"),
            "--insecure",
        ],
    );
    assert_eq!(down.code, 1, "{}", down.stderr);
    assert!(
        flat(&down.stderr).contains("cannot reach the registry"),
        "{}",
        down.stderr
    );
    assert_eq!(api.request_count(), before, "the cluster saw no request");
}
