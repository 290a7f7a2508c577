//! The apply run: plan, then server-side apply in order (CRDs and wait Established, Namespaces,
//! then each wave: cluster-scoped, namespaced), bounded concurrency within a step, health after
//! each wave, prune in reverse order, and the inventory record. A run that stops part way
//! records what it applied, so the next run converges and prunes correctly.

use crate::client::Kube;
use crate::discovery::ResourceMap;
use crate::error::{ApplyError, KubeError};
use crate::health::{self, Health};
use crate::inventory::{self, Inventory, ObjectRef, Revision};
use crate::options::ApplyOptions;
use crate::plan::{self, Action, Plan, Planned, apply_path, body, client_for};
use crate::prepare::Phase;
use crate::prune::{self, PruneOutcome};
use crate::store;
use futures::StreamExt;
use kiln_bundle::Bundle;
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct ApplyReport {
    pub target: String,
    pub digest: String,
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: usize,
    pub pruned: Vec<String>,
    /// Objects kept although no longer in the bundle, and why.
    pub kept: Vec<String>,
    /// Per component: `ready` or what was still not ready.
    pub health: Vec<(String, String)>,
    pub requests: u64,
    pub writes: u64,
    pub retries: u64,
    pub duration: Duration,
    pub inventory_written: bool,
    /// The inventory says this bundle is applied already; nothing was planned or written.
    pub skipped: bool,
}

impl ApplyReport {
    pub fn to_text(&self) -> String {
        if self.skipped {
            return format!(
                "{} is already applied to target `{}`: nothing to do ({} request{} in {:.2}s)\n",
                self.digest,
                self.target,
                self.requests,
                if self.requests == 1 { "" } else { "s" },
                self.duration.as_secs_f64()
            );
        }
        let mut out = format!(
            "applied {} to target `{}`: {} created, {} configured, {} unchanged, {} pruned\n",
            self.digest,
            self.target,
            self.created.len(),
            self.updated.len(),
            self.unchanged,
            self.pruned.len()
        );
        for c in &self.created {
            out.push_str(&format!("  + {c}\n"));
        }
        for u in &self.updated {
            out.push_str(&format!("  ~ {u}\n"));
        }
        for p in &self.pruned {
            out.push_str(&format!("  - {p}\n"));
        }
        for k in &self.kept {
            out.push_str(&format!("  = kept {k}\n"));
        }
        for (c, h) in &self.health {
            out.push_str(&format!("  component {c}: {h}\n"));
        }
        out.push_str(&format!(
            "{} requests ({} writes, {} retries) in {:.2}s\n",
            self.requests,
            self.writes,
            self.retries,
            self.duration.as_secs_f64()
        ));
        out
    }
}

struct Run<'a> {
    kube: &'a Kube,
    opts: &'a ApplyOptions,
    clients: HashMap<String, Kube>,
    tenants: crate::tenants::TenantPolicy,
    report: ApplyReport,
    /// Objects written so far (for a partial inventory when the run stops).
    applied: Vec<ObjectRef>,
}

/// Applies a verified bundle. The bundle type guarantees verification already happened.
pub async fn apply(
    kube: &Kube,
    bundle: &Bundle,
    opts: &ApplyOptions,
) -> Result<ApplyReport, ApplyError> {
    let started = Instant::now();
    let stats_before = snapshot(kube);
    if !opts.correct_drift
        && let Some(report) = already_applied(kube, bundle, opts).await?
    {
        let stats_after = snapshot(kube);
        return Ok(ApplyReport {
            requests: stats_after.0 - stats_before.0,
            duration: started.elapsed(),
            ..report
        });
    }
    let plan = plan::plan(kube, bundle, opts).await?;
    let mut run = Run {
        kube,
        opts,
        clients: HashMap::new(),
        tenants: plan.tenants.clone(),
        report: ApplyReport {
            target: plan.target.clone(),
            digest: plan.digest.clone(),
            ..Default::default()
        },
        applied: Vec::new(),
    };
    let outcome = run.execute(&plan).await;
    let outcome = match outcome {
        Ok(()) => run.finish(&plan, bundle).await,
        Err(e) => {
            run.record_partial(&plan).await;
            inventory::event(kube, &plan.target, "Warning", "ApplyFailed", &e.to_string()).await;
            if opts.auto_rollback
                && matches!(e, ApplyError::Unhealthy { .. } | ApplyError::Failed { .. })
            {
                return Err(rollback_after(kube, opts, &plan, e).await);
            }
            Err(e)
        }
    };
    let stats_after = snapshot(kube);
    run.report.requests = stats_after.0 - stats_before.0;
    run.report.writes = stats_after.1 - stats_before.1;
    run.report.retries = stats_after.2 - stats_before.2;
    run.report.duration = started.elapsed();
    outcome.map(|()| run.report)
}

/// The no-op re-apply: when the target's inventory records this bundle's digest as applied,
/// one read of the inventory is all the run does.
async fn already_applied(
    kube: &Kube,
    bundle: &Bundle,
    opts: &ApplyOptions,
) -> Result<Option<ApplyReport>, ApplyError> {
    let target = plan::target_of(bundle, opts)?;
    let digest = bundle.digest().to_string();
    let Some(inv) = inventory::read(kube, &bundle.manifest().project, &target).await? else {
        return Ok(None);
    };
    if inv.digest != digest || inv.status != "applied" {
        return Ok(None);
    }
    if let Some(dir) = &opts.store
        && let Err(e) = store::keep(dir, bundle)
    {
        tracing::warn!(error = %e, "could not keep the bundle in the store");
    }
    tracing::info!(%digest, target, "already applied; nothing to do");
    Ok(Some(ApplyReport {
        unchanged: inv.objects.len(),
        target,
        digest,
        skipped: true,
        ..Default::default()
    }))
}

fn snapshot(kube: &Kube) -> (u64, u64, u64) {
    let s = kube.stats();
    (
        s.requests.load(Ordering::Relaxed),
        s.writes.load(Ordering::Relaxed),
        s.retries.load(Ordering::Relaxed),
    )
}

/// After a failed health check: apply the previous bundle from the store, then report both.
async fn rollback_after(
    kube: &Kube,
    opts: &ApplyOptions,
    plan: &Plan,
    cause: ApplyError,
) -> ApplyError {
    let Some(inv) = &plan.inventory else {
        return cause;
    };
    if inv.digest.is_empty() || inv.digest == plan.digest {
        return cause;
    }
    let Some(dir) = &opts.store else { return cause };
    let previous = match store::open(dir, &inv.digest) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "automatic rollback impossible");
            return cause;
        }
    };
    let mut again = opts.clone();
    again.auto_rollback = false;
    tracing::warn!(to = %inv.digest, "health checks failed, rolling back");
    match Box::pin(apply(kube, &previous, &again)).await {
        Ok(_) => {
            inventory::event(
                kube,
                &plan.target,
                "Warning",
                "RolledBack",
                &format!("rolled back to {}", inv.digest),
            )
            .await;
            ApplyError::RolledBack {
                digest: inv.digest.clone(),
                cause: Box::new(cause),
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "automatic rollback failed");
            cause
        }
    }
}

impl Run<'_> {
    async fn execute(&mut self, plan: &Plan) -> Result<(), ApplyError> {
        let items = &plan.items;
        // CRDs, then wait until they are Established and rediscover.
        let crds: Vec<&Planned> = items
            .iter()
            .filter(|p| p.item.phase == Phase::Crd)
            .collect();
        self.apply_step(&crds).await?;
        let mut resources = plan.resources.clone();
        if !crds.is_empty() {
            let timeout = self.opts.health_timeout;
            self.wait_health(&crds, "CRDs", timeout).await?;
            if items.iter().any(|p| p.item.resource.is_none()) {
                resources = ResourceMap::discover(self.kube).await.map_err(|source| {
                    ApplyError::Cluster {
                        message: "discovery after CRDs failed".into(),
                        source,
                    }
                })?;
            }
        }
        let namespaces: Vec<&Planned> = items
            .iter()
            .filter(|p| p.item.phase == Phase::Namespace)
            .collect();
        self.apply_step(&namespaces).await?;

        let waves: BTreeSet<usize> = items.iter().map(|p| p.item.oref.wave).collect();
        for wave in waves {
            let mut resolved: Vec<Planned> = Vec::new();
            for p in items
                .iter()
                .filter(|p| p.item.oref.wave == wave && p.item.phase >= Phase::ClusterScoped)
            {
                let mut p = p.clone();
                if p.item.resource.is_none() {
                    let o = &p.item.oref;
                    p.item.resource = resources.get(&o.group, &o.version, &o.kind).cloned();
                    if p.item.resource.is_none() {
                        return Err(ApplyError::Plan {
                            problems: vec![format!(
                                "{o}: its CRD is Established but the kind is still not served"
                            )],
                        });
                    }
                }
                resolved.push(p);
            }
            let cluster: Vec<&Planned> = resolved
                .iter()
                .filter(|p| p.item.phase == Phase::ClusterScoped)
                .collect();
            let namespaced: Vec<&Planned> = resolved
                .iter()
                .filter(|p| p.item.phase == Phase::Namespaced)
                .collect();
            self.apply_step(&cluster).await?;
            self.apply_step(&namespaced).await?;
            if self.opts.wait {
                let wave_items: Vec<&Planned> = items
                    .iter()
                    .filter(|p| p.item.oref.wave == wave && p.item.phase != Phase::Crd)
                    .collect();
                let components: BTreeSet<&str> = wave_items
                    .iter()
                    .map(|p| p.item.oref.component.as_str())
                    .collect();
                for component in components {
                    let of: Vec<&Planned> = resolved
                        .iter()
                        .chain(
                            wave_items
                                .iter()
                                .copied()
                                .filter(|p| p.item.phase == Phase::Namespace),
                        )
                        .filter(|p| p.item.oref.component == component)
                        .collect();
                    let timeout = self.opts.timeout_for(component);
                    self.wait_health(&of, component, timeout).await?;
                }
            }
        }
        Ok(())
    }

    /// Applies one step's objects concurrently; unchanged objects are not written.
    async fn apply_step(&mut self, step: &[&Planned]) -> Result<(), ApplyError> {
        let mut jobs = Vec::new();
        for p in step {
            if p.action == Action::Unchanged {
                self.report.unchanged += 1;
                self.applied.push(p.item.oref.clone());
                continue;
            }
            let client = client_for(
                self.kube,
                &self.tenants,
                &p.item.oref.component,
                &mut self.clients,
            )?;
            jobs.push((*p, client));
        }
        let opts = self.opts;
        let results = futures::stream::iter(jobs.into_iter().map(|(p, client)| async move {
            let path = apply_path(&p.item.item_path().unwrap_or_default(), opts, false);
            (
                p,
                client.send(http::Method::PATCH, &path, body(&p.item)).await,
            )
        }))
        .buffer_unordered(opts.concurrency.max(1))
        .collect::<Vec<_>>()
        .await;
        let mut first_error: Option<(String, KubeError)> = None;
        for (p, r) in results {
            match r {
                Ok(_) => {
                    self.applied.push(p.item.oref.clone());
                    match p.action {
                        Action::Create => self.report.created.push(p.item.oref.to_string()),
                        Action::Pending(_) => self.report.created.push(p.item.oref.to_string()),
                        _ => self.report.updated.push(p.item.oref.to_string()),
                    }
                }
                Err(e) => {
                    tracing::error!(object = %p.item.oref, error = %e, "apply failed");
                    if first_error.is_none() {
                        first_error = Some((p.item.oref.to_string(), e));
                    }
                }
            }
        }
        match first_error {
            Some((object, source)) => Err(ApplyError::Apply { object, source }),
            None => Ok(()),
        }
    }

    async fn wait_health(
        &mut self,
        of: &[&Planned],
        component: &str,
        timeout: Duration,
    ) -> Result<(), ApplyError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let kube = self.kube;
        let waits = futures::stream::iter(
            of.iter()
                .filter(|p| health::needs_wait(&p.item.object))
                .map(|p| async move {
                    let res = p.item.resource.clone();
                    let h = match res {
                        Some(res) => {
                            health::wait_one(
                                kube,
                                &res,
                                p.item.namespace(),
                                &p.item.oref.name,
                                deadline,
                            )
                            .await
                        }
                        None => Health::InProgress("kind not served".into()),
                    };
                    (p.item.oref.to_string(), h)
                }),
        )
        .buffer_unordered(self.opts.concurrency.max(1) * 4)
        .collect::<Vec<_>>()
        .await;
        let failed: Vec<String> = waits
            .iter()
            .filter_map(|(o, h)| match h {
                Health::Failed(why) => Some(format!("{o}: {why}")),
                _ => None,
            })
            .collect();
        let not_ready: Vec<String> = waits
            .iter()
            .filter_map(|(o, h)| match h {
                Health::InProgress(why) => Some(format!("{o}: {why}")),
                _ => None,
            })
            .collect();
        if !failed.is_empty() {
            self.report
                .health
                .push((component.into(), format!("failed: {}", failed.join("; "))));
            return Err(ApplyError::Failed {
                component: component.into(),
                failed,
            });
        }
        if !not_ready.is_empty() {
            self.report.health.push((
                component.into(),
                format!("not ready: {}", not_ready.join("; ")),
            ));
            return Err(ApplyError::Unhealthy {
                component: component.into(),
                timeout_s: timeout.as_secs(),
                not_ready,
            });
        }
        tracing::info!(component, "healthy");
        self.report.health.push((component.into(), "ready".into()));
        Ok(())
    }

    /// Prune, record the inventory, keep the bundle in the store.
    async fn finish(&mut self, plan: &Plan, bundle: &Bundle) -> Result<(), ApplyError> {
        let mut kept_in_inventory = Vec::new();
        if !plan.prune.is_empty() {
            for (oref, outcome) in
                prune::prune(self.kube, &plan.prune, &plan.target, &plan.resources).await
            {
                match outcome {
                    PruneOutcome::Deleted => self.report.pruned.push(oref.to_string()),
                    PruneOutcome::Gone => {}
                    PruneOutcome::Kept(why) => self.report.kept.push(format!("{oref}: {why}")),
                    PruneOutcome::Failed(e) => {
                        self.report.kept.push(format!("{oref}: delete failed: {e}"));
                        kept_in_inventory.push(oref);
                    }
                }
            }
        }
        let mut objects: Vec<ObjectRef> = plan.items.iter().map(|p| p.item.oref.clone()).collect();
        objects.extend(kept_in_inventory);
        let changed = self.report.wrote_objects()
            || plan.inventory.as_ref().is_none_or(|inv| {
                inv.digest != plan.digest || inv.status != "applied" || inv.objects != objects
            });
        if let Some(dir) = &self.opts.store
            && let Err(e) = store::keep(dir, bundle)
        {
            tracing::warn!(error = %e, "could not keep the bundle in the store");
        }
        if !changed {
            return Ok(());
        }
        let inv = next_inventory(plan, objects, "applied", self.opts.history);
        inventory::write(self.kube, &inv)
            .await
            .map_err(|source| ApplyError::Cluster {
                message: "cannot record the inventory".into(),
                source,
            })?;
        self.report.inventory_written = true;
        inventory::event(
            self.kube,
            &plan.target,
            "Normal",
            "Applied",
            &format!(
                "applied {}: {} created, {} configured, {} pruned",
                plan.digest,
                self.report.created.len(),
                self.report.updated.len(),
                self.report.pruned.len()
            ),
        )
        .await;
        Ok(())
    }

    /// After a failure: the inventory keeps the last good digest but lists every object this
    /// run may have written, so the next run can prune them if they leave the bundle.
    async fn record_partial(&mut self, plan: &Plan) {
        let mut objects: Vec<ObjectRef> = plan
            .inventory
            .as_ref()
            .map(|i| i.objects.clone())
            .unwrap_or_default();
        for o in &self.applied {
            if !objects.iter().any(|x| x.same_object(o)) {
                objects.push(o.clone());
            }
        }
        let mut inv = match &plan.inventory {
            Some(i) => i.clone(),
            None => Inventory {
                project: plan.project.clone(),
                target: plan.target.clone(),
                digest: String::new(),
                applied_at: String::new(),
                status: String::new(),
                objects: Vec::new(),
                history: Vec::new(),
            },
        };
        if inv.objects == objects && inv.status == "failed" {
            return;
        }
        inv.objects = objects;
        inv.status = "failed".into();
        if let Err(e) = inventory::write(self.kube, &inv).await {
            tracing::error!(error = %e, "could not record the partial inventory");
        }
    }
}

impl ApplyReport {
    fn wrote_objects(&self) -> bool {
        !self.created.is_empty() || !self.updated.is_empty() || !self.pruned.is_empty()
    }
}

fn next_inventory(plan: &Plan, objects: Vec<ObjectRef>, status: &str, keep: usize) -> Inventory {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut history = plan
        .inventory
        .as_ref()
        .map(|i| i.history.clone())
        .unwrap_or_default();
    if let Some(prev) = &plan.inventory
        && !prev.digest.is_empty()
        && prev.digest != plan.digest
    {
        history.retain(|r| r.digest != prev.digest);
        history.insert(
            0,
            Revision {
                digest: prev.digest.clone(),
                applied_at: prev.applied_at.clone(),
            },
        );
    }
    history.retain(|r| r.digest != plan.digest);
    history.truncate(keep);
    Inventory {
        project: plan.project.clone(),
        target: plan.target.clone(),
        digest: plan.digest.clone(),
        applied_at: now,
        status: status.into(),
        objects,
        history,
    }
}
