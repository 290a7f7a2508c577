//! The agent: a loop inside the cluster that reads the bundle at a path (a directory or tar,
//! typically a symlink swapped atomically by whatever delivers bundles) or polls an OCI
//! reference, verifies it, applies, waits, prunes, and every interval applies again to correct
//! drift (a no-op costs reads and dry-runs, never writes). An OCI tag is resolved every interval
//! (one request); the artifact is pulled and verified only when its manifest digest changed.
//! When the registry is down or serves something that does not verify, the last good bundle
//! stays the one applied, and the failure shows in the logs, an Event and the metrics. Serves `/healthz`, `/readyz` and Prometheus `/metrics`, records
//! Events on the inventory, and shuts down gracefully: a reconcile in progress finishes first.

use crate::apply::apply;
use crate::client::Kube;
use crate::error::ApplyError;
use crate::inventory;
use crate::metrics::Metrics;
use crate::options::ApplyOptions;
use crate::source::BundleSource;
use axum::Router;
use axum::routing::get;
use kiln_bundle::{Bundle, Digest};
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// The bundle (directory, tar or OCI reference) to converge to.
    pub source: BundleSource,
    /// Pulls an OCI source (required for one; built by [`BundleSource::puller`]).
    pub puller: Option<kiln_oci::Puller>,
    /// Time between reconciles.
    pub interval: Duration,
    /// Where `/healthz`, `/readyz` and `/metrics` are served.
    pub listen: SocketAddr,
    pub apply: ApplyOptions,
}

/// State shared with the HTTP endpoints.
#[derive(Debug, Default)]
pub struct AgentState {
    pub ready: AtomicBool,
    pub metrics: Metrics,
    /// The last artifact pulled from an OCI source that verified.
    pub last_good: Mutex<Option<LastGood>>,
}

/// A verified artifact: its manifest digest and the cached copy, reopened (and verified again)
/// for every reconcile so that the agent holds no bundle in memory between reconciles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastGood {
    pub manifest_digest: String,
    pub path: PathBuf,
    pub bundle_digest: Digest,
}

/// Runs until `shutdown` resolves; returns after the current reconcile has finished.
pub async fn run(
    kube: Kube,
    config: AgentConfig,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let state = Arc::new(AgentState::default());
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    tracing::info!(addr = %listener.local_addr()?, "serving /healthz, /readyz, /metrics");
    let app = router(state.clone());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut http_stop = stop_rx.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = http_stop.wait_for(|s| *s).await;
            })
            .await
    });
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        reconcile(&kube, &config, &state).await;
        release_memory();
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tokio::time::sleep(config.interval) => {}
        }
    }
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    let _ = server.await;
    Ok(())
}

pub fn router(state: Arc<AgentState>) -> Router {
    let ready = state.clone();
    let metrics = state.clone();
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(move || {
                let ready = ready.clone();
                async move {
                    if ready.ready.load(Ordering::Relaxed) {
                        (http::StatusCode::OK, "ready")
                    } else {
                        (
                            http::StatusCode::SERVICE_UNAVAILABLE,
                            "no successful reconcile yet",
                        )
                    }
                }
            }),
        )
        .route(
            "/metrics",
            get(move || {
                let m = metrics.clone();
                async move {
                    (
                        [(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                        m.metrics.render(),
                    )
                }
            }),
        )
}

/// One pass: fetch, verify, apply, wait, prune, record. Failures are logged and counted, never
/// fatal.
pub async fn reconcile(kube: &Kube, config: &AgentConfig, state: &AgentState) {
    let started = Instant::now();
    let bundle = match fetch(kube, config, state).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, source = %config.source, "bundle refused");
            state
                .metrics
                .record(false, started.elapsed().as_secs_f64(), 0, 0, 0, "");
            if let Some(target) = &config.apply.target {
                inventory::event(kube, target, "Warning", "BundleRejected", &e.to_string()).await;
            }
            return;
        }
    };
    let objects = bundle.objects().count() as u64;
    match apply(kube, &bundle, &config.apply).await {
        Ok(report) => {
            let drifted = report.updated.len() as u64 + report.created.len() as u64;
            tracing::info!(
                digest = %report.digest,
                created = report.created.len(),
                configured = report.updated.len(),
                pruned = report.pruned.len(),
                writes = report.writes,
                "reconciled"
            );
            state.metrics.record(
                true,
                started.elapsed().as_secs_f64(),
                objects,
                report.writes,
                drifted,
                &report.digest,
            );
            state.ready.store(true, Ordering::Relaxed);
        }
        Err(e) => {
            tracing::error!(error = %e, "reconcile failed");
            state
                .metrics
                .record(false, started.elapsed().as_secs_f64(), objects, 0, 0, "");
        }
    }
}

/// The bundle to apply this pass: the path's, or for an OCI source the artifact the reference
/// names now, falling back to the last good one when that cannot be had.
async fn fetch(
    kube: &Kube,
    config: &AgentConfig,
    state: &AgentState,
) -> Result<Bundle, ApplyError> {
    let (BundleSource::Oci(r), Some(puller)) = (&config.source, &config.puller) else {
        return config.source.open(config.puller.as_ref()).await;
    };
    let last = state.last_good.lock().ok().and_then(|l| l.clone());
    let failed = match puller.resolve(r).await {
        Ok(digest) if last.as_ref().is_some_and(|l| l.manifest_digest == digest) => {
            state.metrics.record_source(true, false, &digest);
            return reopen(last.as_ref());
        }
        Ok(digest) => match puller.pull_digest(r, &digest).await {
            Ok(pulled) => {
                tracing::info!(reference = %pulled.reference, bundle = %pulled.bundle.digest(), cached = pulled.cached, "pulled a new artifact");
                state.metrics.record_source(true, true, &digest);
                if let Ok(mut l) = state.last_good.lock() {
                    *l = Some(LastGood {
                        manifest_digest: digest,
                        path: pulled.bundle.path().to_path_buf(),
                        bundle_digest: pulled.bundle.digest(),
                    });
                }
                return Ok(pulled.bundle);
            }
            Err(e) => e,
        },
        Err(e) => e,
    };
    state.metrics.record_source(false, false, "");
    let Some(last) = last else {
        return Err(failed.into());
    };
    if failed.is_transient() {
        tracing::warn!(error = %failed, reference = %r, "registry unavailable; keeping the last good bundle");
    } else {
        tracing::error!(error = %failed, reference = %r, "artifact refused; keeping the last good bundle");
        if let Some(target) = &config.apply.target {
            inventory::event(
                kube,
                target,
                "Warning",
                "BundleRejected",
                &failed.to_string(),
            )
            .await;
        }
    }
    reopen(Some(&last))
}

fn reopen(last: Option<&LastGood>) -> Result<Bundle, ApplyError> {
    let last = last.ok_or_else(|| ApplyError::Config {
        message: "no bundle was pulled yet".into(),
    })?;
    Bundle::open_expecting(&last.path, last.bundle_digest).map_err(|source| ApplyError::Bundle {
        path: last.path.display().to_string(),
        source,
    })
}

/// Hands the heap a reconcile used (the decoded bundle, responses) back to the system, so the
/// agent idles small between reconciles.
fn release_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory at the top of glibc's heaps; it has no
    // preconditions and touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}
