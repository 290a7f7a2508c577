//! Real servers on loopback for the tests and benchmarks: `git daemon`, `git http-backend`
//! behind a small HTTP server, Debian's `docker-registry`, and a static HTTP server for Helm
//! repositories with switchable faults. Each stops when dropped.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{what} did not start listening on port {port}");
}

/// Runs a command, panicking with its output on failure.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn git(dir: &Path, args: &[&str]) -> String {
    run(Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z"))
    .trim()
    .to_string()
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/sources")
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// A bare repository `<root>/<name>.git` built from a work tree with the fixture manifests:
/// commit 1 tagged v1.0.0, commit 2 tagged v1.1.0 and v2.0.0-rc.1 (annotated), branch `main`.
pub fn make_repo(root: &Path, name: &str) -> PathBuf {
    let work = root.join(format!("{name}-work"));
    std::fs::create_dir_all(work.join("deploy")).unwrap();
    git(&work, &["init", "-q", "-b", "main"]);
    copy_dir(&fixtures().join("manifests"), &work.join("deploy"));
    std::fs::write(work.join("README.md"), "v1.0.0\n").unwrap();
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-qm", "first"]);
    git(&work, &["tag", "v1.0.0"]);
    std::fs::write(work.join("README.md"), "v1.1.0\n").unwrap();
    std::fs::write(work.join("deploy/extra.yaml"), "kind: List\n").unwrap();
    git(&work, &["commit", "-qam", "second"]);
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-qm", "extra"]);
    git(&work, &["tag", "-a", "-m", "release", "v1.1.0"]);
    git(&work, &["tag", "v2.0.0-rc.1"]);
    let bare = root.join(format!("{name}.git"));
    git(
        root,
        &[
            "clone",
            "-q",
            "--bare",
            work.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    bare
}

/// Adds a commit tagged `tag` to the bare repository made by [`make_repo`].
pub fn add_release(root: &Path, name: &str, tag: &str) -> String {
    let work = root.join(format!("{name}-work"));
    std::fs::write(work.join("README.md"), format!("{tag}\n")).unwrap();
    git(&work, &["commit", "-qam", tag]);
    git(&work, &["tag", tag]);
    let bare = root.join(format!("{name}.git"));
    git(&work, &["push", "-q", bare.to_str().unwrap(), "main", tag]);
    git(&work, &["rev-parse", "HEAD"])
}

pub struct Process {
    child: Child,
    pub port: u16,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `git daemon` exporting every repository below `root`.
pub fn git_daemon(root: &Path) -> Process {
    let port = free_port();
    let child = Command::new("git")
        .args([
            "daemon",
            "--reuseaddr",
            "--export-all",
            "--listen=127.0.0.1",
            &format!("--port={port}"),
            &format!("--base-path={}", root.display()),
            root.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("git daemon");
    wait_for_port(port, "git daemon");
    Process { child, port }
}

/// Debian's `docker-registry` (CNCF distribution) with storage in `dir`.
pub fn registry(dir: &Path) -> Process {
    let bin =
        std::env::var("KILN_DOCKER_REGISTRY").unwrap_or_else(|_| "/usr/bin/docker-registry".into());
    let port = free_port();
    let config = dir.join("registry.yml");
    std::fs::create_dir_all(dir.join("storage")).unwrap();
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.join("storage").display()
        ),
    )
    .unwrap();
    let child = Command::new(bin)
        .args(["serve", config.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("docker-registry (apt-get install docker-registry)");
    wait_for_port(port, "docker-registry");
    Process { child, port }
}

/// One HTTP exchange as the handler sees it.
pub struct Req {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: vec![],
            body: vec![],
        }
    }
}

type Handler = Arc<dyn Fn(Req) -> Reply + Send + Sync>;

/// A small threaded HTTP server (tiny_http) calling `handler` for every request.
pub struct HttpServer {
    pub port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HttpServer {
    pub fn start(handler: impl Fn(Req) -> Reply + Send + Sync + 'static) -> HttpServer {
        let handler: Handler = Arc::new(handler);
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let port = server.server_addr().to_ip().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = std::thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) {
                let Ok(Some(mut request)) = server.recv_timeout(Duration::from_millis(50)) else {
                    continue;
                };
                let handler = handler.clone();
                std::thread::spawn(move || {
                    let mut body = Vec::new();
                    let _ = request.as_reader().read_to_end(&mut body);
                    let url = request.url().to_string();
                    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
                    let req = Req {
                        method: request.method().to_string(),
                        path: percent_decode(path),
                        query: query.to_string(),
                        headers: request
                            .headers()
                            .iter()
                            .map(|h| {
                                (
                                    h.field.as_str().as_str().to_ascii_lowercase(),
                                    h.value.as_str().to_string(),
                                )
                            })
                            .collect(),
                        body,
                    };
                    let reply = handler(req);
                    let mut response =
                        tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
                    for (k, v) in reply.headers {
                        response.add_header(
                            tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()).unwrap(),
                        );
                    }
                    let _ = request.respond(response);
                });
            }
        });
        HttpServer {
            port,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `git http-backend` (smart HTTP) serving the repositories below `root`.
pub fn git_http(root: &Path) -> HttpServer {
    git_http_auth(root, None)
}

/// Like [`git_http`], requiring basic auth `user:password` when given.
pub fn git_http_auth(root: &Path, basic: Option<&str>) -> HttpServer {
    let root = root.to_path_buf();
    let want = basic.map(|b| {
        use base64::Engine as _;
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(b)
        )
    });
    HttpServer::start(move |req| {
        if let Some(w) = &want
            && req.headers.get("authorization") != Some(w)
        {
            return Reply {
                status: 401,
                headers: vec![("WWW-Authenticate".into(), "Basic realm=\"git\"".into())],
                body: vec![],
            };
        }
        let mut cmd = Command::new("git");
        cmd.arg("http-backend")
            .env("GIT_PROJECT_ROOT", &root)
            .env("GIT_HTTP_EXPORT_ALL", "1")
            .env("REQUEST_METHOD", &req.method)
            .env("PATH_INFO", &req.path)
            .env("QUERY_STRING", &req.query)
            .env("CONTENT_LENGTH", req.body.len().to_string())
            .env("REMOTE_ADDR", "127.0.0.1")
            .env("SERVER_PROTOCOL", "HTTP/1.1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(ct) = req.headers.get("content-type") {
            cmd.env("CONTENT_TYPE", ct);
        }
        if let Some(p) = req.headers.get("git-protocol") {
            cmd.env("GIT_PROTOCOL", p).env("HTTP_GIT_PROTOCOL", p);
        }
        if let Some(enc) = req.headers.get("content-encoding") {
            cmd.env("HTTP_CONTENT_ENCODING", enc);
        }
        let mut child = cmd.spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let body = req.body;
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&body);
        });
        let out = child.wait_with_output().unwrap();
        let _ = writer.join();
        let split = out
            .stdout
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|p| (p, 4))
            .or_else(|| {
                out.stdout
                    .windows(2)
                    .position(|w| w == b"\n\n")
                    .map(|p| (p, 2))
            });
        let Some((at, sep)) = split else {
            return Reply::status(500);
        };
        let head = String::from_utf8_lossy(&out.stdout[..at]).into_owned();
        let mut reply = Reply {
            status: 200,
            headers: vec![],
            body: out.stdout[at + sep..].to_vec(),
        };
        for line in head.lines() {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            let v = v.trim();
            if k.eq_ignore_ascii_case("status") {
                reply.status = v
                    .split_whitespace()
                    .next()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(200);
            } else {
                reply.headers.push((k.to_string(), v.to_string()));
            }
        }
        reply
    })
}

/// Faults a static file server can be switched into.
#[derive(Default)]
pub struct Faults {
    /// Answer this many requests with 500 before serving.
    pub fail_next: AtomicUsize,
    /// Sleep this many milliseconds before answering (a hanging server).
    pub hang_ms: AtomicUsize,
    /// Require this `user:password` (basic auth).
    pub basic_auth: Mutex<Option<String>>,
    /// Requests seen.
    pub hits: AtomicUsize,
}

/// Serves the files below `dir` (a Helm repository), subject to `faults`.
pub fn static_files(dir: &Path, faults: Arc<Faults>) -> HttpServer {
    let dir = dir.to_path_buf();
    HttpServer::start(move |req| {
        faults.hits.fetch_add(1, Ordering::SeqCst);
        let hang = faults.hang_ms.load(Ordering::SeqCst);
        if hang > 0 {
            std::thread::sleep(Duration::from_millis(hang as u64));
        }
        if faults
            .fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Reply::status(500);
        }
        if let Some(expected) = faults.basic_auth.lock().unwrap().clone() {
            use base64::Engine as _;
            let want = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(expected)
            );
            if req.headers.get("authorization") != Some(&want) {
                return Reply::status(401);
            }
        }
        let rel = req.path.trim_start_matches('/');
        if rel.split('/').any(|s| s == "..") {
            return Reply::status(400);
        }
        match std::fs::read(dir.join(rel)) {
            Ok(body) => Reply {
                status: 200,
                headers: vec![],
                body,
            },
            Err(_) => Reply::status(404),
        }
    })
}

pub fn helm() -> Option<PathBuf> {
    let dir = std::env::var_os("KILN_ORACLES")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/kiln-oracles"))
        })?;
    let bin = dir.join("helm");
    if bin.exists() {
        Some(bin)
    } else {
        eprintln!(
            "\n!!! SKIPPED: helm not found in $KILN_ORACLES or ~/.cache/kiln-oracles (run tests/install-oracles.sh) !!!\n"
        );
        None
    }
}

/// Runs helm with its state confined to `home`.
pub fn helm_cmd(helm: &Path, home: &Path) -> Command {
    let mut c = Command::new(helm);
    c.env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"))
        .env("HOME", home);
    c
}

/// Packages the fixture chart at `version` into `out` (returns the archive path).
pub fn package_chart(helm: &Path, work: &Path, version: &str, out: &Path) -> PathBuf {
    let src = work.join(format!("demo-src-{version}"));
    copy_dir(&fixtures().join("charts/demo"), &src);
    std::fs::create_dir_all(out).unwrap();
    run(helm_cmd(helm, work).args([
        "package",
        src.to_str().unwrap(),
        "--version",
        version,
        "--destination",
        out.to_str().unwrap(),
    ]));
    out.join(format!("demo-{version}.tgz"))
}

/// A Helm repository in `dir` with the fixture chart at `versions`, indexed for `url`.
pub fn helm_repo(helm: &Path, work: &Path, dir: &Path, url: &str, versions: &[&str]) {
    for v in versions {
        package_chart(helm, work, v, dir);
    }
    run(helm_cmd(helm, work).args(["repo", "index", dir.to_str().unwrap(), "--url", url]));
}

/// An HTTP/1.0 forwarding proxy to `127.0.0.1:upstream`, subject to `faults` (to make a real
/// registry answer 500 first, for example).
pub fn fault_proxy(upstream: u16, faults: Arc<Faults>) -> HttpServer {
    HttpServer::start(move |req| {
        faults.hits.fetch_add(1, Ordering::SeqCst);
        if faults
            .fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Reply::status(500);
        }
        let mut conn = TcpStream::connect(("127.0.0.1", upstream)).unwrap();
        let target = if req.query.is_empty() {
            req.path.clone()
        } else {
            format!("{}?{}", req.path, req.query)
        };
        let mut head = format!("{} {target} HTTP/1.0\r\n", req.method);
        for (k, v) in &req.headers {
            if !matches!(
                k.as_str(),
                "connection" | "content-length" | "transfer-encoding" | "host"
            ) {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
        }
        head.push_str(&format!(
            "host: 127.0.0.1:{upstream}\r\ncontent-length: {}\r\n\r\n",
            req.body.len()
        ));
        conn.write_all(head.as_bytes()).unwrap();
        conn.write_all(&req.body).unwrap();
        let mut raw = Vec::new();
        std::io::Read::read_to_end(&mut conn, &mut raw).unwrap();
        let at = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let text = String::from_utf8_lossy(&raw[..at]).into_owned();
        let mut lines = text.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(502);
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .filter(|(k, _)| {
                !matches!(
                    k.trim().to_ascii_lowercase().as_str(),
                    "connection" | "content-length" | "transfer-encoding" | "date"
                )
            })
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        Reply {
            status,
            headers,
            body: raw[at + 4..].to_vec(),
        }
    })
}
