//! The `kiln-applier` binary: `apply`, `plan` (`apply --dry-run`), `drift`, `rollback` and the
//! in-cluster `agent`. Bundles are paths (directory or tar) or OCI references (`oci://…`).
//! Exit codes: 0 ok, 1 failure or drift found, 2 bad input or usage.

#![allow(clippy::result_large_err)]

use clap::{Args, Parser, Subcommand, ValueEnum};
use kiln_applier::agent::{self, AgentConfig};
use kiln_applier::{ApplyError, ApplyOptions, BundleSource, ClusterSelection, Kube};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "kiln-applier",
    version,
    about = "Verify a kiln bundle and converge a cluster to it"
)]
struct Cli {
    #[command(flatten)]
    cluster: ClusterArgs,
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value = "text")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq)]
enum Output {
    Text,
    Json,
}

#[derive(Debug, Args)]
struct ClusterArgs {
    /// Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, global = true)]
    kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: the current context).
    #[arg(long, global = true)]
    context: Option<String>,
    /// Use the pod's service account (inside a cluster).
    #[arg(long, global = true)]
    in_cluster: bool,
    /// Timeout of one API request.
    #[arg(long, global = true, value_parser = parse_duration, default_value = "30s")]
    request_timeout: Duration,
}

/// How an `oci://` bundle is pulled.
#[derive(Debug, Args)]
struct RegistryArgs {
    /// Speak plain HTTP to the reference's registry (a loopback or in-cluster registry);
    /// `KILN_INSECURE_REGISTRIES` lists more.
    #[arg(long)]
    insecure: bool,
    /// Extra PEM root certificate for the registry (repeatable); `KILN_CA_CERTIFICATES` too.
    #[arg(long = "ca-file")]
    ca_files: Vec<PathBuf>,
    /// Where pulled bundles are cached by manifest digest [default: a temporary directory].
    #[arg(long)]
    cache_dir: Option<PathBuf>,
}

impl RegistryArgs {
    fn puller(&self, source: &BundleSource) -> Result<Option<kiln_oci::Puller>, ApplyError> {
        source.puller(self.insecure, &self.ca_files, self.cache_dir.clone())
    }

    /// Opens (pulling if needed) and verifies the bundle named by `input`.
    async fn open(&self, input: &str) -> Result<kiln_bundle::Bundle, ApplyError> {
        let source = BundleSource::parse(input)?;
        source.open(self.puller(&source)?.as_ref()).await
    }
}

#[derive(Debug, Args)]
struct ApplyArgs {
    /// Bundle directory or tar, or oci://REGISTRY/REPOSITORY:TAG (or @sha256:DIGEST).
    bundle: String,
    #[command(flatten)]
    registry: RegistryArgs,
    /// Refuse a bundle built for another target.
    #[arg(long)]
    target: Option<String>,
    /// Print the plan and field-level diff against the live objects; write nothing.
    #[arg(long)]
    dry_run: bool,
    #[arg(long, value_enum, default_value = "text")]
    output: Output,
    /// Take over fields that other field managers own.
    #[arg(long)]
    force_conflicts: bool,
    /// Do not delete objects that left the bundle.
    #[arg(long)]
    no_prune: bool,
    /// Do not wait for health after each wave.
    #[arg(long)]
    no_wait: bool,
    /// Health timeout per component.
    #[arg(long, value_parser = parse_duration, default_value = "5m")]
    timeout: Duration,
    /// Health timeout for one component: NAME=DURATION (repeatable).
    #[arg(long = "component-timeout", value_parser = parse_component_timeout)]
    component_timeouts: Vec<(String, Duration)>,
    /// Requests in flight within a wave.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Apply the previous bundle again when health checks fail (needs --store).
    #[arg(long)]
    auto_rollback: bool,
    /// Directory keeping applied bundles by digest (for rollback and drift).
    #[arg(long)]
    store: Option<PathBuf>,
    /// Take over objects labelled as owned by another target.
    #[arg(long)]
    adopt: bool,
    /// Plan and apply every object even when the inventory records this bundle as applied.
    #[arg(long)]
    correct_drift: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Verify a bundle and converge the cluster to it.
    Apply(ApplyArgs),
    /// Same as `apply --dry-run`.
    Plan(ApplyArgs),
    /// List fields changed in the cluster since the bundle was applied.
    Drift {
        /// The applied bundle (directory, tar or oci:// reference).
        bundle: String,
        #[command(flatten)]
        registry: RegistryArgs,
        #[arg(long, value_enum, default_value = "text")]
        output: Output,
    },
    /// Apply a previous bundle of a target again.
    Rollback {
        #[arg(long)]
        target: String,
        /// Digest from the inventory history (default: the previous one).
        #[arg(long)]
        to: Option<String>,
        /// The bundle store the applier kept bundles in.
        #[arg(long)]
        store: PathBuf,
        #[arg(long, value_parser = parse_duration, default_value = "5m")]
        timeout: Duration,
    },
    /// Run inside the cluster: converge to the bundle at a path or in a registry, forever.
    Agent {
        /// The bundle to converge to: a directory or tar (replace it atomically to deliver), or
        /// oci://REGISTRY/REPOSITORY:TAG, polled every interval.
        #[arg(long, visible_alias = "source")]
        bundle: String,
        #[command(flatten)]
        registry: RegistryArgs,
        #[arg(long, value_parser = parse_duration, default_value = "1m")]
        interval: Duration,
        #[arg(long, default_value = "0.0.0.0:8080")]
        listen: std::net::SocketAddr,
        #[arg(long)]
        target: Option<String>,
        #[arg(long)]
        store: Option<PathBuf>,
        /// Do not take over fields other managers changed (drift then stays uncorrected).
        #[arg(long)]
        no_force_conflicts: bool,
        /// Skip a reconcile when the inventory records the bundle as applied (no drift
        /// correction; an idle pass is one read).
        #[arg(long)]
        no_drift_correction: bool,
        #[arg(long, value_parser = parse_duration, default_value = "5m")]
        timeout: Duration,
    },
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map(|i| s.split_at(i))
        .unwrap_or((s, "s"));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration like 30s, 5m or 1h"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" | "" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        "h" => Ok(Duration::from_secs(n * 3600)),
        _ => Err(format!("`{s}`: unknown unit `{unit}` (use ms, s, m or h)")),
    }
}

fn parse_component_timeout(s: &str) -> Result<(String, Duration), String> {
    let (name, d) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not NAME=DURATION"))?;
    Ok((name.to_string(), parse_duration(d)?))
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KILN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,kiln_applier=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

fn options(a: &ApplyArgs) -> Result<ApplyOptions, ApplyError> {
    Ok(ApplyOptions {
        target: a.target.clone(),
        force_conflicts: a.force_conflicts,
        concurrency: a.concurrency.max(1),
        health_timeout: a.timeout,
        component_timeouts: a.component_timeouts.iter().cloned().collect(),
        wait: !a.no_wait,
        prune: !a.no_prune,
        adopt: a.adopt,
        correct_drift: a.correct_drift,
        auto_rollback: a.auto_rollback,
        store: a.store.clone(),
        ..ApplyOptions::default()
    })
}

fn exit_code(e: &ApplyError) -> ExitCode {
    ExitCode::from(e.exit_code())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            let code = exit_code(&e);
            eprintln!("{:?}", miette::Report::new(e));
            code
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode, ApplyError> {
    let selection = ClusterSelection {
        kubeconfig: cli.cluster.kubeconfig.clone(),
        context: cli.cluster.context.clone(),
        in_cluster: cli.cluster.in_cluster,
        request_timeout: Some(cli.cluster.request_timeout),
    };
    match cli.command {
        Command::Plan(a) => plan_cmd(&selection, &a).await,
        Command::Apply(a) if a.dry_run => plan_cmd(&selection, &a).await,
        Command::Apply(a) => {
            let opts = options(&a)?;
            let bundle = a.registry.open(&a.bundle).await?;
            let kube = Kube::connect(&selection).await?;
            let report = kiln_applier::apply(&kube, &bundle, &opts).await?;
            match a.output {
                Output::Text => print!("{}", report.to_text()),
                Output::Json => println!(
                    "{}",
                    serde_json::json!({
                        "target": report.target, "digest": report.digest, "created": report.created,
                        "configured": report.updated, "unchanged": report.unchanged, "pruned": report.pruned,
                        "kept": report.kept, "requests": report.requests, "writes": report.writes,
                    })
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Drift {
            bundle,
            registry,
            output,
        } => {
            let bundle = registry.open(&bundle).await?;
            let kube = Kube::connect(&selection).await?;
            let report = kiln_applier::drift(&kube, &bundle, "kiln").await?;
            match output {
                Output::Text => print!("{}", report.to_text()),
                Output::Json => {
                    let drifted: Vec<_> = report
                        .drifted
                        .iter()
                        .map(|d| serde_json::json!({"object": d.object, "deleted": d.changes.is_none(), "changes": d.changes, "managers": d.managers}))
                        .collect();
                    println!(
                        "{}",
                        serde_json::json!({"target": report.target, "digest": report.digest, "checked": report.checked, "drifted": drifted})
                    );
                }
            }
            Ok(if report.drifted.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Rollback {
            target,
            to,
            store,
            timeout,
        } => {
            let kube = Kube::connect(&selection).await?;
            let opts = ApplyOptions {
                health_timeout: timeout,
                ..ApplyOptions::default()
            };
            let report =
                kiln_applier::rollback(&kube, "", &target, to.as_deref(), &store, &opts).await?;
            print!("{}", report.to_text());
            Ok(ExitCode::SUCCESS)
        }
        Command::Agent {
            bundle,
            registry,
            interval,
            listen,
            target,
            store,
            no_force_conflicts,
            no_drift_correction,
            timeout,
        } => {
            let source = BundleSource::parse(&bundle)?;
            let puller = registry.puller(&source)?;
            let kube = Kube::connect(&selection).await?;
            let apply = ApplyOptions {
                target,
                store,
                force_conflicts: !no_force_conflicts,
                correct_drift: !no_drift_correction,
                health_timeout: timeout,
                ..ApplyOptions::default()
            };
            let config = AgentConfig {
                source,
                puller,
                interval,
                listen,
                apply,
            };
            agent::run(kube, config, shutdown_signal())
                .await
                .map_err(|source| ApplyError::Io {
                    message: format!("cannot serve on {listen}"),
                    source,
                })?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn plan_cmd(selection: &ClusterSelection, a: &ApplyArgs) -> Result<ExitCode, ApplyError> {
    let opts = options(a)?;
    let bundle = a.registry.open(&a.bundle).await?;
    let kube = Kube::connect(selection).await?;
    let plan = kiln_applier::plan(&kube, &bundle, &opts).await?;
    match a.output {
        Output::Text => print!("{}", kiln_applier::render::plan_text(&plan)),
        Output::Json => println!("{}", kiln_applier::render::plan_json(&plan)),
    }
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
