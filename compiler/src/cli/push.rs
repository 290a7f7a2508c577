//! `kiln push BUNDLE oci://REGISTRY/REPOSITORY:TAG`: publish a bundle as an OCI artifact, as
//! `flux push artifact` publishes a directory, for clusters to pull (`kiln apply oci://…`,
//! `kiln-applier agent --source oci://…`).
//!
//! The input is a bundle (directory or tar), verified before anything is sent, or a project
//! whose target is built first, as `kiln apply` does. The artifact records where the bundle came
//! from in the standard annotations: `--source`/`--revision`, defaulting to the Git checkout the
//! input lives in (remote `origin` without credentials, `BRANCH@sha1:COMMIT`), and the push time
//! (`$SOURCE_DATE_EPOCH` when set). Prints the pinned reference `oci://…@sha256:…`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::apply::{InputArgs, RegistryArgs, block_on, is_bundle, oci_failure, oci_reference};
use super::{Failure, Global, Outcome, Progress};
use crate::diag::Error;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A bundle (directory or tar) or a project (directory holding kiln.kdl, or the file).
    pub input: PathBuf,
    /// Where to push: oci://REGISTRY/REPOSITORY:TAG.
    pub reference: String,
    /// The target to build when the input is a project.
    #[arg(long, short)]
    pub target: Option<String>,
    /// `org.opencontainers.image.source` [default: the Git remote `origin` of the input's checkout].
    #[arg(long)]
    pub source: Option<String>,
    /// `org.opencontainers.image.revision` [default: BRANCH@sha1:COMMIT of the input's checkout].
    #[arg(long)]
    pub revision: Option<String>,
    /// `org.opencontainers.image.created` (RFC 3339) [default: $SOURCE_DATE_EPOCH, else now].
    #[arg(long)]
    pub created: Option<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[arg(long, value_enum, default_value_t = super::apply::Output::Text)]
    pub output: super::apply::Output,
}

pub fn run(global: &Global, args: &Args) -> Outcome {
    let reference = kiln_oci::BundleRef::parse(&args.reference).map_err(oci_failure)?;
    if oci_reference(&args.input)?.is_some() {
        return Err(Error::input(
            "kiln::push::input",
            format!(
                "`{}` is a registry reference, not a bundle",
                args.input.display()
            ),
        )
        .help("pass a bundle directory or tar, or a project and --target")
        .into());
    }
    let path = if is_bundle(&args.input) {
        args.input.clone()
    } else {
        let input = InputArgs {
            input: args.input.clone(),
            registry: args.registry.clone(),
            target: args.target.clone(),
            project: None,
            store: None,
        };
        super::apply::build_target(global, &input)?.1
    };
    let bundle = kiln_bundle::read_verified(&path).map_err(|e| Failure::Bundle(Box::new(e), 2))?;
    let checkout = if path.is_dir() {
        path.clone()
    } else {
        path.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    let meta = kiln_oci::PushMeta {
        source: args.source.clone().or_else(|| git_origin(&checkout)),
        revision: args.revision.clone().or_else(|| git_revision(&checkout)),
        created: Some(args.created.clone().unwrap_or_else(created_now)),
    };
    let registry = args.registry.registry(&reference)?;
    Progress::new(global).status("Pushing", &format!("{} to {reference}", bundle.digest));
    let pushed = block_on(async {
        kiln_oci::push(&registry, &bundle, &reference, &meta)
            .await
            .map_err(oci_failure)
    })?;
    let pinned = reference.pinned(&pushed.digest);
    match args.output {
        super::apply::Output::Text => println!("{pinned}"),
        super::apply::Output::Json => println!(
            "{}",
            serde_json::json!({
                "reference": reference.to_string(),
                "pinned": pinned,
                "digest": pushed.digest,
                "bundle_digest": pushed.bundle_digest.to_string(),
                "layer_size": pushed.layer_size,
                "source": meta.source,
                "revision": meta.revision,
                "created": meta.created,
            })
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// `git -C dir ARGS`, trimmed, when it succeeds.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// The checkout's `origin` URL with any user name or token removed.
fn git_origin(dir: &Path) -> Option<String> {
    let url = git(dir, &["remote", "get-url", "origin"])?;
    Some(match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            format!("{scheme}://{host}/{path}")
        }
        None => url,
    })
}

/// `BRANCH@sha1:COMMIT` (or `sha1:COMMIT` on a detached head), as `flux push artifact` writes it.
fn git_revision(dir: &Path) -> Option<String> {
    let commit = git(dir, &["rev-parse", "HEAD"])?;
    Some(match git(dir, &["symbolic-ref", "--short", "-q", "HEAD"]) {
        Some(branch) => format!("{branch}@sha1:{commit}"),
        None => format!("sha1:{commit}"),
    })
}

/// `$SOURCE_DATE_EPOCH` (reproducible builds), else the current time, in RFC 3339.
fn created_now() -> String {
    let at = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .unwrap_or_else(chrono::Utc::now);
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
