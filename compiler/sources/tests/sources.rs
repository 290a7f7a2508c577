//! Library-level tests of kiln-sources against real servers on loopback.

mod common;
#[path = "common/tls.rs"]
mod https;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use common::*;
use kiln_sources::*;

fn settings(insecure: &[u16]) -> Settings {
    Settings {
        jobs: 4,
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(3),
        git_timeout: Duration::from_secs(30),
        retries: 2,
        backoff: Duration::from_millis(20),
        ca_certificates: vec![],
        insecure_registries: insecure.iter().map(|p| format!("127.0.0.1:{p}")).collect(),
        progress: None,
    }
}

fn engine(cache: &Path, insecure: &[u16]) -> Sources {
    Sources::new(Cache::open(cache).unwrap(), settings(insecure))
}

fn only_error(e: ResolveError) -> SourceError {
    assert_eq!(e.errors.len(), 1, "{e:?}");
    e.errors.into_iter().next().unwrap()
}

fn content_entries(cache: &Path) -> usize {
    std::fs::read_dir(cache.join("content")).unwrap().count()
}

fn staging_left(cache: &Path) -> usize {
    std::fs::read_dir(cache.join("tmp")).unwrap().count()
}

mod git {
    use super::*;

    #[test]
    fn git_daemon_refs_tags_semver_commit_and_path() {
        let t = tempfile::tempdir().unwrap();
        let repos = t.path().join("repos");
        std::fs::create_dir(&repos).unwrap();
        make_repo(&repos, "app");
        let daemon = git_daemon(&repos);
        let url = format!("git://127.0.0.1:{}/app.git", daemon.port);
        let work = repos.join("app-work");
        let head = git(&work, &["rev-parse", "HEAD"]);
        let first = git(&work, &["rev-parse", "v1.0.0"]);
        let specs = vec![
            SourceSpec::git("main", &url, GitSelect::Ref("main".into())),
            SourceSpec::git("default", &url, GitSelect::DefaultBranch),
            SourceSpec::git("tag", &url, GitSelect::Ref("v1.0.0".into())),
            SourceSpec::git("annotated", &url, GitSelect::Ref("v1.1.0".into())),
            SourceSpec::git("semver", &url, GitSelect::Semver("^1.0".into())),
            SourceSpec::git("pinned", &url, GitSelect::Commit(first.clone())),
            SourceSpec::git("ref-sha", &url, GitSelect::Ref(first.clone())),
            SourceSpec::git("sub", &url, GitSelect::Ref("main".into())).with_path("deploy"),
        ];
        let cache = t.path().join("cache");
        let r = engine(&cache, &[])
            .resolve(&specs, &Lock::default(), &Mode::Lock)
            .unwrap();
        let commit = |n: &str| match &r.lock.sources[n].pin {
            Pin::Git { commit } => commit.clone(),
            p => panic!("{p:?}"),
        };
        assert_eq!(commit("main"), head);
        assert_eq!(commit("default"), head);
        assert_eq!(commit("tag"), first);
        assert_eq!(
            commit("annotated"),
            head,
            "annotated tags are peeled to their commit"
        );
        assert_eq!(commit("semver"), head, "^1.0 picks v1.1.0, not v2.0.0-rc.1");
        assert_eq!(commit("pinned"), first);
        assert_eq!(commit("ref-sha"), first, "ref= accepts a full commit SHA");
        assert_eq!(
            std::fs::read_to_string(r.paths["tag"].join("README.md")).unwrap(),
            "v1.0.0\n"
        );
        assert!(!r.paths["tag"].join("deploy/extra.yaml").exists());
        assert!(r.paths["sub"].join("namespace.yaml").is_file());
        assert!(
            !r.paths["sub"].join("README.md").exists(),
            "only the sub-path is content"
        );
        assert_eq!(
            r.lock.sources["main"].content,
            r.lock.sources["semver"].content
        );
        assert_eq!(
            tree_digest(&r.paths["sub"]).unwrap(),
            r.lock.sources["sub"].content
        );
        assert_eq!(r.changes.len(), specs.len());
        // The cache repository is shallow: only the wanted commits were fetched.
        let git_dirs: Vec<_> = std::fs::read_dir(cache.join("git")).unwrap().collect();
        assert_eq!(git_dirs.len(), 1);
        let shallow = git_dirs[0].as_ref().unwrap().path().join("shallow");
        assert!(shallow.exists(), "fetches are shallow");
    }

    #[test]
    fn smart_http_and_local_paths() {
        let t = tempfile::tempdir().unwrap();
        let repos = t.path().join("repos");
        std::fs::create_dir(&repos).unwrap();
        let bare = make_repo(&repos, "app");
        let http = git_http(&repos);
        let head = git(&repos.join("app-work"), &["rev-parse", "HEAD"]);
        let specs = vec![
            SourceSpec::git(
                "http",
                &format!("{}/app.git", http.url()),
                GitSelect::Semver(">=1.1 <2".into()),
            ),
            SourceSpec::git(
                "path",
                bare.to_str().unwrap(),
                GitSelect::Ref("main".into()),
            ),
            SourceSpec::git(
                "file",
                &format!("file://{}", bare.display()),
                GitSelect::Ref("main".into()),
            ),
        ];
        let r = engine(&t.path().join("cache"), &[])
            .resolve(&specs, &Lock::default(), &Mode::Lock)
            .unwrap();
        for name in ["http", "path", "file"] {
            assert_eq!(
                r.lock.sources[name].pin,
                Pin::Git {
                    commit: head.clone()
                },
                "{name}"
            );
        }
        assert_eq!(
            r.lock.sources["http"].content,
            r.lock.sources["path"].content
        );
    }

    #[test]
    fn credentials_are_never_sent_over_plain_http() {
        let t = tempfile::tempdir().unwrap();
        let repos = t.path().join("repos");
        std::fs::create_dir(&repos).unwrap();
        make_repo(&repos, "app");
        let http = git_http_auth(&repos, Some("git-user:git-token"));
        let spec = [SourceSpec::git(
            "private",
            &format!("{}/app.git", http.url()),
            GitSelect::Ref("main".into()),
        )];
        let cache = t.path().join("cache");
        let e = only_error(
            engine(&cache, &[])
                .resolve(&spec, &Lock::default(), &Mode::Lock)
                .unwrap_err(),
        );
        assert!(matches!(&e, SourceError::Git { .. }), "{e:?}");
        // SAFETY: the variable name is unique to this test's port.
        unsafe {
            std::env::set_var(
                credentials::env_var_for(&format!("127.0.0.1:{}", http.port)),
                "git-user:git-token",
            )
        };
        let e = only_error(
            engine(&cache, &[])
                .resolve(&spec, &Lock::default(), &Mode::Lock)
                .unwrap_err(),
        );
        use miette::Diagnostic as _;
        assert!(e.help().unwrap().to_string().contains("https://"), "{e:?}");
        assert!(!format!("{e:?}").contains("git-token"));
    }

    #[test]
    fn concurrent_builds_share_the_cache() {
        let t = tempfile::tempdir().unwrap();
        let repos = t.path().join("repos");
        std::fs::create_dir(&repos).unwrap();
        make_repo(&repos, "app");
        let daemon = git_daemon(&repos);
        let specs = vec![
            SourceSpec::git(
                "a",
                &format!("git://127.0.0.1:{}/app.git", daemon.port),
                GitSelect::Ref("main".into()),
            ),
            SourceSpec::git(
                "b",
                &format!("git://127.0.0.1:{}/app.git", daemon.port),
                GitSelect::Ref("v1.0.0".into()),
            ),
        ];
        let cache = t.path().join("cache");
        let results: Vec<Lock> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        engine(&cache, &[])
                            .resolve(&specs, &Lock::default(), &Mode::Lock)
                            .unwrap()
                            .lock
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(results.windows(2).all(|w| w[0] == w[1]));
        assert_eq!(content_entries(&cache), 2);
        assert_eq!(staging_left(&cache), 0);
    }

    #[test]
    fn hanging_git_server_times_out() {
        let t = tempfile::tempdir().unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        // Accepts connections and never answers.
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for c in listener.incoming().take(4) {
                held.push(c);
            }
            std::thread::sleep(Duration::from_secs(30));
        });
        let mut s = settings(&[]);
        s.git_timeout = Duration::from_millis(700);
        let started = std::time::Instant::now();
        let e = only_error(
            Sources::new(Cache::open(t.path()).unwrap(), s)
                .resolve(
                    &[SourceSpec::git(
                        "slow",
                        &format!("git://127.0.0.1:{port}/app.git"),
                        GitSelect::Ref("main".into()),
                    )],
                    &Lock::default(),
                    &Mode::Lock,
                )
                .unwrap_err(),
        );
        assert!(
            matches!(&e, SourceError::Timeout { source_name, .. } if source_name == "slow"),
            "{e:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn missing_ref_and_unmatched_semver_are_diagnosed() {
        let t = tempfile::tempdir().unwrap();
        let repos = t.path().join("repos");
        std::fs::create_dir(&repos).unwrap();
        make_repo(&repos, "app");
        let daemon = git_daemon(&repos);
        let url = format!("git://127.0.0.1:{}/app.git", daemon.port);
        let e = engine(&t.path().join("cache"), &[])
            .resolve(
                &[
                    SourceSpec::git("nope", &url, GitSelect::Ref("no-such-branch".into())),
                    SourceSpec::git("future", &url, GitSelect::Semver("^3".into())),
                ],
                &Lock::default(),
                &Mode::Lock,
            )
            .unwrap_err();
        assert_eq!(e.errors.len(), 2, "every failing source is reported");
        assert!(
            matches!(&e.errors[0], SourceError::NotFound { source_name, what, .. } if source_name == "nope" && what.contains("no-such-branch")),
            "{:?}",
            e.errors[0]
        );
        match &e.errors[1] {
            SourceError::NoMatchingVersion {
                available, url: u, ..
            } => {
                assert_eq!(available, &["2.0.0-rc.1", "1.1.0", "1.0.0"]);
                assert_eq!(u, &url);
            }
            other => panic!("{other:?}"),
        }
        use miette::Diagnostic as _;
        let help = e.errors[1].help().unwrap().to_string();
        assert!(
            help.contains("newest available: 2.0.0-rc.1, 1.1.0"),
            "{help}"
        );
    }

    #[test]
    fn update_moves_only_the_named_source_and_reports_it() {
        let t = tempfile::tempdir().unwrap();
        let repos = t.path().join("repos");
        std::fs::create_dir(&repos).unwrap();
        make_repo(&repos, "app");
        let daemon = git_daemon(&repos);
        let url = format!("git://127.0.0.1:{}/app.git", daemon.port);
        let specs = vec![
            SourceSpec::git("a", &url, GitSelect::Semver("1.x".into())),
            SourceSpec::git("b", &url, GitSelect::Semver("1.x".into())),
        ];
        let events = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = events.clone();
        let mut s = settings(&[]);
        s.progress = Some(Progress(Arc::new(move |name: &str, stage| {
            sink.lock().unwrap().push((name.to_string(), stage))
        })));
        let sources = Sources::new(Cache::open(t.path().join("cache")).unwrap(), s);
        let first = sources
            .resolve(&specs, &Lock::default(), &Mode::Lock)
            .unwrap();
        let seen: Vec<Stage> = events
            .lock()
            .unwrap()
            .iter()
            .filter(|(n, _)| n == "a")
            .map(|(_, s)| *s)
            .collect();
        assert_eq!(seen, [Stage::Resolving, Stage::Fetching, Stage::Ready]);
        let new_commit = add_release(&repos, "app", "v1.2.0");
        let again = sources.resolve(&specs, &first.lock, &Mode::Lock).unwrap();
        assert!(again.changes.is_empty(), "`kiln lock` keeps fresh entries");
        let updated = sources
            .resolve(
                &specs,
                &first.lock,
                &Mode::Update(Which::Only(vec!["a".into()])),
            )
            .unwrap();
        assert_eq!(
            updated.lock.sources["a"].pin,
            Pin::Git { commit: new_commit }
        );
        assert_eq!(updated.lock.sources["b"], first.lock.sources["b"]);
        assert_eq!(updated.changes.len(), 1);
        let line = updated.changes[0].to_string();
        assert!(line.starts_with("updated a "), "{line}");
        assert_eq!(
            std::fs::read_to_string(updated.paths["a"].join("README.md")).unwrap(),
            "v1.2.0\n"
        );
        // `--locked` with an empty cache fetches the pinned commit, not the moved branch tip.
        let fresh = engine(&t.path().join("other-cache"), &[]);
        let locked = fresh.resolve(&specs, &first.lock, &Mode::Locked).unwrap();
        assert_eq!(
            std::fs::read_to_string(locked.paths["a"].join("README.md")).unwrap(),
            "v1.1.0\n"
        );
    }
}

mod helm {
    use super::*;

    struct Repo {
        _t: tempfile::TempDir,
        dir: std::path::PathBuf,
        cache: std::path::PathBuf,
        faults: Arc<Faults>,
        server: HttpServer,
    }

    fn repo(versions: &[&str]) -> Option<Repo> {
        let helm = helm()?;
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("repo");
        std::fs::create_dir(&dir).unwrap();
        let faults = Arc::new(Faults::default());
        let server = static_files(&dir, faults.clone());
        helm_repo(&helm, t.path(), &dir, &server.url(), versions);
        Some(Repo {
            cache: t.path().join("cache"),
            _t: t,
            dir,
            faults,
            server,
        })
    }

    #[test]
    fn constraint_selects_chart_and_content_is_the_chart() {
        let Some(r) = repo(&["1.0.0", "1.2.0", "1.3.0-rc.1", "2.0.0"]) else {
            return;
        };
        let specs = vec![
            SourceSpec::helm_repo("caret", &r.server.url(), "demo", Some("^1.0")),
            SourceSpec::helm_repo("pre", &r.server.url(), "demo", Some(">=1.3.0-0 <2.0.0-0")),
            SourceSpec::helm_repo("newest", &r.server.url(), "demo", None),
            SourceSpec::helm_repo("exact", &r.server.url(), "demo", Some("1.0.0")),
        ];
        let res = engine(&r.cache, &[])
            .resolve(&specs, &Lock::default(), &Mode::Lock)
            .unwrap();
        let version = |n: &str| match &res.lock.sources[n].pin {
            Pin::HelmRepo { version, .. } => version.clone(),
            p => panic!("{p:?}"),
        };
        assert_eq!(version("caret"), "1.2.0");
        assert_eq!(version("pre"), "1.3.0-rc.1");
        assert_eq!(version("newest"), "2.0.0");
        assert_eq!(version("exact"), "1.0.0");
        let chart = std::fs::read_to_string(res.paths["caret"].join("Chart.yaml")).unwrap();
        assert!(chart.contains("version: 1.2.0"), "{chart}");
        assert!(
            res.paths["caret"]
                .join("templates/configmap.yaml")
                .is_file()
        );
        let Pin::HelmRepo { url, digest, .. } = &res.lock.sources["caret"].pin else {
            unreachable!()
        };
        assert_eq!(url, &format!("{}/demo-1.2.0.tgz", r.server.url()));
        let index = std::fs::read_to_string(r.dir.join("index.yaml")).unwrap();
        assert!(index.contains(digest.trim_start_matches("sha256:")));
    }

    #[test]
    fn corrupted_cache_entry_is_fetched_again() {
        let Some(r) = repo(&["1.0.0"]) else { return };
        let spec = [SourceSpec::helm_repo("c", &r.server.url(), "demo", None)];
        let first = engine(&r.cache, &[])
            .resolve(&spec, &Lock::default(), &Mode::Lock)
            .unwrap();
        let values = first.paths["c"].join("values.yaml");
        std::fs::write(&values, "message: tampered\n").unwrap();
        let hits = r.faults.hits.load(Ordering::SeqCst);
        let again = engine(&r.cache, &[])
            .resolve(&spec, &first.lock, &Mode::Locked)
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(again.paths["c"].join("values.yaml")).unwrap(),
            "message: hello\n"
        );
        assert_eq!(
            r.faults.hits.load(Ordering::SeqCst),
            hits + 1,
            "only the chart was downloaded again"
        );
        assert_eq!(
            tree_digest(&again.paths["c"]).unwrap(),
            first.lock.sources["c"].content
        );
    }

    #[test]
    fn basic_auth_from_the_environment() {
        let Some(r) = repo(&["1.0.0"]) else { return };
        *r.faults.basic_auth.lock().unwrap() = Some("alice:s3cret".into());
        let spec = [SourceSpec::helm_repo("c", &r.server.url(), "demo", None)];
        let e = only_error(
            engine(&r.cache, &[])
                .resolve(&spec, &Lock::default(), &Mode::Lock)
                .unwrap_err(),
        );
        assert!(
            matches!(&e, SourceError::Http { status: 401, hint, .. } if hint.contains("KILN_AUTH_127_0_0_1_")),
            "{e:?}"
        );
        // SAFETY: the variable name is unique to this test's port.
        unsafe {
            std::env::set_var(
                credentials::env_var_for(&format!("127.0.0.1:{}", r.server.port)),
                "alice:s3cret",
            )
        };
        let res = engine(&r.cache, &[])
            .resolve(&spec, &Lock::default(), &Mode::Lock)
            .unwrap();
        assert!(
            !res.lock.to_text().contains("s3cret"),
            "credentials never reach the lock"
        );
    }

    #[test]
    fn no_match_and_missing_chart() {
        let Some(r) = repo(&["1.0.0", "1.1.0"]) else {
            return;
        };
        let e = engine(&r.cache, &[])
            .resolve(
                &[
                    SourceSpec::helm_repo("old", &r.server.url(), "demo", Some("^3")),
                    SourceSpec::helm_repo("other", &r.server.url(), "nginx", None),
                ],
                &Lock::default(),
                &Mode::Lock,
            )
            .unwrap_err();
        assert!(
            matches!(&e.errors[0], SourceError::NoMatchingVersion { available, .. } if available == &["1.1.0", "1.0.0"]),
            "{:?}",
            e.errors[0]
        );
        assert!(
            matches!(&e.errors[1], SourceError::NotFound { what, hint, .. } if what == "chart `nginx`" && hint.contains("demo")),
            "{:?}",
            e.errors[1]
        );
    }

    #[test]
    fn chart_archive_404() {
        let Some(r) = repo(&["1.0.0"]) else { return };
        std::fs::remove_file(r.dir.join("demo-1.0.0.tgz")).unwrap();
        let e = only_error(
            engine(&r.cache, &[])
                .resolve(
                    &[SourceSpec::helm_repo("c", &r.server.url(), "demo", None)],
                    &Lock::default(),
                    &Mode::Lock,
                )
                .unwrap_err(),
        );
        assert!(
            matches!(&e, SourceError::NotFound { url, .. } if url.ends_with("demo-1.0.0.tgz")),
            "{e:?}"
        );
    }

    #[test]
    fn wrong_digest_in_index_is_refused_and_nothing_is_cached() {
        let Some(r) = repo(&["1.0.0"]) else { return };
        let index = std::fs::read_to_string(r.dir.join("index.yaml")).unwrap();
        let digest_line = index
            .lines()
            .find(|l| l.trim_start().starts_with("digest:"))
            .unwrap();
        let wrong = index.replace(digest_line, &format!("    digest: {}", "0".repeat(64)));
        std::fs::write(r.dir.join("index.yaml"), wrong).unwrap();
        let e = only_error(
            engine(&r.cache, &[])
                .resolve(
                    &[SourceSpec::helm_repo("c", &r.server.url(), "demo", None)],
                    &Lock::default(),
                    &Mode::Lock,
                )
                .unwrap_err(),
        );
        assert!(
            matches!(&e, SourceError::DigestMismatch { expected, .. } if expected.ends_with(&"0".repeat(64))),
            "{e:?}"
        );
        assert_eq!(content_entries(&r.cache), 0);
        assert_eq!(staging_left(&r.cache), 0);
    }

    /// Replaces the archive of 1.0.0 with `bytes` and fixes the index digest to match, so
    /// only the archive's content is wrong.
    fn serve_archive(r: &Repo, bytes: &[u8]) {
        use sha2::Digest as _;
        let index = std::fs::read_to_string(r.dir.join("index.yaml")).unwrap();
        let digest_line = index
            .lines()
            .find(|l| l.trim_start().starts_with("digest:"))
            .unwrap();
        let fixed = index.replace(
            digest_line,
            &format!("    digest: {}", hex::encode(sha2::Sha256::digest(bytes))),
        );
        std::fs::write(r.dir.join("index.yaml"), fixed).unwrap();
        std::fs::write(r.dir.join("demo-1.0.0.tgz"), bytes).unwrap();
    }

    #[test]
    fn corrupted_tarball_leaves_no_partial_entry() {
        let Some(r) = repo(&["1.0.0"]) else { return };
        let good = std::fs::read(r.dir.join("demo-1.0.0.tgz")).unwrap();
        serve_archive(&r, &good[..good.len() / 2]);
        let e = only_error(
            engine(&r.cache, &[])
                .resolve(
                    &[SourceSpec::helm_repo("c", &r.server.url(), "demo", None)],
                    &Lock::default(),
                    &Mode::Lock,
                )
                .unwrap_err(),
        );
        assert!(matches!(&e, SourceError::BadArchive { .. }), "{e:?}");
        assert_eq!(content_entries(&r.cache), 0);
        assert_eq!(staging_left(&r.cache), 0);
    }

    #[test]
    fn archive_escaping_its_directory_is_rejected() {
        let Some(r) = repo(&["1.0.0"]) else { return };
        for (path, link) in [
            ("demo/../../evil", None),
            ("demo/templates/l", Some("../../../etc/passwd")),
        ] {
            let mut b = tar::Builder::new(flate2::write::GzEncoder::new(
                Vec::new(),
                flate2::Compression::fast(),
            ));
            let mut h = tar::Header::new_gnu();
            h.set_mode(0o644);
            h.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
            match link {
                Some(target) => {
                    h.set_entry_type(tar::EntryType::Symlink);
                    h.set_link_name(target).unwrap();
                    h.set_size(0);
                    h.set_cksum();
                    b.append(&h, std::io::empty()).unwrap();
                }
                None => {
                    h.set_size(4);
                    h.set_cksum();
                    b.append(&h, &b"evil"[..]).unwrap();
                }
            }
            serve_archive(&r, &b.into_inner().unwrap().finish().unwrap());
            let e = only_error(
                engine(&r.cache, &[])
                    .resolve(
                        &[SourceSpec::helm_repo("c", &r.server.url(), "demo", None)],
                        &Lock::default(),
                        &Mode::Lock,
                    )
                    .unwrap_err(),
            );
            assert!(matches!(&e, SourceError::UnsafeArchive { .. }), "{e:?}");
            assert_eq!(content_entries(&r.cache), 0);
            assert_eq!(staging_left(&r.cache), 0);
            assert!(
                !r.cache.join("evil").exists() && !r.cache.parent().unwrap().join("evil").exists()
            );
        }
    }

    #[test]
    fn server_errors_are_retried() {
        let Some(r) = repo(&["1.0.0"]) else { return };
        r.faults.fail_next.store(2, Ordering::SeqCst);
        let res = engine(&r.cache, &[])
            .resolve(
                &[SourceSpec::helm_repo("c", &r.server.url(), "demo", None)],
                &Lock::default(),
                &Mode::Lock,
            )
            .unwrap();
        assert!(res.paths["c"].join("Chart.yaml").exists());
        assert_eq!(
            r.faults.hits.load(Ordering::SeqCst),
            4,
            "2 failures, index, chart"
        );
        r.faults.fail_next.store(10, Ordering::SeqCst);
        let e = only_error(
            engine(&t_cache(&r), &[])
                .resolve(
                    &[SourceSpec::helm_repo("c", &r.server.url(), "demo", None)],
                    &Lock::default(),
                    &Mode::Lock,
                )
                .unwrap_err(),
        );
        assert!(
            matches!(
                &e,
                SourceError::Http {
                    status: 500,
                    attempts: 3,
                    ..
                }
            ),
            "{e:?}"
        );
    }

    fn t_cache(r: &Repo) -> std::path::PathBuf {
        r.cache.with_file_name("cache-2")
    }

    #[test]
    fn hanging_server_times_out() {
        let Some(r) = repo(&["1.0.0"]) else { return };
        r.faults.hang_ms.store(5_000, Ordering::SeqCst);
        let mut s = settings(&[]);
        s.request_timeout = Duration::from_millis(500);
        let started = std::time::Instant::now();
        let e = only_error(
            Sources::new(Cache::open(&r.cache).unwrap(), s)
                .resolve(
                    &[SourceSpec::helm_repo("c", &r.server.url(), "demo", None)],
                    &Lock::default(),
                    &Mode::Lock,
                )
                .unwrap_err(),
        );
        assert!(matches!(&e, SourceError::Timeout { .. }), "{e:?}");
        assert!(started.elapsed() < Duration::from_secs(4));
    }

    #[test]
    fn unreachable_host() {
        let t = tempfile::tempdir().unwrap();
        let port = free_port();
        let e = only_error(
            engine(t.path(), &[])
                .resolve(
                    &[SourceSpec::helm_repo(
                        "c",
                        &format!("http://127.0.0.1:{port}/charts"),
                        "demo",
                        None,
                    )],
                    &Lock::default(),
                    &Mode::Lock,
                )
                .unwrap_err(),
        );
        assert!(
            matches!(&e, SourceError::Unreachable { url, .. } if url.contains(&port.to_string())),
            "{e:?}"
        );
        use miette::Diagnostic as _;
        assert!(e.to_string().contains("`c`"), "{e}");
        assert!(e.help().unwrap().to_string().contains("--offline"));
    }
}

mod oci {
    use super::*;

    #[test]
    fn helm_push_then_resolve_by_semver_tag_and_digest() {
        let Some(helm) = helm() else { return };
        let t = tempfile::tempdir().unwrap();
        let reg = registry(&t.path().join("registry"));
        let charts = t.path().join("charts");
        for v in ["1.0.0", "1.4.0", "2.0.0"] {
            let tgz = package_chart(&helm, t.path(), v, &charts);
            run(helm_cmd(&helm, t.path()).args([
                "push",
                tgz.to_str().unwrap(),
                &format!("oci://127.0.0.1:{}/charts", reg.port),
                "--plain-http",
            ]));
        }
        let url = format!("oci://127.0.0.1:{}/charts/demo", reg.port);
        let sources = engine(&t.path().join("cache"), &[reg.port]);
        let r = sources
            .resolve(
                &[
                    SourceSpec::oci("semver", &url, OciSelect::Semver("~1.0 || ^1.3".into())),
                    SourceSpec::oci("tag", &url, OciSelect::Tag("1.4.0".into())),
                ],
                &Lock::default(),
                &Mode::Lock,
            )
            .unwrap();
        let Pin::Oci { tag, digest } = r.lock.sources["semver"].pin.clone() else {
            panic!()
        };
        assert_eq!(tag.as_deref(), Some("1.4.0"));
        assert_eq!(r.lock.sources["tag"].pin, r.lock.sources["semver"].pin);
        let chart = std::fs::read_to_string(r.paths["semver"].join("Chart.yaml")).unwrap();
        assert!(chart.contains("version: 1.4.0"), "{chart}");
        let by_digest = sources
            .resolve(
                &[SourceSpec::oci(
                    "d",
                    &url,
                    OciSelect::Digest(digest.clone()),
                )],
                &Lock::default(),
                &Mode::Lock,
            )
            .unwrap();
        assert_eq!(
            by_digest.lock.sources["d"].content,
            r.lock.sources["semver"].content
        );
        let e = only_error(
            sources
                .resolve(
                    &[SourceSpec::oci(
                        "none",
                        &url,
                        OciSelect::Semver(">=3".into()),
                    )],
                    &Lock::default(),
                    &Mode::Lock,
                )
                .unwrap_err(),
        );
        assert!(
            matches!(&e, SourceError::NoMatchingVersion { available, .. } if available.len() == 3),
            "{e:?}"
        );
        let e = only_error(
            sources
                .resolve(
                    &[SourceSpec::oci(
                        "missing",
                        &url,
                        OciSelect::Tag("9.9.9".into()),
                    )],
                    &Lock::default(),
                    &Mode::Lock,
                )
                .unwrap_err(),
        );
        assert!(matches!(&e, SourceError::NotFound { .. }), "{e:?}");
    }

    #[test]
    fn registry_errors_are_retried() {
        let t = tempfile::tempdir().unwrap();
        let reg = registry(&t.path().join("registry"));
        let faults = Arc::new(Faults::default());
        let proxy = fault_proxy(reg.port, faults.clone());
        let sources = engine(&t.path().join("cache"), &[reg.port, proxy.port]);
        let dir = fixtures().join("manifests");
        sources
            .push_artifact(
                &dir,
                &format!("oci://127.0.0.1:{}/flaky/app:v1", reg.port),
                Default::default(),
            )
            .unwrap();
        faults.fail_next.store(2, Ordering::SeqCst);
        let spec = [SourceSpec::oci(
            "flaky",
            &format!("oci://127.0.0.1:{}/flaky/app", proxy.port),
            OciSelect::Semver("*".into()),
        )];
        let r = sources
            .resolve(&spec, &Lock::default(), &Mode::Lock)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(r.lock.sources["flaky"].content, tree_digest(&dir).unwrap());
        assert!(faults.hits.load(Ordering::SeqCst) > 2);
        faults.fail_next.store(100, Ordering::SeqCst);
        let e = only_error(
            engine(&t.path().join("cache-2"), &[proxy.port])
                .resolve(&spec, &Lock::default(), &Mode::Lock)
                .unwrap_err(),
        );
        assert!(matches!(&e, SourceError::Http { status: 500, .. }), "{e:?}");
    }

    #[test]
    fn push_generic_artifact_in_flux_format() {
        let t = tempfile::tempdir().unwrap();
        let reg = registry(&t.path().join("registry"));
        let sources = engine(&t.path().join("cache"), &[reg.port]);
        let dir = fixtures().join("manifests");
        let target = format!("oci://127.0.0.1:{}/manifests/app:v1", reg.port);
        let digest = sources
            .push_artifact(&dir, &target, Default::default())
            .unwrap();
        assert!(digest.starts_with("sha256:"));
        let raw = run(std::process::Command::new("skopeo").args([
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://127.0.0.1:{}/manifests/app:v1", reg.port),
        ]));
        let manifest: serde_json::Value = serde_json::from_str(&raw).unwrap();
        assert_eq!(
            manifest["layers"][0]["mediaType"],
            kiln_sources::oci::FLUX_CONTENT_LAYER
        );
        assert_eq!(
            manifest["config"]["mediaType"],
            kiln_sources::oci::FLUX_CONFIG
        );
        use sha2::Digest as _;
        assert_eq!(
            digest,
            format!(
                "sha256:{}",
                hex::encode(sha2::Sha256::digest(raw.as_bytes()))
            )
        );
        // Pushing the same tree again gives the same manifest: packing is reproducible.
        let again = sources
            .push_artifact(
                &dir,
                &format!("oci://127.0.0.1:{}/manifests/app:v1-again", reg.port),
                Default::default(),
            )
            .unwrap();
        assert_eq!(again, digest);
        let r = sources
            .resolve(
                &[SourceSpec::oci(
                    "app",
                    &format!("oci://127.0.0.1:{}/manifests/app", reg.port),
                    OciSelect::Tag("v1".into()),
                )],
                &Lock::default(),
                &Mode::Lock,
            )
            .unwrap();
        assert_eq!(r.lock.sources["app"].content, tree_digest(&dir).unwrap());
    }
}

mod e2e {
    use super::*;

    #[test]
    fn lock_then_locked_and_offline_with_servers_stopped() {
        let Some(helm) = helm() else { return };
        let t = tempfile::tempdir().unwrap();
        let repos = t.path().join("repos");
        std::fs::create_dir(&repos).unwrap();
        make_repo(&repos, "app");
        let daemon = git_daemon(&repos);
        let chart_dir = t.path().join("helm-repo");
        std::fs::create_dir(&chart_dir).unwrap();
        let files = static_files(&chart_dir, Arc::new(Faults::default()));
        helm_repo(
            &helm,
            t.path(),
            &chart_dir,
            &files.url(),
            &["1.0.0", "1.1.0"],
        );
        let reg = registry(&t.path().join("registry"));
        let tgz = package_chart(&helm, t.path(), "3.2.1", &t.path().join("pkg"));
        run(helm_cmd(&helm, t.path()).args([
            "push",
            tgz.to_str().unwrap(),
            &format!("oci://127.0.0.1:{}/charts", reg.port),
            "--plain-http",
        ]));
        let specs = vec![
            SourceSpec::git(
                "app",
                &format!("git://127.0.0.1:{}/app.git", daemon.port),
                GitSelect::Ref("main".into()),
            )
            .with_path("deploy"),
            SourceSpec::helm_repo("demo", &files.url(), "demo", Some("1.x")),
            SourceSpec::oci(
                "demo-oci",
                &format!("oci://127.0.0.1:{}/charts/demo", reg.port),
                OciSelect::Semver("^3".into()),
            ),
        ];
        let cache = t.path().join("cache");
        let project = t.path().join("project");
        std::fs::create_dir(&project).unwrap();
        let lock_path = project.join("kiln.lock");

        let first = engine(&cache, &[reg.port])
            .resolve(&specs, &Lock::read(&lock_path).unwrap(), &Mode::Lock)
            .unwrap();
        first.lock.write(&lock_path).unwrap();
        let text = std::fs::read_to_string(&lock_path).unwrap();
        assert_eq!(Lock::parse(&text, "kiln.lock").unwrap(), first.lock);
        assert_eq!(first.changes.len(), 3);

        drop((daemon, files, reg));
        let lock = Lock::read(&lock_path).unwrap();
        for mode in [Mode::Locked, Mode::Offline, Mode::Lock] {
            let again = engine(&cache, &[]).resolve(&specs, &lock, &mode).unwrap();
            assert_eq!(again.lock, lock, "{mode:?}");
            assert!(again.changes.is_empty());
            for (name, path) in &again.paths {
                assert_eq!(&tree_digest(path).unwrap(), &lock.sources[name].content);
            }
        }

        // A corrupted entry is never used: offline, Git rebuilds it from its cached
        // repository; the chart cannot be re-downloaded offline.
        for name in ["app", "demo"] {
            let path = first.paths[name].clone();
            let file = std::fs::read_dir(&path)
                .unwrap()
                .next()
                .unwrap()
                .unwrap()
                .path();
            std::fs::write(&file, "tampered").unwrap();
        }
        let e = engine(&cache, &[])
            .resolve(&specs, &lock, &Mode::Offline)
            .unwrap_err();
        assert_eq!(e.errors.len(), 1, "{e:?}");
        assert!(
            matches!(&e.errors[0], SourceError::NotCached { source_name } if source_name == "demo")
        );
        let app = engine(&cache, &[])
            .fetch("app", &lock.sources["app"], true)
            .unwrap();
        assert_eq!(tree_digest(&app).unwrap(), lock.sources["app"].content);
    }

    #[test]
    fn unreachable_hosts_for_every_kind() {
        let t = tempfile::tempdir().unwrap();
        let port = free_port();
        let e = engine(t.path(), &[port])
            .resolve(
                &[
                    SourceSpec::git(
                        "g",
                        &format!("git://127.0.0.1:{port}/a.git"),
                        GitSelect::Ref("main".into()),
                    ),
                    SourceSpec::git(
                        "h",
                        &format!("http://127.0.0.1:{port}/a.git"),
                        GitSelect::Ref("main".into()),
                    ),
                    SourceSpec::oci(
                        "o",
                        &format!("oci://127.0.0.1:{port}/a/b"),
                        OciSelect::Tag("1".into()),
                    ),
                ],
                &Lock::default(),
                &Mode::Lock,
            )
            .unwrap_err();
        assert_eq!(e.errors.len(), 3);
        for err in &e.errors {
            assert!(
                matches!(err, SourceError::Unreachable { url, .. } if url.contains(&port.to_string())),
                "{err:?}"
            );
        }
    }

    #[test]
    fn locked_refuses_missing_stale_and_extra_entries() {
        let t = tempfile::tempdir().unwrap();
        let sources = engine(t.path(), &[]);
        let spec = SourceSpec::helm_repo("demo", "http://127.0.0.1:9/charts", "demo", Some("1.x"));
        let e = only_error(
            sources
                .resolve(std::slice::from_ref(&spec), &Lock::default(), &Mode::Locked)
                .unwrap_err(),
        );
        assert!(matches!(e, SourceError::NotLocked { .. }), "{e:?}");
        let mut lock = Lock::default();
        let entry = LockEntry {
            spec: SourceSpec::helm_repo("demo", "http://127.0.0.1:9/charts", "demo", Some("2.x"))
                .kind,
            pin: Pin::HelmRepo {
                version: "2.0.0".into(),
                url: "http://127.0.0.1:9/charts/demo-2.0.0.tgz".into(),
                digest: format!("sha256:{}", "1".repeat(64)),
            },
            content: format!("blake3:{}", "2".repeat(64)),
        };
        lock.sources.insert("demo".into(), entry.clone());
        let e = only_error(
            sources
                .resolve(std::slice::from_ref(&spec), &lock, &Mode::Offline)
                .unwrap_err(),
        );
        assert!(matches!(e, SourceError::Stale { .. }), "{e:?}");
        lock.sources.insert("old".into(), entry);
        let e = sources.resolve(&[], &lock, &Mode::Locked).unwrap_err();
        assert_eq!(e.errors.len(), 2);
        assert!(
            matches!(&e.errors[0], SourceError::Unused { source_name } if source_name == "demo")
        );
        let e = only_error(
            sources
                .resolve(
                    std::slice::from_ref(&spec),
                    &lock,
                    &Mode::Update(Which::Only(vec!["typo".into()])),
                )
                .unwrap_err(),
        );
        assert!(
            matches!(&e, SourceError::InvalidSpec { source_name, .. } if source_name == "typo"),
            "{e:?}"
        );
        let r = sources.resolve(&[], &lock, &Mode::Offline).unwrap();
        assert_eq!(
            r.changes.len(),
            2,
            "offline may drop entries no longer declared"
        );
    }
}

/// HTTPS with a private CA: a real TLS server (rustls) on loopback in front of the plain
/// servers, trusted only through `ca-file=`.
mod tls {
    use super::*;
    use crate::https::{test_ca, tls_proxy};
    use miette::Diagnostic as _;

    #[test]
    fn helm_repository_over_https_with_a_private_ca_and_basic_auth() {
        let Some(helm) = helm() else { return };
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("repo");
        std::fs::create_dir(&dir).unwrap();
        let faults = Arc::new(Faults::default());
        let plain = static_files(&dir, faults.clone());
        let ca = test_ca();
        let https = tls_proxy(plain.port, &ca);
        helm_repo(&helm, t.path(), &dir, &https.url(), &["1.0.0"]);
        let ca_file = t.path().join("ca.pem");
        std::fs::write(&ca_file, &ca.ca_pem).unwrap();
        *faults.basic_auth.lock().unwrap() = Some("carol:tls-s3cret".into());
        let cache = t.path().join("cache");

        // Not trusted without the CA: a TLS diagnostic (no retries) that says how to fix it.
        let untrusted = [SourceSpec::helm_repo("c", &https.url(), "demo", None)];
        let e = only_error(
            engine(&cache, &[])
                .resolve(&untrusted, &Lock::default(), &Mode::Lock)
                .unwrap_err(),
        );
        assert!(matches!(e, SourceError::Tls { .. }), "{e:?}");
        assert!(e.help().unwrap().to_string().contains("ca-file="), "{e}");

        // Trusted through ca-file=, refused without credentials...
        let spec = [SourceSpec::helm_repo("c", &https.url(), "demo", None).with_ca_file(&ca_file)];
        let e = only_error(
            engine(&cache, &[])
                .resolve(&spec, &Lock::default(), &Mode::Lock)
                .unwrap_err(),
        );
        assert!(matches!(&e, SourceError::Http { status: 401, .. }), "{e:?}");

        // ...and served with credentials from the environment, which never reach the lock.
        // SAFETY: the variable name is unique to this test's port.
        unsafe {
            std::env::set_var(
                credentials::env_var_for(&format!("127.0.0.1:{}", https.port)),
                "carol:tls-s3cret",
            )
        };
        let r = engine(&cache, &[])
            .resolve(&spec, &Lock::default(), &Mode::Lock)
            .unwrap();
        assert!(r.paths["c"].join("Chart.yaml").exists());
        let text = r.lock.to_text();
        assert!(
            !text.contains("tls-s3cret") && !text.contains("carol"),
            "{text}"
        );
        assert!(
            !text.contains("ca.pem"),
            "the CA is not part of the identity: {text}"
        );
        let served = faults.hits.load(Ordering::SeqCst);

        // Credentials written into the URL are used but stored (and shown) redacted.
        let in_url = https.url().replace("https://", "https://carol:tls-s3cret@");
        let spec = [SourceSpec::helm_repo("c", &in_url, "demo", None).with_ca_file(&ca_file)];
        let r = engine(&t.path().join("cache2"), &[])
            .resolve(&spec, &Lock::default(), &Mode::Lock)
            .unwrap();
        assert!(!r.lock.to_text().contains("tls-s3cret"));
        assert!(faults.hits.load(Ordering::SeqCst) > served);
    }

    #[test]
    fn git_over_https_with_a_private_ca() {
        let t = tempfile::tempdir().unwrap();
        let repos = t.path().join("repos");
        std::fs::create_dir(&repos).unwrap();
        make_repo(&repos, "app");
        let head = git(&repos.join("app-work"), &["rev-parse", "HEAD"]);
        let plain = git_http(&repos);
        let ca = test_ca();
        let https = tls_proxy(plain.port, &ca);
        let ca_file = t.path().join("ca.pem");
        std::fs::write(&ca_file, &ca.ca_pem).unwrap();
        let url = format!("{}/app.git", https.url());
        let cache = t.path().join("cache");

        let untrusted = [SourceSpec::git("app", &url, GitSelect::Ref("main".into()))];
        let e = only_error(
            engine(&cache, &[])
                .resolve(&untrusted, &Lock::default(), &Mode::Lock)
                .unwrap_err(),
        );
        assert!(matches!(e, SourceError::Tls { .. }), "{e:?}");

        let spec = [SourceSpec::git("app", &url, GitSelect::Ref("main".into()))
            .with_path("deploy")
            .with_ca_file(&ca_file)];
        let r = engine(&cache, &[])
            .resolve(&spec, &Lock::default(), &Mode::Lock)
            .unwrap();
        assert_eq!(r.lock.sources["app"].pin, Pin::Git { commit: head });
        assert!(
            r.paths["app"].join("extra.yaml").exists(),
            "path= selects deploy/"
        );
    }
}
