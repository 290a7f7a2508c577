//! The agent: a loop inside the cluster that reads the bundle at a path (a directory or tar,
//! typically a symlink swapped atomically by whatever delivers bundles), verifies it, applies,
//! waits, prunes, and every interval applies again to correct drift (a no-op costs reads and
//! dry-runs, never writes). Serves `/healthz`, `/readyz` and Prometheus `/metrics`, records
//! Events on the inventory, and shuts down gracefully: a reconcile in progress finishes first.

use crate::apply::apply;
use crate::client::Kube;
use crate::inventory;
use crate::metrics::Metrics;
use crate::options::ApplyOptions;
use axum::Router;
use axum::routing::get;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// The bundle (directory or tar) to converge to.
    pub source: PathBuf,
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

/// One pass: verify, apply, wait, prune, record. Failures are logged and counted, never fatal.
pub async fn reconcile(kube: &Kube, config: &AgentConfig, state: &AgentState) {
    let started = Instant::now();
    let bundle = match crate::open_bundle(&config.source) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, source = %config.source.display(), "bundle refused");
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
