//! A registry behind htpasswd basic auth: refused without credentials (naming the variable to
//! set), accepted with `KILN_AUTH_<HOST>` or a Docker config. One test per process: it sets
//! environment variables.

use kiln_bundle::{BundleSpec, ComponentSpec, Provenance};
use kiln_oci::testing::RegistryServer;
use kiln_oci::{OciError, Puller, PushMeta, Registry, RegistryOptions, push};
use serde_json::json;

#[tokio::test(flavor = "current_thread")]
async fn credentials_from_the_environment_and_the_docker_config() {
    let Some(server) = RegistryServer::start_or_skip(Some(("ci", "s3cret"))) else {
        return;
    };
    let registry = server.client(RegistryOptions::default());
    let bundle = kiln_bundle::build(&BundleSpec {
        project: "shop".into(),
        target: "prod".into(),
        compiler_version: "kiln test".into(),
        components: vec![ComponentSpec {
            name: "web".into(),
            depends_on: vec![],
            tenancy: Default::default(),
            objects: vec![(
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
                Provenance {
                    component: "web".into(),
                    source: None,
                    file: "web.yaml".into(),
                    line: 1,
                    producer: "manifests".into(),
                },
            )],
        }],
        waves: vec![vec!["web".into()]],
        lock: None,
    })
    .unwrap();
    let target = server.reference("fleet/shop:prod");
    let home = tempfile::tempdir().unwrap();
    // SAFETY: this test binary runs this one test; nothing else reads the environment meanwhile.
    unsafe {
        std::env::set_var("DOCKER_CONFIG", home.path());
    }

    let e = push(&registry, &bundle, &target, &PushMeta::default())
        .await
        .unwrap_err();
    let OciError::Denied { env_var, .. } = &e else {
        panic!("expected access denied, got {e:?}")
    };
    assert_eq!(*env_var, kiln_oci::env_var_for(&server.host()));

    // SAFETY: as above.
    unsafe {
        std::env::set_var(kiln_oci::env_var_for(&server.host()), "ci:s3cret");
    }
    let fresh = Registry::new(registry.options().clone()).unwrap();
    let pushed = push(&fresh, &bundle, &target, &PushMeta::default())
        .await
        .unwrap();

    // SAFETY: as above.
    unsafe {
        std::env::remove_var(kiln_oci::env_var_for(&server.host()));
    }
    let auth = base64_encode("ci:s3cret");
    std::fs::write(
        home.path().join("config.json"),
        format!(
            r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#,
            server.host()
        ),
    )
    .unwrap();
    let fresh = Registry::new(registry.options().clone()).unwrap();
    let pulled = Puller::new(fresh, None)
        .unwrap()
        .pull(&target)
        .await
        .unwrap();
    assert_eq!(pulled.manifest_digest, pushed.digest);
}

fn base64_encode(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}
