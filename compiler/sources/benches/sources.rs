//! Benchmarks of kiln-sources against real servers on loopback:
//! - warm-cache resolution of a project with 50 sources (Git, Helm repository, OCI), `--locked`;
//! - cold fetch of a medium Git repository through `git daemon`, next to `git clone --depth 1`.
//!
//! Run with `cargo bench -p kiln-sources`; figures go to BENCHMARKS.md.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use kiln_sources::*;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn settings(registry_port: u16) -> Settings {
    Settings {
        insecure_registries: vec![format!("127.0.0.1:{registry_port}")],
        ..Settings::default()
    }
}

fn warm_50(root: &Path) {
    let helm = helm().expect("helm is needed for the benchmark");
    // Git: one repository with 30 directories, 30 sources each taking one directory.
    let repos = root.join("repos");
    let work = repos.join("many-work");
    for i in 0..30 {
        let d = work.join(format!("dir{i:02}"));
        std::fs::create_dir_all(&d).unwrap();
        for f in 0..10 {
            std::fs::write(
                d.join(format!("m{f}.yaml")),
                format!("kind: ConfigMap\nmetadata:\n  name: c{i}-{f}\n"),
            )
            .unwrap();
        }
    }
    git(&work, &["init", "-q", "-b", "main"]);
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-qm", "many"]);
    git(&repos, &["clone", "-q", "--bare", "many-work", "many.git"]);
    let daemon = git_daemon(&repos);
    // Helm repository: 10 chart versions.
    let charts = root.join("charts");
    std::fs::create_dir_all(&charts).unwrap();
    let files = static_files(&charts, Arc::new(Faults::default()));
    let versions: Vec<String> = (0..10).map(|i| format!("1.{i}.0")).collect();
    let refs: Vec<&str> = versions.iter().map(String::as_str).collect();
    helm_repo(&helm, root, &charts, &files.url(), &refs);
    // OCI: 10 generic artifacts.
    let reg = registry(&root.join("registry"));
    let engine = Sources::new(Cache::open(root.join("cache")).unwrap(), settings(reg.port));
    for i in 0..10 {
        let d = root.join(format!("artifact{i}"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join("cm.yaml"),
            format!("kind: ConfigMap\nmetadata:\n  name: a{i}\n"),
        )
        .unwrap();
        engine
            .push_artifact(
                &d,
                &format!("oci://127.0.0.1:{}/bench/a{i}:v1", reg.port),
                Default::default(),
            )
            .unwrap();
    }
    let mut specs = Vec::new();
    for i in 0..30 {
        specs.push(
            SourceSpec::git(
                &format!("git{i:02}"),
                &format!("git://127.0.0.1:{}/many.git", daemon.port),
                GitSelect::Ref("main".into()),
            )
            .with_path(&format!("dir{i:02}")),
        );
    }
    for v in &versions {
        specs.push(SourceSpec::helm_repo(
            &format!("chart-{v}"),
            &files.url(),
            "demo",
            Some(v),
        ));
    }
    for i in 0..10 {
        specs.push(SourceSpec::oci(
            &format!("oci{i}"),
            &format!("oci://127.0.0.1:{}/bench/a{i}", reg.port),
            OciSelect::Tag("v1".into()),
        ));
    }
    let t = Instant::now();
    let first = engine
        .resolve(&specs, &Lock::default(), &Mode::Lock)
        .unwrap();
    let cold = t.elapsed();
    drop((daemon, files, reg));
    let text = first.lock.to_text();
    let mut runs = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let lock = Lock::parse(&text, "kiln.lock").unwrap();
        let r = engine.resolve(&specs, &lock, &Mode::Locked).unwrap();
        runs.push(t.elapsed());
        assert_eq!(r.paths.len(), 50);
    }
    let min = *runs.iter().min().unwrap();
    let med = median(runs);
    println!(
        "warm --locked resolution, 50 sources (30 git, 10 helm-repo, 10 oci), servers stopped:"
    );
    println!(
        "  median {} (min {}) over 20 runs; cold resolution of the same project: {}",
        ms(med),
        ms(min),
        ms(cold)
    );
}

fn cold_git(root: &Path) {
    // A medium repository: 3000 files in 60 directories (~24 MB), 20 commits of history.
    let repos = root.join("repos");
    let work = repos.join("medium-work");
    std::fs::create_dir_all(&work).unwrap();
    git(&work, &["init", "-q", "-b", "main"]);
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for commit in 0..20 {
        for f in 0..150 {
            let n = commit * 150 + f;
            let d = work.join(format!("d{:02}", n % 60));
            std::fs::create_dir_all(&d).unwrap();
            let mut text = String::new();
            while text.len() < 8000 {
                text.push_str(&format!("{:016x} ", next()));
            }
            std::fs::write(d.join(format!("f{n:05}.txt")), text).unwrap();
        }
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-qm", &format!("c{commit}")]);
    }
    git(
        &repos,
        &["clone", "-q", "--bare", "medium-work", "medium.git"],
    );
    let daemon = git_daemon(&repos);
    let url = format!("git://127.0.0.1:{}/medium.git", daemon.port);
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for i in 0..5 {
        let dest = root.join(format!("clone{i}"));
        let t = Instant::now();
        run(Command::new("git").args([
            "clone",
            "-q",
            "--depth",
            "1",
            &url,
            dest.to_str().unwrap(),
        ]));
        theirs.push(t.elapsed());
        let engine = Sources::new(
            Cache::open(root.join(format!("cold-cache{i}"))).unwrap(),
            Settings::default(),
        );
        let t = Instant::now();
        let r = engine
            .resolve(
                &[SourceSpec::git(
                    "medium",
                    &url,
                    GitSelect::Ref("main".into()),
                )],
                &Lock::default(),
                &Mode::Lock,
            )
            .unwrap();
        ours.push(t.elapsed());
        assert_eq!(
            tree_digest(&r.paths["medium"]).unwrap(),
            r.lock.sources["medium"].content
        );
    }
    let (o, g) = (median(ours), median(theirs));
    println!("cold fetch of a medium repository (3000 files, 24 MB, 20 commits) over git daemon:");
    println!(
        "  kiln-sources (ls-refs + shallow fetch + write tree + blake3) median {}; git clone --depth 1 median {}; ratio {:.2}",
        ms(o),
        ms(g),
        o.as_secs_f64() / g.as_secs_f64()
    );
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument filters like a name.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let want = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));
    if want("warm_50") {
        let t = tempfile::tempdir().unwrap();
        warm_50(t.path());
    }
    if want("cold_git") {
        let t = tempfile::tempdir().unwrap();
        cold_git(t.path());
    }
}
