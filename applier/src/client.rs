//! The connection to a cluster: kubeconfig and context selection like kubectl (`--kubeconfig`,
//! `--context`, `KUBECONFIG`), in-cluster configuration for the agent, impersonation for
//! tenants, and raw JSON requests with bounded retries on transient failures.

use crate::error::{ApplyError, KubeError};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Which cluster to talk to.
#[derive(Debug, Clone, Default)]
pub struct ClusterSelection {
    /// A kubeconfig file; otherwise `KUBECONFIG`, then `~/.kube/config`, then in-cluster.
    pub kubeconfig: Option<PathBuf>,
    /// A context of the kubeconfig; otherwise its current context.
    pub context: Option<String>,
    /// Use the pod's service account (the agent inside a cluster).
    pub in_cluster: bool,
    /// Per-request timeout (no answer within it is a transient failure).
    pub request_timeout: Option<Duration>,
}

/// Retry policy for transient failures (connection errors, 429, 5xx, optimistic-lock 409).
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 6,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(3),
        }
    }
}

/// A client for one cluster identity.
#[derive(Clone)]
pub struct Kube {
    client: kube::Client,
    config: kube::Config,
    pub retry: RetryPolicy,
    stats: Arc<Stats>,
}

/// Request counters, for reports and the benchmark.
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub writes: AtomicU64,
    pub retries: AtomicU64,
}

impl Kube {
    pub async fn connect(sel: &ClusterSelection) -> Result<Kube, ApplyError> {
        let config_err = |e: &dyn std::fmt::Display| ApplyError::Config {
            message: e.to_string(),
        };
        let mut config = if sel.in_cluster {
            kube::Config::incluster().map_err(|e| config_err(&e))?
        } else {
            let options = kube::config::KubeConfigOptions {
                context: sel.context.clone(),
                ..Default::default()
            };
            let path = sel.kubeconfig.clone().or_else(|| {
                std::env::var_os("KUBECONFIG")
                    .and_then(|v| std::env::split_paths(&v).find(|p| p.exists()))
            });
            match path {
                Some(p) => {
                    let kc = kube::config::Kubeconfig::read_from(&p)
                        .map_err(|e| config_err(&format!("{}: {e}", p.display())))?;
                    kube::Config::from_custom_kubeconfig(kc, &options)
                        .await
                        .map_err(|e| config_err(&format!("{}: {e}", p.display())))?
                }
                None if sel.context.is_some() => kube::Config::from_kubeconfig(&options)
                    .await
                    .map_err(|e| config_err(&e))?,
                None => kube::Config::infer().await.map_err(|e| config_err(&e))?,
            }
        };
        config.default_retry = false;
        if let Some(t) = sel.request_timeout {
            config.read_timeout = Some(t);
            config.write_timeout = Some(t);
            config.connect_timeout = Some(t);
            config.reset_reader_on_write = true;
        }
        Self::from_config(config)
    }

    pub fn from_config(config: kube::Config) -> Result<Kube, ApplyError> {
        // Several rustls providers can be compiled in when kiln's crates share a build (the
        // sources crate brings aws-lc-rs): choose ring explicitly instead of letting rustls panic.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = kube::Client::try_from(config.clone()).map_err(|e| ApplyError::Config {
            message: e.to_string(),
        })?;
        Ok(Kube {
            client,
            config,
            retry: RetryPolicy::default(),
            stats: Arc::new(Stats::default()),
        })
    }

    /// The same cluster, acting as `user` (`Impersonate-User`), sharing counters.
    pub fn impersonate(&self, user: &str) -> Result<Kube, ApplyError> {
        let mut config = self.config.clone();
        config.auth_info.impersonate = Some(user.to_string());
        let mut k = Self::from_config(config)?;
        k.retry = self.retry;
        k.stats = self.stats.clone();
        Ok(k)
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    pub fn default_namespace(&self) -> &str {
        &self.config.default_namespace
    }

    pub fn cluster_url(&self) -> String {
        self.config.cluster_url.to_string()
    }

    pub fn raw(&self) -> &kube::Client {
        &self.client
    }

    /// One request, retried on transient failures.
    pub async fn send(
        &self,
        method: http::Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Result<Value, KubeError> {
        let mut attempt = 0;
        loop {
            let result = self.send_once(method.clone(), path, body.clone()).await;
            match result {
                Err(e) if e.is_transient() && attempt + 1 < self.retry.attempts => {
                    attempt += 1;
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    let backoff = self
                        .retry
                        .initial_backoff
                        .saturating_mul(1 << attempt.min(10))
                        .min(self.retry.max_backoff);
                    tracing::debug!(%method, path, error = %e, ?backoff, "retrying");
                    tokio::time::sleep(backoff).await;
                }
                other => return other,
            }
        }
    }

    async fn send_once(
        &self,
        method: http::Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Result<Value, KubeError> {
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let is_write = method != http::Method::GET && !path.contains("dryRun=All");
        if is_write {
            self.stats.writes.fetch_add(1, Ordering::Relaxed);
        }
        let mut builder = http::Request::builder().method(method.clone()).uri(path);
        let bytes = match body {
            Some((content_type, bytes)) => {
                builder = builder.header("content-type", content_type);
                bytes
            }
            None => Vec::new(),
        };
        let request = builder.body(bytes).map_err(|e| KubeError::Transport {
            method: method.to_string(),
            path: path.to_string(),
            message: e.to_string(),
        })?;
        self.client
            .request::<Value>(request)
            .await
            .map_err(|e| classify(&method, path, e))
    }

    pub async fn get(&self, path: &str) -> Result<Option<Value>, KubeError> {
        match self.send(http::Method::GET, path, None).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Watches lines of a watch request until the stream ends.
    pub async fn watch(
        &self,
        path: &str,
    ) -> Result<
        impl futures::Stream<Item = Result<kube::core::WatchEvent<Value>, kube::Error>> + use<>,
        KubeError,
    > {
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let request = http::Request::builder()
            .method(http::Method::GET)
            .uri(path)
            .body(Vec::new())
            .map_err(|e| KubeError::Transport {
                method: "GET".into(),
                path: path.into(),
                message: e.to_string(),
            })?;
        self.client
            .request_events::<Value>(request)
            .await
            .map_err(|e| classify(&http::Method::GET, path, e))
    }
}

fn classify(method: &http::Method, path: &str, e: kube::Error) -> KubeError {
    match e {
        kube::Error::Api(status) => {
            let causes = status
                .details
                .as_ref()
                .map(|d| {
                    d.causes
                        .iter()
                        .map(|c| format!("{}: {}", c.field, c.message))
                        .collect()
                })
                .unwrap_or_default();
            KubeError::Api {
                method: method.to_string(),
                path: path.to_string(),
                code: status.code,
                reason: status.reason.clone(),
                message: status.message.clone(),
                causes,
            }
        }
        other => KubeError::Transport {
            method: method.to_string(),
            path: path.to_string(),
            message: error_chain(&other),
        },
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = s.source();
    }
    out
}
