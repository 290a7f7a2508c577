//! Builds kiln-kustomize's `fieldspec` module (owned by the same engineer as this crate) on its
//! own, so its unit tests run here whether or not kiln-kustomize declares the module yet, and
//! checks the built-in label and annotation specs against `kubectl kustomize`.

#[allow(dead_code, unused_imports)]
#[path = "../../kustomize/src/fieldspec/mod.rs"]
mod fieldspec;

use std::path::PathBuf;
use std::process::Command;

use fieldspec::{CreateKind, FieldSpec, FieldSpecError, TransformerConfig, visit};
use serde_json::{Value, json};

/// Objects of every kind the built-in label and annotation specs name, with the optional
/// selector fields present where a spec does not create them.
const RESOURCES: &str = r#"
apiVersion: v1
kind: Service
metadata: {name: svc}
spec:
  ports: [{port: 80}]
---
apiVersion: v1
kind: ReplicationController
metadata: {name: rc}
spec:
  template:
    spec:
      containers: [{name: a, image: a}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: dep}
spec:
  template:
    spec:
      containers: [{name: a, image: a}]
      affinity:
        podAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 1
            podAffinityTerm:
              topologyKey: zone
              labelSelector:
                matchLabels: {x: z}
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - topologyKey: host
            labelSelector:
              matchLabels: {x: z}
      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: zone
        whenUnsatisfiable: DoNotSchedule
        labelSelector:
          matchLabels: {x: z}
---
apiVersion: extensions/v1beta1
kind: Deployment
metadata: {name: old-dep}
spec:
  template:
    spec:
      containers: [{name: a, image: a}]
      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: zone
        whenUnsatisfiable: DoNotSchedule
        labelSelector:
          matchLabels: {x: z}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: sts}
spec:
  serviceName: sts
  template:
    spec:
      containers: [{name: a, image: a}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce]}
  - metadata: {name: logs, labels: {kind: logs}}
    spec: {accessModes: [ReadWriteOnce]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds}
spec:
  template:
    spec:
      containers: [{name: a, image: a}]
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs}
spec:
  template:
    spec:
      containers: [{name: a, image: a}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: job}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: a, image: a}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: job-with-selector}
spec:
  selector:
    matchLabels: {x: z}
  template:
    spec:
      restartPolicy: Never
      containers: [{name: a, image: a}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: cron}
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: a, image: a}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: pdb}
spec:
  minAvailable: 1
  selector:
    matchLabels: {x: z}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np}
spec:
  podSelector:
    matchLabels: {x: z}
  ingress:
  - from:
    - podSelector:
        matchLabels: {x: z}
    - namespaceSelector: {}
  egress:
  - to:
    - podSelector:
        matchLabels: {x: z}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
data: {a: b}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
spec:
  template:
    metadata: {labels: {x: z}}
"#;

fn kubectl() -> Option<PathBuf> {
    let dir = std::env::var_os("KILN_ORACLES")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/kiln-oracles"))
        })?;
    let path = dir.join("kubectl");
    path.exists().then_some(path)
}

fn set_entries(specs: &[FieldSpec], objects: &mut [Value], entries: &Value) {
    for object in objects.iter_mut() {
        for spec in specs {
            visit(object, spec, Some(CreateKind::Map), |node: &mut Value| {
                if let (Value::Object(map), Value::Object(new)) = (node, entries) {
                    for (key, value) in new {
                        map.insert(key.clone(), value.clone());
                    }
                }
                Ok::<_, FieldSpecError>(())
            })
            .unwrap();
        }
    }
}

fn identity(object: &Value) -> (String, String, String) {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    (
        text(&object["apiVersion"]),
        text(&object["kind"]),
        text(&object["metadata"]["name"]),
    )
}

#[test]
fn builtin_label_and_annotation_specs_match_kubectl_kustomize() {
    let Some(kubectl) = kubectl() else {
        eprintln!(
            "SKIPPED: kubectl not found under $KILN_ORACLES or ~/.cache/kiln-oracles; \
             run tests/install-oracles.sh to compare with kubectl kustomize"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("resources.yaml"), RESOURCES).unwrap();
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        "resources: [resources.yaml]\ncommonLabels: {team: blue}\ncommonAnnotations: {owner: ops}\n",
    )
    .unwrap();
    let output = Command::new(&kubectl)
        .arg("kustomize")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut expected: Vec<Value> =
        kiln_yaml::parse_documents(&String::from_utf8(output.stdout).unwrap())
            .unwrap()
            .into_iter()
            .map(|d| d.value)
            .collect();

    let mut actual: Vec<Value> = kiln_yaml::parse_documents(RESOURCES)
        .unwrap()
        .into_iter()
        .map(|d| d.value)
        .collect();
    let config = TransformerConfig::builtin();
    set_entries(&config.common_labels, &mut actual, &json!({"team": "blue"}));
    set_entries(
        &config.common_annotations,
        &mut actual,
        &json!({"owner": "ops"}),
    );

    expected.sort_by_key(identity);
    actual.sort_by_key(identity);
    assert_eq!(expected.len(), actual.len());
    for (expected, actual) in expected.iter().zip(&actual) {
        assert_eq!(expected, actual, "{:?}", identity(expected));
    }
}
