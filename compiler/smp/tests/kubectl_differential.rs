//! Differential test: every case is applied by kiln-smp and, as a one-resource kustomization
//! with one patch, by `kubectl kustomize` (kustomize v5.7.1); the objects must be equal
//! (map key order aside, list order included).

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

struct Case {
    name: &'static str,
    original: &'static str,
    patch: &'static str,
    /// A custom OpenAPI document, given to kustomize through `openapi: {path: ...}`.
    openapi: Option<&'static str>,
}

const fn case(name: &'static str, original: &'static str, patch: &'static str) -> Case {
    Case {
        name,
        original,
        patch,
        openapi: None,
    }
}

const DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  template:
    metadata:
      labels: {app: web}
    spec:
      initContainers:
      - name: init
        image: busybox
        command: [sh, -c, "true"]
      containers:
      - name: app
        image: app:1
        args: [--port=8080, --verbose]
        env:
        - name: A
          value: "1"
        - name: B
          value: "2"
        ports:
        - containerPort: 8080
        - containerPort: 53
          protocol: UDP
        volumeMounts:
        - name: data
          mountPath: /data
        resources:
          limits: {cpu: 100m, memory: 64Mi}
      - name: sidecar
        image: proxy:1
      volumes:
      - name: data
        emptyDir: {}
      - name: config
        configMap: {name: cfg}
      tolerations:
      - key: a
        operator: Exists
      imagePullSecrets:
      - name: registry
"#;

const CASES: &[Case] = &[
    case(
        "container image by name",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        image: app:2
"#,
    ),
    case(
        "new container goes first, matched ones follow patch order",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: sidecar
        image: proxy:2
      - name: logger
        image: fluent
"#,
    ),
    case(
        "env merges by name, patch entries first",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        env:
        - name: B
          value: "20"
        - name: C
          valueFrom:
            fieldRef: {fieldPath: metadata.name}
"#,
    ),
    case(
        "env entry deleted with $patch: delete",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        env:
        - name: A
          $patch: delete
"#,
    ),
    case(
        "volumes merge by name and a volume source changes",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      volumes:
      - name: data
        emptyDir: null
        persistentVolumeClaim: {claimName: data}
      - name: secret
        secret: {secretName: s}
"#,
    ),
    case(
        "volumeMounts merge by mountPath",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        volumeMounts:
        - name: config
          mountPath: /etc/config
        - name: data2
          mountPath: /data
"#,
    ),
    case(
        "ports merge by containerPort and protocol",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        ports:
        - containerPort: 8080
          name: http
        - containerPort: 53
          protocol: TCP
        - containerPort: 9090
          name: metrics
"#,
    ),
    case(
        "port with explicit protocol against one without",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        ports:
        - containerPort: 8080
          protocol: TCP
          name: http
"#,
    ),
    case(
        "initContainers merge by name",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      initContainers:
      - name: migrate
        image: migrate:1
      - name: init
        image: busybox:2
"#,
    ),
    case(
        "tolerations replace",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      tolerations:
      - key: b
        operator: Equal
        value: x
        effect: NoSchedule
"#,
    ),
    case(
        "args replace",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        args: [--port=9090]
"#,
    ),
    case(
        "null deletes a field",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: null
  strategy:
    rollingUpdate: null
  template:
    spec:
      containers:
      - name: app
        resources: null
"#,
    ),
    case(
        "map replaced with $patch: replace",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  strategy:
    $patch: replace
    type: Recreate
"#,
    ),
    case(
        "map deleted with $patch: delete",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        resources:
          $patch: delete
"#,
    ),
    case(
        "whole list replaced with a $patch: replace item",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - $patch: replace
      - name: only
        image: only:1
"#,
    ),
    case(
        "whole list deleted with a $patch: delete item",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      volumes:
      - $patch: delete
"#,
    ),
    case(
        "$patch: replace on one list item is undone by kustomize",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: sidecar
        $patch: replace
        image: proxy:9
"#,
    ),
    case(
        "container removed with $patch: delete",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: sidecar
        $patch: delete
"#,
    ),
    case(
        "$setElementOrder is kept as a plain field",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      $setElementOrder/containers:
      - name: sidecar
      - name: app
      containers:
      - name: app
        image: app:3
"#,
    ),
    case(
        "$retainKeys and $deleteFromPrimitiveList are plain fields",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  strategy:
    $retainKeys: [type]
    type: Recreate
  template:
    spec:
      containers:
      - name: app
        $deleteFromPrimitiveList/args: [--verbose]
"#,
    ),
    case(
        "labels and annotations merge",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {tier: front, app: null}
  annotations: {note: hi}
"#,
    ),
    case(
        "resource limits merge",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        resources:
          limits: {memory: 128Mi}
          requests: {cpu: 50m}
"#,
    ),
    case(
        "imagePullSecrets merge by name",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      imagePullSecrets:
      - name: other
"#,
    ),
    case(
        "nulls inside an added subtree are dropped",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      affinity:
        nodeAffinity: null
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 1
            podAffinityTerm:
              topologyKey: kubernetes.io/hostname
              labelSelector: {matchLabels: {app: web}}
"#,
    ),
    case(
        "whole object deleted",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
$patch: delete
"#,
    ),
    case(
        "finalizers merge as a primitive list",
        r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
  finalizers: [a, b]
data: {k: v}
"#,
        r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
  finalizers: [c, a]
data: {k2: v2, k: null}
"#,
    ),
    case(
        "service ports merge by port",
        r#"
apiVersion: v1
kind: Service
metadata: {name: svc}
spec:
  selector: {app: web}
  ports:
  - name: http
    port: 80
    targetPort: 8080
  - name: https
    port: 443
"#,
        r#"
apiVersion: v1
kind: Service
metadata: {name: svc}
spec:
  ports:
  - port: 443
    targetPort: 8443
  - name: metrics
    port: 9090
"#,
    ),
    case(
        "duplicate keys in the original collapse",
        r#"
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: app
    image: app
    env:
    - name: A
      value: "1"
    - name: A
      value: "2"
    - name: B
      value: "3"
"#,
        r#"
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: app
    image: app:2
"#,
    ),
    case(
        "nulls already in the object stay",
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: p
  creationTimestamp: null
spec:
  containers:
  - name: app
    image: app
    resources: {}
"#,
        r#"
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  nodeName: n1
"#,
    ),
    case(
        "custom resources merge maps and replace lists",
        r#"
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
spec:
  size: 1
  config: {a: 1, b: 2}
  items:
  - name: x
    value: 1
  - name: why
    value: 2
"#,
        r#"
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
spec:
  config: {b: 3, c: 4}
  items:
  - name: why
    value: 20
"#,
    ),
    case(
        "types newer than the v1.21 schema replace their lists",
        r#"
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: h}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 3
  metrics:
  - type: Resource
    resource:
      name: cpu
      target: {type: Utilization, averageUtilization: 80}
"#,
        r#"
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: h}
spec:
  maxReplicas: 5
  metrics:
  - type: Resource
    resource:
      name: memory
      target: {type: Utilization, averageUtilization: 70}
"#,
    ),
    case(
        "cronjob pod template containers merge",
        r#"
apiVersion: batch/v1
kind: CronJob
metadata: {name: cj}
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: job
            image: job:1
            env:
            - {name: A, value: "1"}
"#,
        r#"
apiVersion: batch/v1
kind: CronJob
metadata: {name: cj}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: job
            env:
            - {name: B, value: "2"}
"#,
    ),
    case(
        "statefulset volumeClaimTemplates replace",
        r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - {name: db, image: pg}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
"#,
        r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      resources: {requests: {storage: 5Gi}}
"#,
    ),
    case(
        "ingress rules replace",
        r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: ing}
spec:
  rules:
  - host: a.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: web, port: {number: 80}}}
"#,
        r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: ing}
spec:
  rules:
  - host: b.example.com
"#,
    ),
    case(
        "list added where the object has none, with a replace item",
        r#"
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - {name: app, image: app}
"#,
        r#"
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: app
    env:
    - $patch: replace
    - {name: A, value: "1"}
"#,
    ),
    case(
        "explicit $patch: merge",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      $patch: merge
      containers:
      - $patch: merge
      - name: app
        image: app:7
"#,
    ),
    case(
        "same containerPort with two protocols",
        r#"
apiVersion: v1
kind: Pod
metadata: {name: dns}
spec:
  containers:
  - name: dns
    image: coredns
    ports:
    - {containerPort: 53, protocol: UDP, name: dns}
    - {containerPort: 53, protocol: TCP, name: dns-tcp}
    - {containerPort: 9153, protocol: TCP, name: metrics}
"#,
        r#"
apiVersion: v1
kind: Pod
metadata: {name: dns}
spec:
  containers:
  - name: dns
    ports:
    - {containerPort: 53, protocol: TCP, name: dns-tcp2}
    - {containerPort: 8080, name: health}
"#,
    ),
    case(
        "service ports with protocols",
        r#"
apiVersion: v1
kind: Service
metadata: {name: dns}
spec:
  ports:
  - {port: 53, protocol: UDP, name: dns}
  - {port: 53, protocol: TCP, name: dns-tcp}
"#,
        r#"
apiVersion: v1
kind: Service
metadata: {name: dns}
spec:
  type: NodePort
  ports:
  - {port: 53, protocol: UDP, nodePort: 30053}
"#,
    ),
    case(
        "resource embedded in a custom resource merges by its own type",
        r#"
apiVersion: example.com/v1
kind: Wrapper
metadata: {name: w}
spec:
  template:
    apiVersion: apps/v1
    kind: Deployment
    spec:
      template:
        spec:
          containers:
          - {name: a, image: a}
          - {name: b, image: b}
"#,
        r#"
apiVersion: example.com/v1
kind: Wrapper
metadata: {name: w}
spec:
  template:
    spec:
      template:
        spec:
          containers:
          - {name: b, image: b2}
"#,
    ),
    case(
        "env switches from valueFrom to value",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        env:
        - name: A
          value: null
          valueFrom:
            secretKeyRef: {name: s, key: a}
"#,
    ),
    case(
        "containers added to a template without any",
        r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds}
spec:
  selector: {matchLabels: {app: ds}}
  template:
    metadata: {labels: {app: ds}}
"#,
        r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds}
spec:
  template:
    spec:
      containers:
      - name: agent
        image: agent
        env:
        - {name: A, value: null}
        - {name: B, value: "b"}
      hostNetwork: true
"#,
    ),
    case(
        "patch item without its merge key",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - image: nameless
"#,
    ),
    case(
        "hostAliases by ip and topologySpreadConstraints by topologyKey",
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers: [{name: app, image: app}]
      hostAliases:
      - ip: 10.0.0.1
        hostnames: [a]
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}
"#,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      hostAliases:
      - ip: 10.0.0.2
        hostnames: [b]
      - ip: 10.0.0.1
        hostnames: [c]
      topologySpreadConstraints:
      - {maxSkew: 2, topologyKey: zone}
      - {maxSkew: 1, topologyKey: host, whenUnsatisfiable: ScheduleAnyway}
"#,
    ),
    case(
        "secret data merges",
        r#"
apiVersion: v1
kind: Secret
metadata: {name: s}
type: Opaque
data: {a: YQ==, b: Yg==}
"#,
        r#"
apiVersion: v1
kind: Secret
metadata: {name: s}
data: {b: null}
stringData: {c: see}
"#,
    ),
    case(
        "rbac rules replace, ownerReferences merge by uid",
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: r
  ownerReferences:
  - {apiVersion: v1, kind: ConfigMap, name: a, uid: "1"}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get]
"#,
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: r
  ownerReferences:
  - {apiVersion: v1, kind: ConfigMap, name: b, uid: "2"}
rules:
- apiGroups: [apps]
  resources: [deployments]
  verbs: [list]
"#,
    ),
    case(
        "empty lists in a patch",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      volumes: []
      containers:
      - name: app
        args: []
        env: []
"#,
    ),
    case(
        "empty map in a patch leaves the field",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        resources: {}
      securityContext: {}
"#,
    ),
    case(
        "deleting an item that is not there",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      volumes:
      - name: ghost
        $patch: delete
      containers:
      - name: ghost
        $patch: delete
"#,
    ),
    case(
        "the same item twice in a patch",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        image: first
      - name: new
        image: new-image
      - name: app
        image: second
"#,
    ),
    case(
        "service targetPort as name and number",
        r#"
apiVersion: v1
kind: Service
metadata: {name: svc}
spec:
  ports:
  - {name: http, port: 80, targetPort: 8080}
"#,
        r#"
apiVersion: v1
kind: Service
metadata: {name: svc}
spec:
  ports:
  - {port: 80, targetPort: http}
"#,
    ),
    case(
        "job template and labels null",
        r#"
apiVersion: batch/v1
kind: Job
metadata:
  name: j
  labels: {a: b}
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: j, image: j, command: [run]}
"#,
        r#"
apiVersion: batch/v1
kind: Job
metadata:
  name: j
  labels: null
spec:
  template:
    spec:
      containers:
      - {name: j, command: [run, --fast]}
"#,
    ),
    Case {
        name: "custom openapi makes a CRD list merge and drops built-in schema",
        original: r#"
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
spec:
  items:
  - name: x
    value: 1
  - name: why
    value: 2
"#,
        patch: r#"
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
spec:
  items:
  - name: why
    value: 20
  - name: z
    value: 3
"#,
        openapi: Some(WIDGET_OPENAPI),
    },
    Case {
        name: "custom openapi without built-in types replaces container lists",
        original: DEPLOYMENT,
        patch: r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        image: app:2
"#,
        openapi: Some(WIDGET_OPENAPI),
    },
];

const WIDGET_OPENAPI: &str = r##"{
  "definitions": {
    "com.example.v1.Widget": {
      "type": "object",
      "x-kubernetes-group-version-kind": [{"group": "example.com", "version": "v1", "kind": "Widget"}],
      "properties": {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"type": "object"},
        "spec": {"$ref": "#/definitions/com.example.v1.WidgetSpec"}
      }
    },
    "com.example.v1.WidgetSpec": {
      "type": "object",
      "properties": {
        "items": {
          "type": "array",
          "x-kubernetes-patch-strategy": "merge",
          "x-kubernetes-patch-merge-key": "name",
          "items": {"$ref": "#/definitions/com.example.v1.Item"}
        }
      }
    },
    "com.example.v1.Item": {
      "type": "object",
      "properties": {"name": {"type": "string"}, "value": {"type": "integer"}}
    }
  }
}"##;

fn kubectl() -> Option<PathBuf> {
    let dir = std::env::var_os("KILN_ORACLES")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/kiln-oracles"))
        })?;
    let path = dir.join("kubectl");
    path.exists().then_some(path)
}

fn kustomize(kubectl: &PathBuf, case: &Case) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("resource.yaml"), case.original).unwrap();
    std::fs::write(dir.path().join("patch.yaml"), case.patch).unwrap();
    let mut kustomization =
        "resources: [resource.yaml]\npatches:\n- path: patch.yaml\n".to_string();
    if let Some(openapi) = case.openapi {
        std::fs::write(dir.path().join("openapi.json"), openapi).unwrap();
        kustomization.push_str("openapi:\n  path: openapi.json\n");
    }
    std::fs::write(dir.path().join("kustomization.yaml"), kustomization).unwrap();
    let output = Command::new(kubectl)
        .arg("kustomize")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}: kubectl kustomize failed: {}",
        case.name,
        String::from_utf8_lossy(&output.stderr)
    );
    kiln_yaml::parse_documents(&String::from_utf8(output.stdout).unwrap())
        .unwrap()
        .into_iter()
        .map(|d| d.value)
        .collect()
}

fn kiln(case: &Case) -> Vec<Value> {
    let original = kiln_yaml::from_str(case.original).unwrap();
    let patch = kiln_yaml::from_str(case.patch).unwrap();
    let schema = match case.openapi {
        Some(doc) => kiln_smp::Schema::with_openapi(&serde_json::from_str(doc).unwrap()).unwrap(),
        None => kiln_smp::Schema::builtin().clone(),
    };
    let merged = kiln_smp::merge(&original, &patch, &schema)
        .unwrap_or_else(|e| panic!("{}: {e}", case.name));
    merged.into_iter().collect()
}

#[test]
fn strategic_merge_matches_kubectl_kustomize() {
    let Some(kubectl) = kubectl() else {
        eprintln!(
            "SKIPPED: kubectl not found under $KILN_ORACLES or ~/.cache/kiln-oracles; \
             run tests/install-oracles.sh to compare with kubectl kustomize"
        );
        return;
    };
    let mut failures = Vec::new();
    for case in CASES {
        let expected = kustomize(&kubectl, case);
        let actual = kiln(case);
        if expected != actual {
            failures.push(format!(
                "{}\n  kubectl: {}\n  kiln:    {}",
                case.name,
                serde_json::to_string(&expected).unwrap(),
                serde_json::to_string(&actual).unwrap()
            ));
        }
    }
    println!(
        "{} passed, {} failed",
        CASES.len() - failures.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "differences:\n{}", failures.join("\n"));
}

/// Patches kustomize rejects; kiln-smp must reject them too.
const FAILING: &[Case] = &[
    case(
        "unknown $patch value",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  strategy:
    $patch: remove
"#,
    ),
    case(
        "a scalar where the object has a map",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template: oops
"#,
    ),
    case(
        "a map where the object has a list",
        DEPLOYMENT,
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers: {name: app}
"#,
    ),
];

#[test]
fn rejected_patches_match_kubectl_kustomize() {
    let Some(kubectl) = kubectl() else {
        eprintln!("SKIPPED: kubectl not found; run tests/install-oracles.sh");
        return;
    };
    for case in FAILING {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("resource.yaml"), case.original).unwrap();
        std::fs::write(dir.path().join("patch.yaml"), case.patch).unwrap();
        std::fs::write(
            dir.path().join("kustomization.yaml"),
            "resources: [resource.yaml]\npatches:\n- path: patch.yaml\n",
        )
        .unwrap();
        let status = Command::new(&kubectl)
            .arg("kustomize")
            .arg(dir.path())
            .output()
            .unwrap()
            .status;
        assert!(!status.success(), "{}: kubectl accepted it", case.name);
        let original = kiln_yaml::from_str(case.original).unwrap();
        let patch = kiln_yaml::from_str(case.patch).unwrap();
        let result = kiln_smp::merge(&original, &patch, kiln_smp::Schema::builtin());
        assert!(
            result.is_err(),
            "{}: kiln-smp accepted it: {result:?}",
            case.name
        );
    }
}
