//! A Kubernetes API server double that speaks the REST protocol over real HTTP, so the applier
//! can be tested without a cluster. Test support only: never linked into a shipped binary.
//!
//! Start one with [`ApiServer::start`]; point kube-rs or kubectl at [`ApiServer::url`] (or the
//! kubeconfig from [`ApiServer::write_kubeconfig`]). The double serves discovery, CRUD,
//! server-side apply with managedFields and per-field conflicts, dry-run, resourceVersion and
//! generation, label selectors, watch, delete with propagation and owner-reference garbage
//! collection, the status subresource, and CRDs. Tests play controllers and faults through the
//! hook methods (`set_status`, `mark_rolled_out`, `fail_job`, `inject`, `drop_watches`, …).

mod fields;
mod http;
mod resources;
mod selectors;
mod ssa;
mod status;
mod store;
mod validate;

pub use http::{Fault, FaultKind, RequestRecord};

use http::Shared;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use store::Store;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// A running API server double. Dropping it stops the server.
pub struct ApiServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
}

impl ApiServer {
    /// Starts the double on a random free loopback port (on the current tokio runtime).
    pub async fn start() -> std::io::Result<ApiServer> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (rv_tx, _) = watch::channel(0);
        let (drop_tx, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            store: Mutex::new(Store::new()),
            rv_tx,
            drop_tx,
            faults: Mutex::new(Vec::new()),
            unreachable: AtomicBool::new(false),
            requests: Mutex::new(Vec::new()),
            request_count: AtomicU64::new(0),
            restrictions: Mutex::new(HashMap::new()),
            addr: addr.to_string(),
        });
        let (stop, stop_rx) = watch::channel(false);
        tokio::spawn(serve(listener, shared.clone(), stop_rx));
        Ok(ApiServer { addr, shared, stop })
    }

    /// Starts the double on its own runtime thread, for synchronous tests and tools.
    pub fn start_background() -> std::io::Result<ApiServer> {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            rt.block_on(async move {
                let server = ApiServer::start().await;
                let mut stopped = server.as_ref().ok().map(|s| s.stop.subscribe());
                let _ = tx.send(server);
                if let Some(rx) = stopped.as_mut() {
                    let _ = rx.wait_for(|s| *s).await;
                }
            });
        });
        rx.recv().map_err(std::io::Error::other)?
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A kubeconfig with one context (`double`, or `name` for more) pointing at this server.
    pub fn kubeconfig(&self, context: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: {context}\n  cluster:\n    server: {url}\ncontexts:\n- name: {context}\n  context:\n    cluster: {context}\n    user: {context}\n    namespace: default\ncurrent-context: {context}\nusers:\n- name: {context}\n  user:\n    token: double-token\n",
            url = self.url()
        )
    }

    pub fn write_kubeconfig(&self, path: &Path, context: &str) -> std::io::Result<()> {
        std::fs::write(path, self.kubeconfig(context))
    }

    fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        let mut guard = self
            .shared
            .store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let out = f(&mut guard);
        drop(guard);
        self.shared.notify();
        out
    }

    /// The stored object, by apiVersion and kind (`None` when absent).
    pub fn object(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<Value> {
        let (group, _) = split_api_version(api_version);
        self.with_store(|s| {
            let def = s.def_by_kind(group, kind)?.clone();
            s.get(&def, namespace, name).ok()
        })
    }

    /// Every stored object of a kind.
    pub fn objects(&self, api_version: &str, kind: &str) -> Vec<Value> {
        let (group, _) = split_api_version(api_version);
        self.with_store(|s| {
            let Some(def) = s.def_by_kind(group, kind).cloned() else {
                return Vec::new();
            };
            let list = s.list(&def, None, &Default::default(), &Default::default());
            list["items"].as_array().cloned().unwrap_or_default()
        })
    }

    /// Creates or replaces an object directly (as another actor would), bypassing faults.
    pub fn put_object(&self, obj: Value, manager: &str) -> Result<Value, Value> {
        let api_version = obj["apiVersion"].as_str().unwrap_or_default().to_string();
        let kind = obj["kind"].as_str().unwrap_or_default().to_string();
        let ns = obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let (group, _) = split_api_version(&api_version);
        self.with_store(|s| {
            let def = s
                .def_by_kind(group, &kind)
                .cloned()
                .ok_or_else(|| json!({"message": format!("no kind {kind}")}))?;
            let ns = if def.namespaced { ns } else { String::new() };
            let ctx = store::WriteCtx {
                manager: manager.into(),
                ..Default::default()
            };
            let existing = s.get(&def, &ns, &name).ok();
            let result = match existing {
                Some(_) => s.update(&def, &ns, &name, obj, &ctx),
                None => s.create(&def, &ns, obj, &ctx),
            };
            result.map_err(|e| e.body)
        })
    }

    /// Changes one field as another field manager would (a `kubectl edit`-style update).
    pub fn edit(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
        manager: &str,
        f: impl FnOnce(&mut Value),
    ) -> Result<Value, Value> {
        let mut obj = self
            .object(api_version, kind, namespace, name)
            .ok_or_else(|| json!({"message": "not found"}))?;
        f(&mut obj);
        self.put_object(obj, manager)
    }

    /// Deletes an object directly (as another actor would).
    pub fn delete_object(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> bool {
        let (group, _) = split_api_version(api_version);
        self.with_store(|s| {
            let Some(def) = s.def_by_kind(group, kind).cloned() else {
                return false;
            };
            s.delete(&def, namespace, name, "Background", false).is_ok()
        })
    }

    /// Replaces an object's status, as its controller would.
    pub fn set_status(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
        status: Value,
    ) -> Result<Value, Value> {
        let (group, _) = split_api_version(api_version);
        self.with_store(|s| {
            let def = s
                .def_by_kind(group, kind)
                .cloned()
                .ok_or_else(|| json!({"message": format!("no kind {kind}")}))?;
            s.set_status(&def, namespace, name, status)
                .map_err(|e| e.body)
        })
    }

    /// Plays the workload controller: the Deployment/StatefulSet/DaemonSet is fully rolled out
    /// at its current generation.
    pub fn mark_rolled_out(&self, kind: &str, namespace: &str, name: &str) -> Result<Value, Value> {
        let obj = self
            .object("apps/v1", kind, namespace, name)
            .ok_or_else(|| json!({"message": "not found"}))?;
        let generation = obj
            .pointer("/metadata/generation")
            .cloned()
            .unwrap_or(json!(1));
        let replicas = obj
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let status = match kind {
            "DaemonSet" => json!({
                "observedGeneration": generation, "desiredNumberScheduled": 1, "currentNumberScheduled": 1,
                "updatedNumberScheduled": 1, "numberReady": 1, "numberAvailable": 1, "numberMisscheduled": 0,
            }),
            "StatefulSet" => json!({
                "observedGeneration": generation, "replicas": replicas, "readyReplicas": replicas,
                "currentReplicas": replicas, "updatedReplicas": replicas, "availableReplicas": replicas,
                "currentRevision": "r1", "updateRevision": "r1",
            }),
            _ => json!({
                "observedGeneration": generation, "replicas": replicas, "readyReplicas": replicas,
                "updatedReplicas": replicas, "availableReplicas": replicas,
                "conditions": [
                    {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                    {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
                ],
            }),
        };
        self.set_status("apps/v1", kind, namespace, name, status)
    }

    /// Plays the Job controller: the Job completed.
    pub fn complete_job(&self, namespace: &str, name: &str) -> Result<Value, Value> {
        self.set_status(
            "batch/v1",
            "Job",
            namespace,
            name,
            json!({
                "succeeded": 1,
                "conditions": [{"type": "Complete", "status": "True"}],
            }),
        )
    }

    /// Plays the Job controller: the Job failed.
    pub fn fail_job(&self, namespace: &str, name: &str, message: &str) -> Result<Value, Value> {
        self.set_status("batch/v1", "Job", namespace, name, json!({
            "failed": 1,
            "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": message}],
        }))
    }

    /// Whether new CRDs become Established at once (the default) or wait for
    /// [`ApiServer::establish_crd`].
    pub fn set_auto_establish(&self, on: bool) {
        self.with_store(|s| s.auto_establish = on);
    }

    pub fn establish_crd(&self, name: &str) {
        self.with_store(|s| s.establish_crd(name));
    }

    /// Injects a fault for upcoming requests.
    pub fn inject(&self, fault: Fault) {
        if let Ok(mut f) = self.shared.faults.lock() {
            f.push(fault);
        }
    }

    pub fn clear_faults(&self) {
        if let Ok(mut f) = self.shared.faults.lock() {
            f.clear();
        }
    }

    /// Ends every open watch (clients see the stream close).
    pub fn drop_watches(&self) {
        self.shared.drop_tx.send_modify(|n| *n += 1);
    }

    /// While set, every connection is closed at once and no request is answered.
    pub fn set_unreachable(&self, on: bool) {
        self.shared.unreachable.store(on, Ordering::SeqCst);
        if on {
            self.drop_watches();
        }
    }

    /// Lets an impersonated user write only in these namespaces (and nothing cluster-scoped),
    /// as RBAC would.
    pub fn restrict_user(&self, user: &str, namespaces: &[&str]) {
        if let Ok(mut r) = self.shared.restrictions.lock() {
            r.insert(
                user.into(),
                namespaces.iter().map(|s| s.to_string()).collect(),
            );
        }
    }

    /// Every request served so far.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared
            .requests
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    pub fn clear_requests(&self) {
        if let Ok(mut r) = self.shared.requests.lock() {
            r.clear();
        }
    }

    /// Requests that could change the cluster (non-dry-run writes) served so far.
    pub fn write_count(&self) -> usize {
        self.requests().iter().filter(|r| r.is_write()).count()
    }

    pub fn request_count(&self) -> u64 {
        self.shared.request_count.load(Ordering::Relaxed)
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.stop.send_replace(true);
        self.drop_watches();
    }
}

fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.wait_for(|s| *s) => return,
        };
        let Ok((stream, _)) = accepted else { continue };
        if shared.unreachable.load(Ordering::SeqCst) {
            drop(stream);
            continue;
        }
        let shared = shared.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let svc_shared = shared.clone();
            let service =
                hyper::service::service_fn(move |req| http::handle(svc_shared.clone(), req));
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            let mut unreachable = tokio::time::interval(std::time::Duration::from_millis(20));
            loop {
                tokio::select! {
                    _ = conn.as_mut() => return,
                    _ = stop.wait_for(|s| *s) => return,
                    _ = unreachable.tick() => {
                        if shared.unreachable.load(Ordering::SeqCst) {
                            return;
                        }
                    }
                }
            }
        });
    }
}
