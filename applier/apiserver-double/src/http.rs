//! The HTTP side: accepts connections on loopback, injects faults, routes Kubernetes REST paths
//! (discovery, CRUD, patch, watch) to the store, and records every request for assertions.

use crate::resources;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::status::{self, ApiError};
use crate::store::{Store, WriteCtx};
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

pub type Body = BoxBody<Bytes, Infallible>;

/// What an injected fault does to a request.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultKind {
    /// Answer with this HTTP status and a `Status` body (429 carries `Retry-After: 1`).
    Status(u16),
    /// Wait this long before handling the request.
    Hang(Duration),
    /// Close the connection without answering.
    Disconnect,
}

/// A fault for the next `count` matching requests, after letting `skip` of them through.
#[derive(Clone, Debug)]
pub struct Fault {
    pub kind: FaultKind,
    pub count: u32,
    pub skip: u32,
    /// Only requests that write (POST, PUT, PATCH, DELETE), dry-runs included.
    pub writes_only: bool,
}

/// One request as the double saw it.
#[derive(Clone, Debug)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub query: String,
    pub impersonated_user: Option<String>,
    pub dry_run: bool,
    pub status: u16,
}

impl RequestRecord {
    /// A request that could change the cluster (a non-dry-run write).
    pub fn is_write(&self) -> bool {
        !self.dry_run && !matches!(self.method.as_str(), "GET" | "HEAD" | "OPTIONS")
    }
}

pub struct Shared {
    pub store: Mutex<Store>,
    pub rv_tx: watch::Sender<u64>,
    pub drop_tx: watch::Sender<u64>,
    pub faults: Mutex<Vec<Fault>>,
    pub unreachable: AtomicBool,
    pub requests: Mutex<Vec<RequestRecord>>,
    pub request_count: AtomicU64,
    /// user -> namespaces it may write; users not listed may write anywhere.
    pub restrictions: Mutex<HashMap<String, Vec<String>>>,
    pub addr: String,
}

impl Shared {
    pub fn notify(&self) {
        let rv = self.store.lock().map(|s| s.rv).unwrap_or_default();
        self.rv_tx.send_replace(rv);
    }

    fn take_fault(&self, is_write: bool) -> Option<FaultKind> {
        let mut faults = self.faults.lock().ok()?;
        let idx = faults.iter().position(|f| !f.writes_only || is_write)?;
        let f = &mut faults[idx];
        if f.skip > 0 {
            f.skip -= 1;
            return None;
        }
        let kind = f.kind.clone();
        f.count -= 1;
        if f.count == 0 {
            faults.remove(idx);
        }
        Some(kind)
    }
}

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed()
}

fn json_response(code: u16, body: &Value) -> Response<Body> {
    Response::builder()
        .status(code)
        .header("content-type", "application/json")
        .body(full(serde_json::to_vec(body).unwrap_or_default()))
        .unwrap_or_else(|_| Response::new(full("")))
}

fn error_response(e: ApiError) -> Response<Body> {
    let mut r = json_response(e.code, &e.body);
    if e.code == 429 {
        r.headers_mut()
            .insert("retry-after", http::HeaderValue::from_static("1"));
    }
    r
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or(())
                {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_query(q: &str) -> HashMap<String, String> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// Serves one request; `Err` closes the connection without an answer.
pub async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Body>, std::io::Error> {
    shared.request_count.fetch_add(1, Ordering::Relaxed);
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query_str = req.uri().query().unwrap_or_default().to_string();
    let query = parse_query(&query_str);
    let dry_run = query.get("dryRun").is_some_and(|v| v == "All");
    let is_write = !matches!(method, Method::GET | Method::HEAD);
    let user = req
        .headers()
        .get("impersonate-user")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let user_agent = req
        .headers()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("unknown")
        .to_string();
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_string();

    let record = |status: u16| RequestRecord {
        method: method.to_string(),
        path: path.clone(),
        query: query_str.clone(),
        impersonated_user: user.clone(),
        dry_run,
        status,
    };

    match shared.take_fault(is_write) {
        Some(FaultKind::Status(code)) => {
            push_record(&shared, record(code));
            let reason = match code {
                429 => "TooManyRequests",
                503 => "ServiceUnavailable",
                504 => "Timeout",
                _ => "InternalError",
            };
            return Ok(error_response(ApiError::new(
                code,
                reason,
                format!("injected fault: {reason}"),
                None,
            )));
        }
        Some(FaultKind::Hang(d)) => tokio::time::sleep(d).await,
        Some(FaultKind::Disconnect) => {
            push_record(&shared, record(0));
            return Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                "injected disconnect",
            ));
        }
        None => {}
    }

    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return Err(std::io::Error::other(e)),
    };
    let manager = query.get("fieldManager").cloned().unwrap_or_else(|| {
        user_agent
            .split('/')
            .next()
            .unwrap_or("unknown")
            .to_string()
    });
    let call = Call {
        method: &method,
        path: &path,
        query: &query,
        body: &body,
        content_type: &content_type,
        user: user.as_deref(),
        ctx: WriteCtx {
            manager,
            dry_run,
            subresource: None,
        },
    };
    let response = match route(&shared, call).await {
        Ok(r) => r,
        Err(e) => error_response(e),
    };
    push_record(&shared, record(response.status().as_u16()));
    Ok(response)
}

fn push_record(shared: &Shared, r: RequestRecord) {
    if let Ok(mut v) = shared.requests.lock() {
        v.push(r);
    }
}

struct Call<'a> {
    method: &'a Method,
    path: &'a str,
    query: &'a HashMap<String, String>,
    body: &'a Bytes,
    content_type: &'a str,
    user: Option<&'a str>,
    ctx: WriteCtx,
}

/// Where a resource path points.
struct Target {
    group: String,
    version: String,
    plural: String,
    namespace: Option<String>,
    name: Option<String>,
    subresource: Option<String>,
}

async fn route(shared: &Arc<Shared>, mut call: Call<'_>) -> Result<Response<Body>, ApiError> {
    let segs: Vec<&str> = call
        .path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let (group, version, rest) = match segs.as_slice() {
        ["version"] => {
            return Ok(json_response(
                200,
                &json!({
                    "major": "1", "minor": "35", "gitVersion": "v1.35.0-kiln-double",
                    "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
                    "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.25", "compiler": "gc", "platform": "linux/amd64",
                }),
            ));
        }
        ["healthz"] | ["readyz"] | ["livez"] => {
            return Ok(Response::builder()
                .status(200)
                .body(full("ok"))
                .unwrap_or_else(|_| Response::new(full(""))));
        }
        ["openapi", "v3"] => {
            let store = lock(shared)?;
            return Ok(json_response(200, &resources::openapi_v3_root(&store.defs)));
        }
        ["openapi", "v3", gv @ ..] => {
            let store = lock(shared)?;
            return match resources::openapi_v3_group(&store.defs, &gv.join("/")) {
                Some(doc) => Ok(json_response(200, &doc)),
                None => Err(ApiError::path_not_found()),
            };
        }
        ["api"] => return Ok(json_response(200, &resources::core_versions(&shared.addr))),
        ["apis"] => {
            let store = lock(shared)?;
            return Ok(json_response(200, &resources::group_list(&store.defs)));
        }
        ["api", v] | ["apis", _, v] if segs.len() == if segs[0] == "api" { 2 } else { 3 } => {
            let group = if segs[0] == "api" { "" } else { segs[1] };
            let store = lock(shared)?;
            return match resources::resource_list(&store.defs, group, v) {
                Some(list) => Ok(json_response(200, &list)),
                None => Err(ApiError::path_not_found()),
            };
        }
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Err(ApiError::path_not_found()),
    };
    let target = {
        let store = lock(shared)?;
        let namespaced_plural = |p: &str| {
            store
                .def_for(group, version, p)
                .is_some_and(|d| d.namespaced)
        };
        match rest {
            ["namespaces", ns, plural, tail @ ..] if namespaced_plural(plural) => Target {
                group: group.into(),
                version: version.into(),
                plural: plural.to_string(),
                namespace: Some(ns.to_string()),
                name: tail.first().map(|s| s.to_string()),
                subresource: tail.get(1).map(|s| s.to_string()),
            },
            [plural, tail @ ..] => Target {
                group: group.into(),
                version: version.into(),
                plural: plural.to_string(),
                namespace: None,
                name: tail.first().map(|s| s.to_string()),
                subresource: tail.get(1).map(|s| s.to_string()),
            },
            [] => return Err(ApiError::path_not_found()),
        }
    };
    let def = lock(shared)?
        .def_for(&target.group, &target.version, &target.plural)
        .cloned()
        .ok_or_else(ApiError::path_not_found)?;
    if let Some(sub) = &target.subresource
        && !(sub == "status" && def.has_status)
    {
        return Err(ApiError::path_not_found());
    }
    call.ctx.subresource = target.subresource.clone();
    let ns = target.namespace.clone().unwrap_or_default();
    if def.namespaced && target.name.is_some() && target.namespace.is_none() {
        return Err(ApiError::path_not_found());
    }

    if *call.method != Method::GET
        && let Some(user) = call.user
    {
        let restrictions = shared.restrictions.lock().map_err(|_| poisoned())?;
        if let Some(allowed) = restrictions.get(user)
            && (!def.namespaced || !allowed.contains(&ns))
        {
            let scope = if def.namespaced {
                format!("in the namespace \"{ns}\"")
            } else {
                "at the cluster scope".to_string()
            };
            return Err(ApiError::forbidden(format!(
                "{} is forbidden: User \"{user}\" cannot {} resource \"{}\" in API group \"{}\" {scope}",
                def.qualified_resource(),
                call.method.as_str().to_lowercase(),
                def.plural,
                def.group
            )));
        }
    }

    let labels = LabelSelector::parse(
        call.query
            .get("labelSelector")
            .map(String::as_str)
            .unwrap_or(""),
    )
    .map_err(ApiError::bad_request)?;
    let fields = FieldSelector::parse(
        call.query
            .get("fieldSelector")
            .map(String::as_str)
            .unwrap_or(""),
    )
    .map_err(ApiError::bad_request)?;

    let result = match (call.method.clone(), target.name.as_deref()) {
        (Method::GET, None)
            if call
                .query
                .get("watch")
                .is_some_and(|w| w == "true" || w == "1") =>
        {
            return Ok(watch_response(
                shared,
                def,
                target.namespace.clone(),
                labels,
                fields,
                call.query,
            ));
        }
        (Method::GET, None) => {
            Ok(lock(shared)?.list(&def, target.namespace.as_deref(), &labels, &fields))
        }
        (Method::GET, Some(name)) => lock(shared)?.get(&def, &ns, name),
        (Method::POST, None) => {
            let obj = parse_body(call.body)?;
            let created = lock(shared)?.create(&def, &ns, obj, &call.ctx);
            return created.map(|o| {
                shared.notify();
                json_response(201, &o)
            });
        }
        (Method::PUT, Some(name)) => {
            let obj = parse_body(call.body)?;
            lock(shared)?.update(&def, &ns, name, obj, &call.ctx)
        }
        (Method::PATCH, Some(name)) => {
            let force = call.query.get("force").is_some_and(|f| f == "true");
            let existed = lock(shared)?.get(&def, &ns, name).is_ok();
            let r = lock(shared)?.patch(
                &def,
                &ns,
                name,
                call.content_type,
                call.body,
                force,
                &call.ctx,
            );
            if !existed && r.is_ok() {
                shared.notify();
                return r.map(|o| json_response(201, &o));
            }
            r
        }
        (Method::DELETE, Some(name)) => {
            let mut propagation = call.query.get("propagationPolicy").cloned();
            if let Ok(opts) = serde_json::from_slice::<Value>(call.body)
                && let Some(p) = opts.get("propagationPolicy").and_then(Value::as_str)
            {
                propagation = Some(p.to_string());
            }
            let propagation = propagation.unwrap_or_else(|| "Background".into());
            let deleted = lock(shared)?.delete(&def, &ns, name, &propagation, call.ctx.dry_run)?;
            shared.notify();
            let uid = deleted
                .pointer("/metadata/uid")
                .and_then(Value::as_str)
                .unwrap_or_default();
            return Ok(json_response(
                200,
                &status::success(&def.group, &def.plural, name, uid),
            ));
        }
        _ => Err(ApiError::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
            None,
        )),
    };
    shared.notify();
    result.map(|o| json_response(200, &o))
}

fn poisoned() -> ApiError {
    ApiError::new(500, "InternalError", "store lock poisoned", None)
}

fn lock(shared: &Shared) -> Result<std::sync::MutexGuard<'_, Store>, ApiError> {
    shared.store.lock().map_err(|_| poisoned())
}

fn parse_body(body: &[u8]) -> Result<Value, ApiError> {
    let text = std::str::from_utf8(body).map_err(|_| ApiError::bad_request("body is not UTF-8"))?;
    let v: Value = serde_saphyr::from_str(text).map_err(|e| {
        ApiError::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
    })?;
    if !v.is_object() {
        return Err(ApiError::bad_request("the body must be an object"));
    }
    Ok(v)
}

/// A watch: replays events after the requested resourceVersion (or every current object as
/// `ADDED` when none is given), then streams changes until the client leaves, the timeout
/// passes, or a test drops all watches.
fn watch_response(
    shared: &Arc<Shared>,
    def: resources::ResourceDef,
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
    query: &HashMap<String, String>,
) -> Response<Body> {
    let send_initial = query.get("sendInitialEvents").is_some_and(|v| v == "true");
    let since: Option<u64> = query
        .get("resourceVersion")
        .filter(|_| !send_initial)
        .filter(|v| !v.is_empty() && *v != "0")
        .and_then(|v| v.parse().ok());
    let timeout = query
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(1800));
    let (initial, start_rv) = {
        let store = match shared.store.lock() {
            Ok(s) => s,
            Err(_) => return error_response(poisoned()),
        };
        match since {
            Some(rv) => (
                store
                    .events_since(&def, namespace.as_deref(), rv)
                    .into_iter()
                    .filter(|e| labels.matches(&e.object) && fields.matches(&e.object))
                    .map(|e| (e.kind, e.object))
                    .collect::<Vec<_>>(),
                store.rv,
            ),
            None => {
                let list = store.list(&def, namespace.as_deref(), &labels, &fields);
                let items = list["items"].as_array().cloned().unwrap_or_default();
                let mut initial: Vec<(&'static str, Value)> =
                    items.into_iter().map(|o| ("ADDED", o)).collect();
                if send_initial {
                    initial.push((
                        "BOOKMARK",
                        json!({
                            "kind": def.kind,
                            "apiVersion": def.api_version(),
                            "metadata": {
                                "resourceVersion": store.rv.to_string(),
                                "annotations": {"k8s.io/initial-events-end": "true"},
                            },
                        }),
                    ));
                }
                (initial, store.rv)
            }
        }
    };
    let mut drop_rx = shared.drop_tx.subscribe();
    drop_rx.mark_unchanged();
    let state = WatchState {
        queue: initial.into_iter().collect(),
        last_rv: start_rv,
        rv_rx: shared.rv_tx.subscribe(),
        drop_rx,
        shared: shared.clone(),
        def,
        namespace,
        labels,
        fields,
        deadline: tokio::time::Instant::now() + timeout,
    };
    let stream = futures_util::stream::unfold(state, |mut st| async move {
        let line = st.next_line().await?;
        Some((Ok::<_, Infallible>(Frame::data(Bytes::from(line))), st))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("transfer-encoding", "chunked")
        .body(StreamBody::new(stream).boxed())
        .unwrap_or_else(|_| Response::new(full("")))
}

struct WatchState {
    queue: std::collections::VecDeque<(&'static str, Value)>,
    last_rv: u64,
    rv_rx: watch::Receiver<u64>,
    drop_rx: watch::Receiver<u64>,
    shared: Arc<Shared>,
    def: resources::ResourceDef,
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
    deadline: tokio::time::Instant,
}

impl WatchState {
    async fn next_line(&mut self) -> Option<String> {
        loop {
            if let Some((kind, obj)) = self.queue.pop_front() {
                return Some(format!("{}\n", json!({"type": kind, "object": obj})));
            }
            {
                let store = self.shared.store.lock().ok()?;
                for e in store.events_since(&self.def, self.namespace.as_deref(), self.last_rv) {
                    if self.labels.matches(&e.object) && self.fields.matches(&e.object) {
                        self.queue.push_back((e.kind, e.object));
                    }
                }
                self.last_rv = store.rv;
            }
            if !self.queue.is_empty() {
                continue;
            }
            tokio::select! {
                changed = self.rv_rx.changed() => changed.ok()?,
                _ = self.drop_rx.changed() => return None,
                _ = tokio::time::sleep_until(self.deadline) => return None,
            }
        }
    }
}
