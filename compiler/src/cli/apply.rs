//! `kiln apply`: converge a cluster to a bundle through the applier library.
//!
//! The input is a bundle (directory or tar), an OCI artifact (`oci://REGISTRY/REPO:TAG` or
//! `@sha256:…`, pulled and verified into the bundle cache), or a project, whose target is built
//! first exactly as `kiln build` would. The cluster is chosen like kubectl (`--kubeconfig`, `--context`,
//! `KUBECONFIG`), and a project's `target … { cluster context="…" }` names the context when
//! `--context` does not. `--dry-run` prints the plan with a field-level diff against the live
//! objects, in `kiln diff`'s notation, and writes nothing.
//!
//! This module also holds what `kiln drift` and `kiln rollback` share with it: cluster flags,
//! input resolution and the mapping of applier errors to exit codes.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use kiln_applier::{ApplyError, ApplyOptions, ClusterSelection, Kube};

use super::{Failure, Global, Outcome, Progress};
use crate::diag::{Error, suggestion};

/// Which cluster to talk to.
#[derive(Debug, Clone, clap::Args)]
pub struct ClusterArgs {
    /// Kubeconfig file [default: $KUBECONFIG, then ~/.kube/config].
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context [default: the target's `cluster context=`, else the current context].
    #[arg(long)]
    pub context: Option<String>,
    /// Timeout of one API request.
    #[arg(long, value_parser = parse_duration, default_value = "30s")]
    pub request_timeout: Duration,
}

/// How `oci://` references reach their registry (credentials: `KILN_AUTH_<HOST>` or the Docker
/// config, as for OCI sources).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RegistryArgs {
    /// Speak plain HTTP to the reference's registry (a local registry); KILN_INSECURE_REGISTRIES
    /// lists more.
    #[arg(long)]
    pub insecure: bool,
    /// Extra PEM root certificate trusted for the registry (repeatable); KILN_CA_CERTIFICATES too.
    #[arg(long = "ca-file")]
    pub ca_files: Vec<PathBuf>,
}

impl RegistryArgs {
    /// A registry client for `reference`'s registry.
    pub fn registry(&self, reference: &kiln_oci::BundleRef) -> Result<kiln_oci::Registry, Failure> {
        let mut options = kiln_oci::RegistryOptions::from_env();
        if self.insecure {
            options.insecure.push(reference.registry.clone());
        }
        options.ca_files.extend(self.ca_files.iter().cloned());
        kiln_oci::Registry::new(options).map_err(oci_failure)
    }

    /// Pulls and verifies `reference` into the bundle cache.
    pub fn pull(
        &self,
        global: &Global,
        reference: &kiln_oci::BundleRef,
    ) -> Result<kiln_oci::Pulled, Failure> {
        let puller =
            kiln_oci::Puller::new(self.registry(reference)?, kiln_oci::Puller::default_cache())
                .map_err(oci_failure)?;
        let pulled = block_on(async { puller.pull(reference).await.map_err(oci_failure) })?;
        Progress::new(global).status(
            if pulled.cached { "Cached" } else { "Pulled" },
            &format!("{} ({})", pulled.reference, pulled.bundle.digest()),
        );
        Ok(pulled)
    }
}

/// A registry or artifact failure as a kiln failure (exit 2 for a bad reference or artifact).
pub fn oci_failure(e: kiln_oci::OciError) -> Failure {
    let code = e.exit_code();
    Failure::Report(miette::Report::new(e), code)
}

/// The OCI reference `input` spells, if it is one.
pub fn oci_reference(input: &Path) -> Result<Option<kiln_oci::BundleRef>, Failure> {
    match input.to_str() {
        Some(s) if kiln_oci::is_oci(s) => {
            kiln_oci::BundleRef::parse(s).map(Some).map_err(oci_failure)
        }
        _ => Ok(None),
    }
}

/// What to apply and where the applier keeps applied bundles.
#[derive(Debug, Clone, clap::Args)]
pub struct InputArgs {
    /// A bundle (directory or tar), an artifact (oci://REGISTRY/REPOSITORY:TAG or
    /// @sha256:DIGEST) or a project (directory holding kiln.kdl, or the file).
    #[arg(default_value = ".")]
    pub input: PathBuf,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// The target: built from the project, or checked against the bundle's own.
    #[arg(long, short)]
    pub target: Option<String>,
    /// The project whose targets name kubeconfig contexts, when the input is a bundle
    /// [default: the current directory if its kiln.kdl is the bundle's project].
    #[arg(long)]
    pub project: Option<PathBuf>,
    /// Directory keeping every applied bundle by digest, for `kiln rollback`
    /// [default: $KILN_STORE_DIR, else `applied` in the user cache directory].
    #[arg(long, env = "KILN_STORE_DIR", hide_env_values = true)]
    pub store: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Print the plan and a field-level diff against the live objects; write nothing
    /// (exit 0 when nothing would change, 1 when something would).
    #[arg(long)]
    pub dry_run: bool,
    /// Take over fields that other field managers own.
    #[arg(long)]
    pub force_conflicts: bool,
    /// Delete objects of the previous bundle that this one no longer has (the default).
    #[arg(long, overrides_with = "no_prune")]
    pub prune: bool,
    /// Keep objects that left the bundle.
    #[arg(long, overrides_with = "prune")]
    pub no_prune: bool,
    /// How long each component may take to become healthy.
    #[arg(long, value_parser = parse_duration, default_value = "5m")]
    pub timeout: Duration,
    /// Do not wait for health after each wave.
    #[arg(long)]
    pub no_wait: bool,
    /// Requests in flight within a wave.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Apply the previous bundle again when health checks fail.
    #[arg(long)]
    pub auto_rollback: bool,
    /// Take over objects labelled as owned by another target.
    #[arg(long)]
    pub adopt: bool,
    /// Plan and apply every object even when the cluster's inventory records this bundle as
    /// applied (otherwise such a re-apply reads the inventory and stops).
    #[arg(long)]
    pub correct_drift: bool,
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    Text,
    Json,
}

/// A resolved input: the verified bundle, and the kubeconfig context its target names.
pub struct Resolved {
    pub bundle: kiln_bundle::Bundle,
    pub context: Option<String>,
}

pub fn run(global: &Global, args: &Args) -> Outcome {
    let resolved = resolve(global, &args.input)?;
    let selection = selection(&args.cluster, resolved.context.clone());
    let opts = ApplyOptions {
        target: args.input.target.clone(),
        force_conflicts: args.force_conflicts,
        concurrency: args.concurrency.max(1),
        health_timeout: args.timeout,
        wait: !args.no_wait,
        prune: !args.no_prune,
        adopt: args.adopt,
        correct_drift: args.correct_drift,
        auto_rollback: args.auto_rollback,
        store: store_dir(args.input.store.as_deref()),
        ..ApplyOptions::default()
    };
    let progress = Progress::new(global);
    let bundle = &resolved.bundle;
    block_on(async {
        let kube = Kube::connect(&selection).await.map_err(applier_failure)?;
        if args.dry_run {
            progress.status(
                "Planning",
                &format!("{} on {}", bundle.digest(), kube.cluster_url()),
            );
            let plan = kiln_applier::plan(&kube, bundle, &opts)
                .await
                .map_err(applier_failure)?;
            match args.output {
                Output::Text => print!("{}", kiln_applier::render::plan_text(&plan)),
                Output::Json => println!("{}", kiln_applier::render::plan_json(&plan)),
            }
            let (create, update, _, pending) = plan.counts();
            let changes = create + update + pending + plan.prune.len();
            return Ok(if changes == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            });
        }
        progress.status(
            "Applying",
            &format!("{} to {}", bundle.digest(), kube.cluster_url()),
        );
        let report = kiln_applier::apply(&kube, bundle, &opts)
            .await
            .map_err(applier_failure)?;
        match args.output {
            Output::Text if !global.quiet => print!("{}", report.to_text()),
            Output::Text => {}
            Output::Json => println!(
                "{}",
                serde_json::json!({
                    "target": report.target,
                    "digest": report.digest,
                    "skipped": report.skipped,
                    "created": report.created,
                    "configured": report.updated,
                    "unchanged": report.unchanged,
                    "pruned": report.pruned,
                    "kept": report.kept,
                    "health": report.health.iter().map(|(c, h)| serde_json::json!({"component": c, "health": h})).collect::<Vec<_>>(),
                    "requests": report.requests,
                    "writes": report.writes,
                })
            ),
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Runs the applier's async code on a runtime of its own (the rest of kiln is synchronous).
pub fn block_on<T>(f: impl std::future::Future<Output = Result<T, Failure>>) -> Result<T, Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| {
            Failure::Kiln(
                Error::failure("kiln::apply::runtime", "cannot start the async runtime")
                    .caused_by(e),
            )
        })?;
    runtime.block_on(f)
}

/// The cluster selection: `--context` first, then the target's context, then the kubeconfig's.
pub fn selection(cluster: &ClusterArgs, target_context: Option<String>) -> ClusterSelection {
    ClusterSelection {
        kubeconfig: cluster.kubeconfig.clone(),
        context: cluster.context.clone().or(target_context),
        in_cluster: false,
        request_timeout: Some(cluster.request_timeout),
    }
}

/// Where applied bundles are kept: `--store`/`KILN_STORE_DIR`, else the user cache directory.
pub fn store_dir(explicit: Option<&Path>) -> Option<PathBuf> {
    explicit
        .filter(|d| !d.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .or_else(|| dirs::cache_dir().map(|d| d.join("kiln").join("applied")))
}

/// A bundle is a tar file or a directory holding `bundle.json`; anything else is a project.
pub fn is_bundle(path: &Path) -> bool {
    if path.is_dir() {
        path.join(kiln_bundle::layout::MANIFEST).is_file()
    } else {
        path.extension().is_some_and(|e| e == "tar")
    }
}

/// Opens the input bundle (pulling an artifact first), or builds the project's target into
/// `PROJECT/build/TARGET` first.
pub fn resolve(global: &Global, input: &InputArgs) -> Result<Resolved, Failure> {
    let pulled = match oci_reference(&input.input)? {
        Some(reference) => Some(input.registry.pull(global, &reference)?.bundle),
        None => None,
    };
    if pulled.is_some() || is_bundle(&input.input) {
        let bundle = match pulled {
            Some(b) => b,
            None => super::open_bundle(&input.input)?,
        };
        let context = match &input.project {
            Some(p) => Some(target_context(&crate::project::load(p)?, &bundle)?),
            None => project_beside(&bundle),
        }
        .flatten();
        return Ok(Resolved { bundle, context });
    }
    let (project, out) = build_target(global, input)?;
    let bundle = super::open_bundle(&out)?;
    let context = target_context(&project, &bundle)?;
    Ok(Resolved { bundle, context })
}

/// Builds the project's target (`--target`, or its only one) into `PROJECT/build/TARGET`, as
/// `kiln build` would, and returns the project and that directory.
pub fn build_target(
    global: &Global,
    input: &InputArgs,
) -> Result<(crate::model::Project, PathBuf), Failure> {
    let project = crate::project::load(&input.input)?;
    let target = match &input.target {
        Some(t) => t.clone(),
        None if project.targets.len() == 1 => {
            project.targets.keys().next().cloned().unwrap_or_default()
        }
        None => {
            let names: Vec<String> = project.targets.keys().map(|n| format!("`{n}`")).collect();
            return Err(Error::input(
                "kiln::cli::choose-target",
                format!(
                    "project `{}` has {} targets",
                    project.name.value,
                    names.len()
                ),
            )
            .help(format!("choose one with `--target` ({})", names.join(", ")))
            .into());
        }
    };
    let out = project.root.join("build").join(&target);
    let build = super::build::Args {
        project: input.input.clone(),
        target: Some(target),
        all_targets: false,
        out: Some(out.clone()),
        format: super::build::Format::Dir,
        cache_dir: None,
        no_cache: false,
        locked: false,
        offline: false,
        jobs: None,
    };
    let quiet = Global {
        quiet: true,
        verbose: global.verbose,
    };
    super::build::run(&quiet, &build)?;
    Ok((project, out))
}

/// The context the project's target names (the target must exist in the project).
fn target_context(
    project: &crate::model::Project,
    bundle: &kiln_bundle::Bundle,
) -> Result<Option<String>, Failure> {
    let name = &bundle.manifest().target;
    match project.targets.get(name) {
        Some(t) => Ok(t.context.as_ref().map(|c| c.value.clone())),
        None => {
            let names: Vec<&str> = project.targets.keys().map(String::as_str).collect();
            Err(Error::input(
                "kiln::cli::unknown-target",
                format!("project `{}` has no target `{name}`", project.name.value),
            )
            .help(suggestion(name, &names))
            .into())
        }
    }
}

/// The target's context from `./kiln.kdl`, when that is the bundle's project.
fn project_beside(bundle: &kiln_bundle::Bundle) -> Option<Option<String>> {
    let here = Path::new("kiln.kdl");
    if !here.is_file() {
        return None;
    }
    let project = crate::project::load(here).ok()?;
    if project.name.value != bundle.manifest().project {
        return None;
    }
    target_context(&project, bundle).ok()
}

/// An applier error as a kiln failure: bad input exits 2, cluster failures exit 1.
pub fn applier_failure(e: ApplyError) -> Failure {
    let code = e.exit_code();
    Failure::Report(miette::Report::new(e), code)
}

/// `30s`, `5m`, `1h`, `500ms`; a bare number is seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map(|i| s.split_at(i))
        .unwrap_or((s, "s"));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration like 30s, 5m or 1h"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        "h" => Ok(Duration::from_secs(n * 3600)),
        _ => Err(format!("`{s}`: unknown unit `{unit}` (use ms, s, m or h)")),
    }
}
