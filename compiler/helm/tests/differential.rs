//! Differential tests: the project's fixture charts rendered by kiln and by the real
//! `helm template` must give the same objects (and, for these charts, the same text).

mod common;

use std::path::Path;
use std::process::Command;

use kiln_helm::{Chart, RenderOptions};

struct Case {
    release: &'static str,
    chart: &'static str,
    namespace: &'static str,
    values: &'static [&'static str],
    set: &'static [&'static str],
    crds: bool,
}

const CASES: &[Case] = &[
    Case {
        release: "web",
        chart: "shop",
        namespace: "shop",
        values: &["shop-values.yaml"],
        set: &["extra.list={x,y},backend.replicas=5,worker.enabled=false"],
        crds: true,
    },
    Case {
        release: "web",
        chart: "shop",
        namespace: "default",
        values: &[],
        set: &[],
        crds: false,
    },
    Case {
        release: "web",
        chart: "shop",
        namespace: "default",
        values: &[],
        set: &["tags.observability=false", "global.labels.team=null"],
        crds: true,
    },
    Case {
        release: "old",
        chart: "legacy",
        namespace: "legacy",
        values: &[],
        set: &[],
        crds: false,
    },
    Case {
        release: "old",
        chart: "legacy",
        namespace: "legacy",
        values: &[],
        set: &["sub.enabled=false"],
        crds: false,
    },
    Case {
        release: "r",
        chart: "idioms",
        namespace: "default",
        values: &[],
        set: &[],
        crds: false,
    },
];

fn helm_output(helm: &Path, chart: &Path, c: &Case) -> String {
    let mut cmd = Command::new(helm);
    cmd.current_dir(common::fixtures())
        .args(["template", c.release])
        .arg(chart)
        .args(["--namespace", c.namespace, "--kube-version", "1.31.0"]);
    for v in c.values {
        cmd.args(["-f", v]);
    }
    for s in c.set {
        cmd.args(["--set", s]);
    }
    if c.crds {
        cmd.arg("--include-crds");
    }
    let out = cmd.output().expect("run helm");
    assert!(
        out.status.success(),
        "helm failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn kiln_output(chart: &Path, c: &Case) -> String {
    let opts = RenderOptions {
        release: c.release.into(),
        namespace: c.namespace.into(),
        kube_version: Some("1.31.0".into()),
        values_files: c
            .values
            .iter()
            .map(|v| common::fixtures().join(v))
            .collect(),
        set: c.set.iter().map(|s| s.to_string()).collect(),
        include_crds: c.crds,
        ..RenderOptions::default()
    };
    let loaded = Chart::load(chart).expect("load chart");
    kiln_helm::render::render_chart(&loaded, &opts)
        .unwrap_or_else(|e| panic!("kiln failed: {e:?}"))
        .to_helm_output()
}

/// The documents of a stream as canonical JSON strings, sorted (a multiset of objects).
fn objects(text: &str) -> Vec<String> {
    let docs: Vec<serde_json::Value> =
        serde_saphyr::from_multiple(text).expect("valid YAML stream");
    let mut out: Vec<String> = docs
        .into_iter()
        .filter(|d| !d.is_null())
        .map(|d| d.to_string())
        .collect();
    out.sort();
    out
}

fn check(chart: &Path, c: &Case) {
    let Some(helm) = common::helm() else {
        eprintln!(
            "\n*** SKIPPING differential test: reference helm not found (set KILN_ORACLES) ***\n"
        );
        return;
    };
    let expected = helm_output(&helm, chart, c);
    let actual = kiln_output(chart, c);
    assert_eq!(
        objects(&actual),
        objects(&expected),
        "objects differ for {} {:?}",
        c.chart,
        c.set
    );
    assert_eq!(actual, expected, "text differs for {} {:?}", c.chart, c.set);
}

#[test]
fn fixture_charts_render_like_helm() {
    for c in CASES {
        check(&common::fixtures().join(c.chart), c);
    }
}

#[test]
fn packaged_chart_renders_like_its_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tgz = dir.path().join("shop-1.2.3.tgz");
    let file = std::fs::File::create(&tgz).expect("create tgz");
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.append_dir_all("shop", common::fixtures().join("shop"))
        .expect("pack");
    tar.into_inner().expect("tar").finish().expect("gzip");
    // `.helmignore` is not applied to archives, but the ignored files do not change the output.
    check(&tgz, &CASES[1]);
}

#[test]
fn inline_values_render_like_a_values_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("values.yaml");
    std::fs::write(&file, "count: 3\nbig: 1000000\nlist: [1, 2.5]\n").expect("write");
    let chart = Chart::load(&common::fixtures().join("setvalues")).expect("load");
    let render = |opts: RenderOptions| {
        kiln_helm::render::render_chart(&chart, &opts)
            .expect("render")
            .to_helm_output()
    };
    let from_file = render(RenderOptions {
        values_files: vec![file],
        ..RenderOptions::default()
    });
    let inline = render(RenderOptions {
        values: serde_json::json!({"count": 3, "big": 1000000, "list": [1, 2.5]}),
        ..RenderOptions::default()
    });
    assert_eq!(inline, from_file);
    assert!(inline.contains("count=float64"), "{inline}");
}

#[test]
fn crd_files_that_are_not_utf8_print_byte_for_byte_like_helm() {
    let Some(helm) = common::helm() else {
        eprintln!(
            "\n*** SKIPPING differential test: reference helm not found (set KILN_ORACLES) ***\n"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let chart = dir.path().join("c");
    std::fs::create_dir_all(chart.join("crds")).expect("mkdir");
    std::fs::create_dir_all(chart.join("templates")).expect("mkdir");
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    )
    .expect("write");
    std::fs::write(
        chart.join("crds/a.yaml"),
        b"kind: A\nnote: \"caf\xe9 \xff\"\n \n",
    )
    .expect("write");
    let out = Command::new(helm)
        .args(["template", "r"])
        .arg(&chart)
        .arg("--include-crds")
        .output()
        .expect("run helm");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let loaded = Chart::load(&chart).expect("load chart");
    let rendered = kiln_helm::render::render_chart(
        &loaded,
        &RenderOptions {
            release: "r".into(),
            include_crds: true,
            ..RenderOptions::default()
        },
    )
    .expect("render");
    let mut mine = Vec::new();
    rendered.write_helm_output(&mut mine).expect("write");
    assert_eq!(
        String::from_utf8_lossy(&mine),
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(mine, out.stdout);
}
