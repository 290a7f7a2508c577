//! `kiln rollback --target T [--to DIGEST]`: apply again a bundle from the target's inventory
//! history (the one before the current by default), reopened from the bundle store where
//! `kiln apply` kept it and verified again before anything is sent.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use kiln_applier::{ApplyOptions, Kube};

use super::apply::{ClusterArgs, applier_failure, block_on, parse_duration, selection, store_dir};
use super::{Global, Outcome};
use crate::diag::{Error, suggestion};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The target to roll back.
    #[arg(long, short)]
    pub target: String,
    /// A digest from the target's history [default: the bundle applied before the current one].
    #[arg(long)]
    pub to: Option<String>,
    /// The project whose target names the kubeconfig context [default: the current directory
    /// when it holds kiln.kdl].
    #[arg(long)]
    pub project: Option<PathBuf>,
    /// The bundle store `kiln apply` kept bundles in
    /// [default: $KILN_STORE_DIR, else `applied` in the user cache directory].
    #[arg(long, env = "KILN_STORE_DIR", hide_env_values = true)]
    pub store: Option<PathBuf>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// How long each component may take to become healthy.
    #[arg(long, value_parser = parse_duration, default_value = "5m")]
    pub timeout: Duration,
    /// Take over fields that other field managers own.
    #[arg(long)]
    pub force_conflicts: bool,
}

pub fn run(global: &Global, args: &Args) -> Outcome {
    let (project_name, context) = project_context(args)?;
    let store = store_dir(args.store.as_deref()).ok_or_else(|| {
        Error::input("kiln::rollback::store", "no bundle store to roll back from")
            .help("pass --store with the directory `kiln apply --store` kept bundles in")
    })?;
    let selection = selection(&args.cluster, context);
    let opts = ApplyOptions {
        health_timeout: args.timeout,
        force_conflicts: args.force_conflicts,
        store: Some(store.clone()),
        ..ApplyOptions::default()
    };
    let report = block_on(async {
        let kube = Kube::connect(&selection).await.map_err(applier_failure)?;
        kiln_applier::rollback(
            &kube,
            &project_name,
            &args.target,
            args.to.as_deref(),
            &store,
            &opts,
        )
        .await
        .map_err(applier_failure)
    })?;
    if !global.quiet {
        print!("{}", report.to_text());
    }
    Ok(ExitCode::SUCCESS)
}

/// The project name (to check the inventory's owner) and the target's context, when a project
/// is given or found in the current directory; otherwise any project's inventory is accepted.
fn project_context(args: &Args) -> Result<(String, Option<String>), super::Failure> {
    let path = match &args.project {
        Some(p) => p.clone(),
        None if std::path::Path::new("kiln.kdl").is_file() => PathBuf::from("kiln.kdl"),
        None => return Ok((String::new(), None)),
    };
    let project = crate::project::load(&path)?;
    match project.targets.get(&args.target) {
        Some(t) => Ok((
            project.name.value.clone(),
            t.context.as_ref().map(|c| c.value.clone()),
        )),
        None => {
            let names: Vec<&str> = project.targets.keys().map(String::as_str).collect();
            Err(Error::input(
                "kiln::cli::unknown-target",
                format!(
                    "project `{}` has no target `{}`",
                    project.name.value, args.target
                ),
            )
            .help(suggestion(&args.target, &names))
            .into())
        }
    }
}
