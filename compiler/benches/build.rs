//! Scale benchmark of the `kiln` binary: generates a project of 500 components and 20,000
//! objects (plain manifests of ten kinds) and measures, on the release binary:
//!
//! - a full build with an empty render cache (time and peak RSS of the process),
//! - a rebuild of the unchanged project with a warm cache,
//! - `kiln diff` of two such bundles that differ in 100 objects.
//!
//! Run: `cargo bench -p kiln --bench build` (prints a table; `KILN_BENCH_RUNS` sets repetitions).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const COMPONENTS: usize = 500;
const OBJECTS_PER_COMPONENT: usize = 40;
const FILES_PER_COMPONENT: usize = 4;

fn main() {
    let runs: usize = std::env::var("KILN_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let kiln = PathBuf::from(env!("CARGO_BIN_EXE_kiln"));
    let tmp = tempfile::tempdir().expect("temp dir");
    let project = tmp.path().join("project");
    generate(&project, None);
    let changed = tmp.path().join("changed");
    generate(&changed, Some(100));

    let mut full = Vec::new();
    for i in 0..runs {
        let cache = tmp.path().join(format!("cold-cache-{i}"));
        full.push(run(
            &kiln,
            &[
                "build",
                path(&project),
                "--out",
                path(&tmp.path().join("out-full")),
                "--cache-dir",
                path(&cache),
                "--quiet",
            ],
            0,
        ));
    }
    let rss_mb = peak_rss_children_mb();

    let cache = tmp.path().join("warm-cache");
    let out = tmp.path().join("out-a");
    run(
        &kiln,
        &[
            "build",
            path(&project),
            "--out",
            path(&out),
            "--cache-dir",
            path(&cache),
            "--quiet",
        ],
        0,
    );
    let mut rebuild = Vec::new();
    for _ in 0..runs {
        rebuild.push(run(
            &kiln,
            &[
                "build",
                path(&project),
                "--out",
                path(&out),
                "--cache-dir",
                path(&cache),
                "--quiet",
            ],
            0,
        ));
    }

    let build_args = [
        "build",
        path(&project),
        "--out",
        path(&out),
        "--cache-dir",
        path(&cache),
        "--quiet",
    ];
    let edited = project.join("manifests/c250/f0.yaml");
    let original = std::fs::read_to_string(&edited).expect("read component file");
    let mut one_changed = Vec::new();
    for i in 0..runs {
        let text = original.replace("value-0\n", &format!("value-0-edit-{i}\n"));
        assert_ne!(text, original, "the edit must change an object");
        std::fs::write(&edited, text).expect("edit component file");
        one_changed.push(run(&kiln, &build_args, 0));
    }
    std::fs::write(&edited, original).expect("restore component file");
    run(&kiln, &build_args, 0);

    let out_b = tmp.path().join("out-b");
    run(
        &kiln,
        &[
            "build",
            path(&changed),
            "--out",
            path(&out_b),
            "--cache-dir",
            path(&cache),
            "--quiet",
        ],
        0,
    );
    let mut diff = Vec::new();
    for _ in 0..runs {
        diff.push(run(
            &kiln,
            &["diff", path(&out), path(&out_b), "--quiet"],
            1,
        ));
    }

    println!(
        "kiln scale benchmark: {COMPONENTS} components, {} objects, {runs} runs each",
        COMPONENTS * OBJECTS_PER_COMPONENT
    );
    println!("| measurement | median | min | target |");
    println!("|---|---|---|---|");
    report("full build, empty cache", &mut full, "< 2 s");
    println!("| full build peak RSS | {rss_mb:.0} MB | | < 300 MB |");
    report("unchanged rebuild, warm cache", &mut rebuild, "< 150 ms");
    report(
        "rebuild after editing one component, warm cache",
        &mut one_changed,
        "—",
    );
    report("kiln diff, 100 changed objects", &mut diff, "< 500 ms");
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

fn run(kiln: &Path, args: &[&str], expect: i32) -> Duration {
    let start = Instant::now();
    let status = Command::new(kiln).args(args).status().expect("run kiln");
    let elapsed = start.elapsed();
    assert_eq!(status.code(), Some(expect), "kiln {args:?}");
    elapsed
}

fn report(name: &str, samples: &mut [Duration], target: &str) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "| {name} | {:.0} ms | {:.0} ms | {target} |",
        ms(samples[samples.len() / 2]),
        ms(samples[0])
    );
}

/// Peak resident set size of the largest child waited for so far, from getrusage.
fn peak_rss_children_mb() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; RUSAGE_CHILDREN is a valid selector.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()) };
    assert_eq!(rc, 0, "getrusage");
    // SAFETY: initialised by the successful call above.
    let usage = unsafe { usage.assume_init() };
    usage.ru_maxrss as f64 / 1024.0
}

/// Writes the project; `change` alters the data of that many ConfigMaps.
fn generate(root: &Path, change: Option<usize>) {
    let mut kdl = String::from(
        "project \"scale\"\nsource \"m\" path=\"./manifests\"\ntarget \"bench\" { vars { replicas 2 } }\n",
    );
    let mut changed = 0;
    for c in 0..COMPONENTS {
        let name = format!("c{c:03}");
        kdl.push_str(&format!("component \"{name}\" {{\n"));
        if !c.is_multiple_of(10) {
            kdl.push_str(&format!("    depends-on \"c{:03}\"\n", c - c % 10));
        }
        kdl.push_str(&format!("    manifests \"m:{name}\"\n}}\n"));
        let dir = root.join("manifests").join(&name);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let per_file = OBJECTS_PER_COMPONENT / FILES_PER_COMPONENT;
        for f in 0..FILES_PER_COMPONENT {
            let mut text = String::new();
            for o in 0..per_file {
                let i = f * per_file + o;
                let mut doc = object(&name, i);
                if i.is_multiple_of(10) && change.is_some_and(|n| changed < n) {
                    doc = doc.replace("value-", "changed-");
                    changed += 1;
                }
                text.push_str("---\n");
                text.push_str(&doc);
            }
            std::fs::write(dir.join(format!("f{f}.yaml")), text).expect("write");
        }
    }
    std::fs::write(root.join("kiln.kdl"), kdl).expect("write kiln.kdl");
}

fn object(component: &str, i: usize) -> String {
    let ns = format!("ns-{component}");
    let name = format!("{component}-o{i:02}");
    match i % 10 {
        0 => format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\ndata:\n  key: value-{i}\n  other: \"some longer text for {name}\"\n"
        ),
        1 => format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels: {{app: {name}}}\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n      containers:\n        - name: app\n          image: registry.example.com/{name}:1.0.{i}\n          ports:\n            - containerPort: 8080\n          resources:\n            requests: {{cpu: 100m, memory: 128Mi}}\n"
        ),
        2 => format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  selector: {{app: {name}}}\n  ports:\n    - port: 80\n      targetPort: 8080\n"
        ),
        3 => format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: {ns}\ntype: Opaque\nstringData:\n  password: not-a-real-secret-{i}\n"
        ),
        4 => format!(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}\n  namespace: {ns}\n"
        ),
        5 => format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: {name}\n  namespace: {ns}\nrules:\n  - apiGroups: [\"\"]\n    resources: [configmaps, secrets]\n    verbs: [get, list, watch]\n"
        ),
        6 => format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: {name}\n  namespace: {ns}\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: {name}\nsubjects:\n  - kind: ServiceAccount\n    name: {name}\n    namespace: {ns}\n"
        ),
        7 => format!(
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  rules:\n    - host: {name}.example.com\n      http:\n        paths:\n          - path: /\n            pathType: Prefix\n            backend:\n              service: {{name: {name}, port: {{number: 80}}}}\n"
        ),
        8 => format!(
            "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  schedule: \"*/5 * * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: OnFailure\n          containers:\n            - name: job\n              image: busybox:1.36\n              command: [sh, -c, \"echo {i}\"]\n"
        ),
        _ => format!(
            "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  minAvailable: 1\n  selector:\n    matchLabels: {{app: {name}}}\n"
        ),
    }
}
