//! `kiln drift`: which fields changed in the cluster since the last apply (other field
//! managers, deletions), against the bundle the input names or builds. Exit 0 when the cluster
//! matches, 1 when something drifted, 2 on bad input.

use std::process::ExitCode;

use kiln_applier::Kube;

use super::apply::{ClusterArgs, InputArgs, Output, applier_failure, block_on, resolve, selection};
use super::{Global, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

pub fn run(global: &Global, args: &Args) -> Outcome {
    let resolved = resolve(global, &args.input)?;
    if let Some(t) = &args.input.target
        && *t != resolved.bundle.manifest().target
    {
        return Err(applier_failure(kiln_applier::ApplyError::TargetMismatch {
            bundle: resolved.bundle.manifest().target.clone(),
            requested: t.clone(),
        }));
    }
    let selection = selection(&args.cluster, resolved.context.clone());
    let report = block_on(async {
        let kube = Kube::connect(&selection).await.map_err(applier_failure)?;
        kiln_applier::drift(&kube, &resolved.bundle, "kiln")
            .await
            .map_err(applier_failure)
    })?;
    match args.output {
        Output::Text if !global.quiet || !report.drifted.is_empty() => {
            print!("{}", report.to_text())
        }
        Output::Text => {}
        Output::Json => {
            let drifted: Vec<_> = report
                .drifted
                .iter()
                .map(|d| {
                    serde_json::json!({
                        "object": d.object,
                        "deleted": d.changes.is_none(),
                        "changes": d.changes,
                        "managers": d.managers,
                    })
                })
                .collect();
            println!(
                "{}",
                serde_json::json!({
                    "target": report.target,
                    "digest": report.digest,
                    "applied_digest": report.stale_bundle,
                    "checked": report.checked,
                    "drifted": drifted,
                })
            );
        }
    }
    Ok(if report.drifted.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
