//! Property: any set of valid objects written as a bundle opens to exactly the same objects, with
//! the same digest from the directory and the tar.

use kiln_bundle::{Bundle, BundleSpec, ComponentSpec, Provenance, write_dir, write_tar};
use proptest::prelude::*;
use serde_json::{Value, json};

fn label_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[a-z0-9 :#\\n'\"-]{0,12}".prop_map(Value::from),
        prop::sample::select(vec![
            "yes", "0777", "1e3", "null", "~", " lead", "a: b", "日本"
        ])
        .prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
    ]
}

fn object(i: usize) -> impl Strategy<Value = Value> {
    (
        prop::collection::btree_map("[a-z.-/]{1,10}", label_value(), 0..5),
        any::<bool>(),
    )
        .prop_map(move |(data, namespaced)| {
            let mut metadata = json!({"name": format!("obj-{i}")});
            if namespaced {
                metadata["namespace"] = json!("ns");
            }
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data})
        })
}

fn spec() -> impl Strategy<Value = BundleSpec> {
    (0usize..12)
        .prop_flat_map(|n| (0..n).map(object).collect::<Vec<_>>())
        .prop_map(|objects| BundleSpec {
            project: "p".into(),
            target: "t".into(),
            compiler_version: "test".into(),
            components: vec![ComponentSpec {
                name: "c".into(),
                depends_on: vec![],
                tenancy: Default::default(),
                objects: objects
                    .into_iter()
                    .enumerate()
                    .map(|(i, o)| {
                        let p = Provenance {
                            component: "c".into(),
                            source: None,
                            file: "f.yaml".into(),
                            line: i + 1,
                            producer: "manifests".into(),
                        };
                        (o, p)
                    })
                    .collect(),
            }],
            waves: vec![vec!["c".into()]],
            lock: None,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn written_bundles_open_to_the_same_objects(spec in spec()) {
        let tmp = tempfile::tempdir().unwrap();
        let d1 = write_dir(&spec, &tmp.path().join("d")).unwrap();
        let d2 = write_tar(&spec, &tmp.path().join("t.tar")).unwrap();
        prop_assert_eq!(d1, d2);
        for path in ["d", "t.tar"] {
            let bundle = Bundle::open(tmp.path().join(path)).unwrap();
            let mut got: Vec<Value> = bundle.objects().map(|o| o.value.clone()).collect();
            let mut want: Vec<Value> = spec.components[0].objects.iter().map(|o| o.0.clone()).collect();
            let name = |v: &Value| v["metadata"]["name"].as_str().unwrap_or_default().to_string();
            got.sort_by_key(name);
            want.sort_by_key(name);
            prop_assert_eq!(got, want);
        }
    }
}
