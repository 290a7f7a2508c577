//! Rollback: apply again a bundle from the target's history (by digest, or the one before the
//! current), reopened from the bundle store and verified like any other bundle.

use crate::apply::{ApplyReport, apply};
use crate::client::Kube;
use crate::error::ApplyError;
use crate::inventory;
use crate::options::ApplyOptions;
use crate::store;
use std::path::Path;

/// Re-applies `to` (or the previous digest) for `target` of `project`.
pub async fn rollback(
    kube: &Kube,
    project: &str,
    target: &str,
    to: Option<&str>,
    store_dir: &Path,
    opts: &ApplyOptions,
) -> Result<ApplyReport, ApplyError> {
    let inv = inventory::read(kube, project, target)
        .await?
        .ok_or_else(|| ApplyError::NoInventory {
            target: target.into(),
        })?;
    let known: Vec<String> = inv.history.iter().map(|r| r.digest.clone()).collect();
    let digest = match to {
        Some(d) if known.iter().any(|k| k == d) || inv.digest == d => d.to_string(),
        Some(d) => {
            return Err(ApplyError::UnknownRevision {
                target: target.into(),
                digest: d.into(),
                known,
            });
        }
        None => known
            .first()
            .cloned()
            .ok_or_else(|| ApplyError::UnknownRevision {
                target: target.into(),
                digest: "(previous)".into(),
                known: known.clone(),
            })?,
    };
    let bundle = store::open(store_dir, &digest)?;
    let mut opts = opts.clone();
    opts.auto_rollback = false;
    opts.target = Some(target.into());
    let report = apply(kube, &bundle, &opts).await?;
    inventory::event(
        kube,
        target,
        "Normal",
        "RolledBack",
        &format!("rolled back to {digest}"),
    )
    .await;
    Ok(report)
}
