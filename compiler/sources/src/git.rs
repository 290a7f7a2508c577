//! Git sources through gitoxide: list the remote's refs to pick a commit, fetch exactly that
//! commit (depth 1 where the server allows it) into a bare repository of the cache, and write
//! its tree (or a sub-directory of it) as the content.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use gix::bstr::ByteSlice;
use gix::protocol::handshake::Ref;
use gix::protocol::transport::client::blocking_io::http;
use gix::remote::Direction;

use crate::archive::{ArchiveIssue, SafeWriter};
use crate::cache::Cache;
use crate::constraint::{self, Constraint};
use crate::error::SourceError;
use crate::spec::{GitSelect, GitSpec, redact_url};

struct Ctx<'a> {
    source_name: &'a str,
    url: String,
    /// Extra PEM roots for an `https://` remote.
    ca: &'a [PathBuf],
}

impl Ctx<'_> {
    fn err(&self, detail: impl Into<String>, hint: &str) -> SourceError {
        SourceError::Git {
            source_name: self.source_name.into(),
            url: self.url.clone(),
            detail: detail.into(),
            hint: hint.into(),
        }
    }

    /// Turns a gix error into a diagnostic, recognizing network failures.
    fn transport(&self, e: gix::Error) -> SourceError {
        let mut parts: Vec<String> = Vec::new();
        for err in e.iter_errors() {
            let text = err.to_string();
            if !parts.iter().any(|p| p.contains(&text)) {
                parts.push(text);
            }
        }
        let detail = parts.join(": ");
        if crate::http::is_certificate_problem(&detail) {
            return SourceError::Tls {
                source_name: self.source_name.into(),
                url: self.url.clone(),
                detail,
            };
        }
        let lower = detail.to_lowercase();
        if [
            "connection refused",
            "could not connect",
            "failed to connect",
            "connect error",
            "dns error",
            "name or service not known",
            "no route to host",
            "timed out",
            "error trying to connect",
            "connection reset",
        ]
        .iter()
        .any(|m| lower.contains(m))
        {
            return SourceError::Unreachable {
                source_name: self.source_name.into(),
                url: self.url.clone(),
                detail,
                cause: None,
            };
        }
        if lower.contains("clear text") {
            return self.err(
                detail,
                "credentials are only sent over https://; use the https URL of the repository",
            );
        }
        self.err(detail, "check the repository URL, that it exists and that you may read it (credentials: KILN_AUTH_<HOST> or ~/.netrc)")
    }
}

fn open_repo(cache: &Cache, url: &str) -> Result<gix::Repository, String> {
    let dir = cache.git_dir(url);
    if !dir.join("HEAD").exists() {
        let tmp = dir.with_extension(format!("init-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        gix::init_bare(&tmp).map_err(|e| e.to_string())?;
        std::fs::rename(&tmp, &dir).map_err(|e| e.to_string())?;
    }
    let opts = gix::open::Options::isolated().config_overrides([
        "core.logAllRefUpdates=false",
        "user.name=kiln",
        "user.email=kiln@localhost",
        "committer.name=kiln",
        "committer.email=kiln@localhost",
    ]);
    gix::open_opts(&dir, opts).map_err(|e| e.to_string())
}

/// Supplies credentials from the environment or netrc (never prompts).
fn authenticate(
    url: &str,
) -> impl FnMut(
    gix::credentials::helper::Action,
) -> gix::Result<Option<gix::credentials::protocol::Outcome>>
+ 'static {
    let creds = crate::credentials::for_url(url);
    move |action| {
        let gix::credentials::helper::Action::Get(ctx) = action else {
            return Ok(None);
        };
        let found = match &ctx.url {
            Some(u) => crate::credentials::for_url(&u.to_string()).or_else(|| creds.clone()),
            None => creds.clone(),
        };
        Ok(found.map(|c| gix::credentials::protocol::Outcome {
            identity: gix::sec::identity::Account {
                username: c.username,
                password: c.password,
                oauth_refresh_token: None,
            },
            next: ctx.into(),
        }))
    }
}

/// HTTP transport options trusting `ctx.ca` besides the system roots, for `https://` remotes
/// when extra roots are configured.
fn tls_options(
    repo: &gix::Repository,
    ctx: &Ctx,
) -> Result<Option<Box<dyn std::any::Any>>, SourceError> {
    if ctx.ca.is_empty() || !ctx.url.starts_with("https://") {
        return Ok(None);
    }
    let mut roots = Vec::new();
    for path in ctx.ca {
        let pem = std::fs::read(path).map_err(|e| {
            ctx.err(
                format!("cannot read CA certificate {}: {e}", path.display()),
                "check `ca-file=` (or KILN_CA_CERTIFICATES)",
            )
        })?;
        roots.extend(reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
            ctx.err(
                format!("invalid CA certificate {}: {e}", path.display()),
                "`ca-file=` names a PEM file of CA certificates",
            )
        })?);
    }
    let options = repo
        .transport_options(ctx.url.as_str(), None)
        .map_err(|e| ctx.err(e.to_string(), "check the repository URL"))?;
    let mut http = options
        .and_then(|o| o.downcast::<http::Options>().ok())
        .map_or_else(http::Options::default, |o| *o);
    crate::tls::install_provider();
    let configure = move |mut builder: reqwest::blocking::ClientBuilder| {
        for cert in &roots {
            builder = builder.add_root_certificate(cert.clone());
        }
        Ok(builder)
    };
    http.backend = Some(std::sync::Arc::new(std::sync::Mutex::new(
        http::reqwest::Options {
            configure_client: Some(Box::new(configure)),
            configure_request: None,
        },
    )));
    Ok(Some(Box::new(http)))
}

fn clean_url(url: &str) -> String {
    // Credentials go through `authenticate`, never through the URL handed to gix.
    redact_url(url)
}

/// Lists the remote refs matching `refspecs` (name → peeled commit).
fn list_refs(
    repo: &gix::Repository,
    ctx: &Ctx,
    url: &str,
    refspecs: &[String],
) -> Result<Vec<(String, gix::ObjectId)>, SourceError> {
    let remote = repo
        .remote_at(clean_url(url).as_str())
        .map_err(|e| ctx.err(e.to_string(), "check the repository URL"))?
        .with_fetch_tags(gix::remote::fetch::Tags::None)
        .with_refspecs(refspecs.iter().map(String::as_str), Direction::Fetch)
        .map_err(|e| ctx.err(e.to_string(), "report this as a bug"))?;
    let mut conn = remote
        .connect(Direction::Fetch)
        .map_err(|e| ctx.transport(e))?
        .with_credentials(authenticate(url));
    if let Some(options) = tls_options(repo, ctx)? {
        conn.set_transport_options(options);
    }
    let (map, _) = conn
        .ref_map(gix::progress::Discard, Default::default())
        .map_err(|e| ctx.transport(e))?;
    let mut out = Vec::new();
    for r in &map.remote_refs {
        let (name, id) = match r {
            Ref::Peeled {
                full_ref_name,
                object,
                ..
            }
            | Ref::Direct {
                full_ref_name,
                object,
            }
            | Ref::Symbolic {
                full_ref_name,
                object,
                ..
            } => (full_ref_name, object),
            Ref::Unborn { .. } => continue,
        };
        out.push((name.to_str_lossy().into_owned(), *id));
    }
    Ok(out)
}

/// Finds the commit `spec` selects on the remote.
pub(crate) fn resolve(
    cache: &Cache,
    source_name: &str,
    spec: &GitSpec,
    ca: &[PathBuf],
) -> Result<String, SourceError> {
    let ctx = Ctx {
        source_name,
        url: redact_url(&spec.git),
        ca,
    };
    match &spec.select {
        GitSelect::Commit(c) => return Ok(c.to_lowercase()),
        // `ref=` may also name a commit by its full SHA.
        GitSelect::Ref(r) if r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit()) => {
            return Ok(r.to_lowercase());
        }
        _ => {}
    }
    let _guard = cache.lock(&format!("git-{}", ctx.url))?;
    let repo = open_repo(cache, &ctx.url).map_err(|e| {
        SourceError::cache(
            "cannot open git cache",
            &cache.git_dir(&ctx.url),
            std::io::Error::other(e),
        )
    })?;
    match &spec.select {
        GitSelect::DefaultBranch => {
            let refs = list_refs(&repo, &ctx, &spec.git, &["HEAD".into()])?;
            refs.into_iter()
                .find(|(n, _)| n == "HEAD")
                .map(|(_, id)| id.to_string())
                .ok_or_else(|| {
                    ctx.err(
                        "the remote has no HEAD (an empty repository?)",
                        "declare `ref=` with a branch or tag",
                    )
                })
        }
        GitSelect::Ref(name) => {
            let candidates: Vec<String> = if name.starts_with("refs/") {
                vec![name.clone()]
            } else {
                vec![format!("refs/heads/{name}"), format!("refs/tags/{name}")]
            };
            let refs = list_refs(&repo, &ctx, &spec.git, &candidates)?;
            for want in &candidates {
                if let Some((_, id)) = refs.iter().find(|(n, _)| n == want) {
                    return Ok(id.to_string());
                }
            }
            Err(SourceError::NotFound {
                source_name: source_name.into(),
                url: ctx.url.clone(),
                what: format!("branch or tag `{name}`"),
                hint: "check the spelling, or push the branch/tag; kiln looks for refs/heads/<ref> then refs/tags/<ref>; a commit must be given with all 40 hex digits".into(),
            })
        }
        GitSelect::Semver(text) => {
            let c = Constraint::parse(text).map_err(|reason| SourceError::InvalidConstraint {
                source_name: source_name.into(),
                constraint: text.clone(),
                reason,
            })?;
            let refs = list_refs(&repo, &ctx, &spec.git, &["refs/tags/*:refs/tags/*".into()])?;
            let tags: Vec<(semver::Version, gix::ObjectId)> = refs
                .iter()
                .filter_map(|(n, id)| {
                    let tag = n.strip_prefix("refs/tags/")?;
                    Some((constraint::parse_version(tag)?, *id))
                })
                .collect();
            match c.best(tags.iter().map(|(v, id)| (v, id))) {
                Some((_, id)) => Ok(id.to_string()),
                None => {
                    let mut available: Vec<&semver::Version> =
                        tags.iter().map(|(v, _)| v).collect();
                    available.sort_by(|a, b| b.cmp_precedence(a));
                    Err(SourceError::NoMatchingVersion {
                        source_name: source_name.into(),
                        url: ctx.url.clone(),
                        what: "a tag".into(),
                        constraint: text.clone(),
                        available: available.iter().map(|v| v.to_string()).collect(),
                    })
                }
            }
        }
        GitSelect::Commit(_) => unreachable!("handled above"),
    }
}

fn fetch_objects(
    repo: &gix::Repository,
    ctx: &Ctx,
    url: &str,
    refspecs: &[String],
    shallow: bool,
) -> Result<(), SourceError> {
    let remote = repo
        .remote_at(clean_url(url).as_str())
        .map_err(|e| ctx.err(e.to_string(), "check the repository URL"))?
        .with_fetch_tags(gix::remote::fetch::Tags::None)
        .with_refspecs(refspecs.iter().map(String::as_str), Direction::Fetch)
        .map_err(|e| ctx.err(e.to_string(), "report this as a bug"))?;
    let mut conn = remote
        .connect(Direction::Fetch)
        .map_err(|e| ctx.transport(e))?
        .with_credentials(authenticate(url));
    if let Some(options) = tls_options(repo, ctx)? {
        conn.set_transport_options(options);
    }
    let mut prepare = conn
        .prepare_fetch(gix::progress::Discard, Default::default())
        .map_err(|e| ctx.transport(e))?;
    if shallow {
        prepare = prepare.with_shallow(gix::remote::fetch::Shallow::DepthAtRemote(
            NonZeroU32::new(1).expect("1 is not zero"),
        ));
    }
    prepare
        .receive(gix::progress::Discard, &AtomicBool::new(false))
        .map_err(|e| ctx.transport(e))?;
    Ok(())
}

fn has_commit(repo: &gix::Repository, id: gix::ObjectId) -> bool {
    repo.find_commit(id).is_ok_and(|c| c.tree().is_ok())
}

/// Makes the content of `commit` (below `spec.path`) available in the cache.
pub(crate) fn fetch(
    cache: &Cache,
    source_name: &str,
    spec: &GitSpec,
    commit: &str,
    expected: Option<&str>,
    offline: bool,
    ca: &[PathBuf],
) -> Result<(String, PathBuf), SourceError> {
    let ctx = Ctx {
        source_name,
        url: redact_url(&spec.git),
        ca,
    };
    let identity = format!("git\0{commit}\0{}", spec.path.as_deref().unwrap_or(""));
    if let Some(hit) = cache.lookup(&identity, expected)? {
        return Ok(hit);
    }
    let id = gix::ObjectId::from_hex(commit.as_bytes()).map_err(|e| {
        ctx.err(
            format!("`{commit}` is not a commit id: {e}"),
            "run `kiln lock` to repair kiln.lock",
        )
    })?;
    let _guard = cache.lock(&format!("git-{}", ctx.url))?;
    let repo = open_repo(cache, &ctx.url).map_err(|e| {
        SourceError::cache(
            "cannot open git cache",
            &cache.git_dir(&ctx.url),
            std::io::Error::other(e),
        )
    })?;
    if !has_commit(&repo, id) {
        if offline {
            return Err(SourceError::NotCached {
                source_name: source_name.into(),
            });
        }
        let by_id = fetch_objects(
            &repo,
            &ctx,
            &spec.git,
            &[format!("{commit}:refs/kiln/{commit}")],
            true,
        );
        let repo_now = open_repo(cache, &ctx.url).map_err(|e| ctx.err(e, "retry"))?;
        if by_id.is_err() || !has_commit(&repo_now, id) {
            if let Err(e) = &by_id {
                tracing::info!(error = %e, "fetching the commit by id failed; fetching all branches and tags");
            }
            // Servers that refuse wants by id (protocol v0/v1): fetch everything instead.
            let all = fetch_objects(
                &repo_now,
                &ctx,
                &spec.git,
                &[
                    "+refs/heads/*:refs/kiln/heads/*".into(),
                    "+refs/tags/*:refs/kiln/tags/*".into(),
                ],
                false,
            );
            let repo_all = open_repo(cache, &ctx.url).map_err(|e| ctx.err(e, "retry"))?;
            if !has_commit(&repo_all, id) {
                return Err(match (by_id, all) {
                    (_, Err(e)) => e,
                    _ => SourceError::NotFound {
                        source_name: source_name.into(),
                        url: ctx.url.clone(),
                        what: format!("commit {commit}"),
                        hint: "the commit does not exist on the remote (history rewritten?); run `kiln update` to pick a new one".into(),
                    },
                });
            }
        }
    }
    let repo = open_repo(cache, &ctx.url).map_err(|e| ctx.err(e, "retry"))?;
    cache.materialize(source_name, &identity, expected, |dir| {
        write_commit(&repo, &ctx, id, spec.path.as_deref(), dir)
    })
}

fn write_commit(
    repo: &gix::Repository,
    ctx: &Ctx,
    id: gix::ObjectId,
    sub_path: Option<&str>,
    dir: &Path,
) -> Result<(), SourceError> {
    let commit = repo.find_commit(id).map_err(|e| {
        ctx.err(
            format!("{id} is not a commit: {e}"),
            "pin a commit, not a tree or blob",
        )
    })?;
    let mut tree = commit.tree().map_err(|e| {
        ctx.err(
            e.to_string(),
            "the cached repository is damaged; delete the cache",
        )
    })?;
    if let Some(p) = sub_path
        .map(|p| p.trim_matches('/'))
        .filter(|p| !p.is_empty())
    {
        let entry = tree
            .lookup_entry_by_path(p)
            .map_err(|e| ctx.err(e.to_string(), "retry"))?
            .filter(|e| e.mode().is_tree())
            .ok_or_else(|| SourceError::NotFound {
                source_name: ctx.source_name.into(),
                url: ctx.url.clone(),
                what: format!("directory `{p}` in commit {id}"),
                hint: "check `path=`; it names a directory of the repository".into(),
            })?;
        tree = entry
            .object()
            .map_err(|e| ctx.err(e.to_string(), "retry"))?
            .into_tree();
    }
    let writer = SafeWriter::new(dir);
    write_tree(ctx, &tree, "", &writer)
}

fn write_tree(
    ctx: &Ctx,
    tree: &gix::Tree<'_>,
    prefix: &str,
    writer: &SafeWriter,
) -> Result<(), SourceError> {
    let issue = |i: ArchiveIssue| match i {
        ArchiveIssue::Unsafe { entry, reason } => SourceError::UnsafeArchive {
            source_name: ctx.source_name.into(),
            url: ctx.url.clone(),
            entry,
            reason,
        },
        ArchiveIssue::Bad(detail) => {
            ctx.err(detail, "check free space and permissions of the cache")
        }
    };
    for entry in tree.iter() {
        let entry =
            entry.map_err(|e| ctx.err(e.to_string(), "the cached repository is damaged"))?;
        let name = entry.filename().to_str_lossy();
        let path = if prefix.is_empty() {
            name.into_owned()
        } else {
            format!("{prefix}/{name}")
        };
        let mode = entry.mode();
        let object = || {
            entry
                .object()
                .map_err(|e| ctx.err(format!("{path}: {e}"), "the cached repository is damaged"))
        };
        if mode.is_tree() {
            let sub = object()?.into_tree();
            write_tree(ctx, &sub, &path, writer)?;
        } else if mode.is_link() {
            let target = object()?.detach().data;
            writer
                .symlink(&path, &String::from_utf8_lossy(&target))
                .map_err(issue)?;
        } else if mode.is_blob() || mode.is_executable() {
            let data = object()?.detach().data;
            writer
                .file(&path, &mut data.as_slice(), mode.is_executable())
                .map_err(issue)?;
        }
        // Submodules (commit entries) are not part of the content.
    }
    Ok(())
}
