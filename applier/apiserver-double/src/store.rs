//! The object store and the write semantics of the API server: resourceVersion and generation,
//! optimistic concurrency, status preservation, defaults, CRD registration, garbage collection,
//! dry-run, and the event history watches replay.

use crate::resources::{self, ResourceDef};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::ssa::{self, ApplyRequest};
use crate::status::ApiError;
use crate::validate;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// (group, plural, namespace or "", name)
pub type Key = (String, String, String, String);

/// One change, as watches report it.
#[derive(Clone, Debug)]
pub struct Event {
    pub rv: u64,
    pub kind: &'static str,
    pub group: String,
    pub plural: String,
    pub object: Value,
}

/// How a write request identifies itself.
#[derive(Clone, Debug, Default)]
pub struct WriteCtx {
    pub manager: String,
    pub dry_run: bool,
    pub subresource: Option<String>,
}

pub struct Store {
    pub defs: Vec<ResourceDef>,
    pub objects: BTreeMap<Key, Value>,
    pub rv: u64,
    pub history: Vec<Event>,
    /// Whether CRDs become Established as soon as they are written.
    pub auto_establish: bool,
}

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn strip_for_generation(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("metadata");
        m.remove("status");
    }
    v
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

impl Store {
    pub fn new() -> Self {
        let mut s = Store {
            defs: resources::builtin(),
            objects: BTreeMap::new(),
            rv: 1,
            history: Vec::new(),
            auto_establish: true,
        };
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            let def = s.def_by_kind("", "Namespace").cloned();
            if let Some(def) = def {
                let obj =
                    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
                let ctx = WriteCtx {
                    manager: "kube-apiserver".into(),
                    ..Default::default()
                };
                // Bootstrapping fixed, valid objects cannot fail.
                let _ = s.create(&def, "", obj, &ctx);
            }
        }
        s
    }

    pub fn def_by_kind(&self, group: &str, kind: &str) -> Option<&ResourceDef> {
        self.defs
            .iter()
            .find(|d| d.group == group && d.kind == kind)
    }

    pub fn def_for(&self, group: &str, version: &str, plural: &str) -> Option<&ResourceDef> {
        self.defs
            .iter()
            .find(|d| d.group == group && d.version == version && d.plural == plural)
    }

    fn key(def: &ResourceDef, ns: &str, name: &str) -> Key {
        (
            def.group.clone(),
            def.plural.clone(),
            ns.to_string(),
            name.to_string(),
        )
    }

    pub fn get(&self, def: &ResourceDef, ns: &str, name: &str) -> Result<Value, ApiError> {
        self.objects
            .get(&Self::key(def, ns, name))
            .map(|o| with_version(o, def))
            .ok_or_else(|| ApiError::not_found(&def.group, &def.plural, name))
    }

    pub fn list(
        &self,
        def: &ResourceDef,
        ns: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
    ) -> Value {
        let items: Vec<Value> = self
            .objects
            .iter()
            .filter(|((g, p, n, _), _)| {
                *g == def.group && *p == def.plural && ns.is_none_or(|want| want == n)
            })
            .map(|(_, o)| o)
            .filter(|o| labels.matches(o) && fields.matches(o))
            .map(|o| with_version(o, def))
            .collect();
        json!({
            "kind": format!("{}List", def.kind),
            "apiVersion": def.api_version(),
            "metadata": {"resourceVersion": self.rv.to_string()},
            "items": items,
        })
    }

    fn check_namespace(&self, def: &ResourceDef, ns: &str) -> Result<(), ApiError> {
        if def.namespaced
            && !self.objects.contains_key(&(
                String::new(),
                "namespaces".into(),
                String::new(),
                ns.into(),
            ))
        {
            return Err(ApiError::not_found("", "namespaces", ns));
        }
        Ok(())
    }

    fn check_identity(
        def: &ResourceDef,
        ns: &str,
        name: Option<&str>,
        obj: &Value,
    ) -> Result<(), ApiError> {
        if let Some(name) = name {
            let body_name = obj.pointer("/metadata/name").and_then(Value::as_str);
            if body_name.is_some_and(|b| b != name) {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({}) does not match the name on the URL ({name})",
                    body_name.unwrap_or_default()
                )));
            }
        }
        if def.namespaced
            && let Some(body_ns) = obj.pointer("/metadata/namespace").and_then(Value::as_str)
            && body_ns != ns
        {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        if let Some(kind) = obj.get("kind").and_then(Value::as_str)
            && kind != def.kind
        {
            return Err(ApiError::bad_request(format!(
                "the kind of the object ({kind}) does not match the resource ({})",
                def.kind
            )));
        }
        Ok(())
    }

    pub fn create(
        &mut self,
        def: &ResourceDef,
        ns: &str,
        mut obj: Value,
        ctx: &WriteCtx,
    ) -> Result<Value, ApiError> {
        Self::check_identity(def, ns, None, &obj)?;
        let name = obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        validate::validate(def, &obj)?;
        self.check_namespace(def, ns)?;
        if self.objects.contains_key(&Self::key(def, ns, &name)) {
            return Err(ApiError::already_exists(&def.group, &def.plural, &name));
        }
        normalise(def, ns, &mut obj);
        if def.has_status
            && let Some(m) = obj.as_object_mut()
        {
            m.remove("status");
        }
        ssa::record_update(
            None,
            &mut obj,
            &ctx.manager,
            &def.api_version(),
            &now(),
            None,
        );
        self.commit(def, ns, &name, None, obj, ctx.dry_run)
    }

    /// PUT: full replacement with optimistic concurrency.
    pub fn update(
        &mut self,
        def: &ResourceDef,
        ns: &str,
        name: &str,
        mut obj: Value,
        ctx: &WriteCtx,
    ) -> Result<Value, ApiError> {
        Self::check_identity(def, ns, Some(name), &obj)?;
        let old = self.objects.get(&Self::key(def, ns, name)).cloned();
        let Some(old) = old else {
            return Err(ApiError::not_found(&def.group, &def.plural, name));
        };
        if let Some(rv) = obj
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            && rv
                != old["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap_or_default()
        {
            return Err(ApiError::conflict(
                &def.group,
                &def.plural,
                name,
                format!(
                    "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                    def.qualified_resource()
                ),
            ));
        }
        let sub = ctx.subresource.as_deref();
        let mut new = if sub == Some("status") {
            let mut n = old.clone();
            n["status"] = obj.get("status").cloned().unwrap_or(Value::Null);
            n
        } else {
            if def.has_status
                && let Some(m) = obj.as_object_mut()
            {
                match old.get("status") {
                    Some(s) => {
                        m.insert("status".into(), s.clone());
                    }
                    None => {
                        m.remove("status");
                    }
                }
            }
            carry_metadata(&old, &mut obj);
            obj
        };
        normalise(def, ns, &mut new);
        validate::validate(def, &new)?;
        ssa::record_update(
            Some(&old),
            &mut new,
            &ctx.manager,
            &def.api_version(),
            &now(),
            sub,
        );
        self.commit(def, ns, name, Some(old), new, ctx.dry_run)
    }

    /// PATCH with any of the supported patch types.
    #[allow(clippy::too_many_arguments)]
    pub fn patch(
        &mut self,
        def: &ResourceDef,
        ns: &str,
        name: &str,
        content_type: &str,
        body: &[u8],
        force: bool,
        ctx: &WriteCtx,
    ) -> Result<Value, ApiError> {
        let old = self.objects.get(&Self::key(def, ns, name)).cloned();
        let sub = ctx.subresource.as_deref();
        let text =
            std::str::from_utf8(body).map_err(|_| ApiError::bad_request("body is not UTF-8"))?;
        if content_type.starts_with("application/apply-patch") {
            if ctx.manager.is_empty() {
                return Err(ApiError::bad_request(
                    "PATCH, fieldManager is required for apply requests",
                ));
            }
            let config: Value = serde_saphyr::from_str(text)
                .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?;
            if !config.is_object() {
                return Err(ApiError::bad_request("apply patch must be an object"));
            }
            if config.get("apiVersion").is_none() || config.get("kind").is_none() {
                return Err(ApiError::bad_request(
                    "apiVersion and kind must be set in apply patches",
                ));
            }
            Self::check_identity(def, ns, Some(name), &config)?;
            if old.is_none() {
                if sub.is_some() {
                    return Err(ApiError::not_found(&def.group, &def.plural, name));
                }
                self.check_namespace(def, ns)?;
            }
            let mut new = ssa::apply(ApplyRequest {
                live: old.as_ref(),
                config: &config,
                manager: &ctx.manager,
                force,
                api_version: &def.api_version(),
                now: &now(),
                subresource: sub,
            })
            .map_err(|conflicts| {
                let causes: Vec<Value> = conflicts
                    .iter()
                    .map(|c| json!({"reason": "FieldManagerConflict", "message": format!("conflict with \"{}\"", c.manager), "field": c.field()}))
                    .collect();
                let mut err = ApiError::conflict(&def.group, &def.plural, name, ssa::conflict_message(&conflicts));
                err.body["details"]["causes"] = Value::Array(causes);
                err
            })?;
            if let Some(m) = new.pointer_mut("/metadata").and_then(Value::as_object_mut) {
                m.insert("name".into(), json!(name));
            }
            if old.is_none()
                && def.has_status
                && let Some(m) = new.as_object_mut()
            {
                m.remove("status");
            }
            normalise(def, ns, &mut new);
            validate::validate(def, &new)?;
            return self.commit(def, ns, name, old, new, ctx.dry_run);
        }
        let Some(old) = old else {
            return Err(ApiError::not_found(&def.group, &def.plural, name));
        };
        let patch: Value = serde_json::from_str(text)
            .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
        let mut new = old.clone();
        if content_type.starts_with("application/merge-patch+json") {
            json_merge_patch(&mut new, &patch);
        } else if content_type.starts_with("application/strategic-merge-patch+json") {
            new = strategic_merge_patch(def, &old, &patch)?;
        } else if content_type.starts_with("application/json-patch+json") {
            let ops: json_patch::Patch = serde_json::from_value(patch.clone())
                .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
            // The API server answers a failed operation without saying which (no causes).
            json_patch::patch(&mut new, &ops).map_err(|_| {
                ApiError::new(
                    422,
                    "Invalid",
                    "the server rejected our request due to an error in our request",
                    Some(json!({})),
                )
            })?;
        } else {
            return Err(ApiError::new(
                415,
                "UnsupportedMediaType",
                format!(
                    "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {content_type})"
                ),
                None,
            ));
        }
        if let Some(rv) = patch
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            && Some(rv)
                != old
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
        {
            return Err(ApiError::conflict(
                &def.group,
                &def.plural,
                name,
                format!(
                    "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                    def.qualified_resource()
                ),
            ));
        }
        if sub == Some("status") {
            let status = new.get("status").cloned();
            new = old.clone();
            if let Some(s) = status {
                new["status"] = s;
            }
        } else if def.has_status {
            match old.get("status") {
                Some(s) => new["status"] = s.clone(),
                None => {
                    if let Some(m) = new.as_object_mut() {
                        m.remove("status");
                    }
                }
            }
        }
        carry_metadata(&old, &mut new);
        normalise(def, ns, &mut new);
        validate::validate(def, &new)?;
        ssa::record_update(
            Some(&old),
            &mut new,
            &ctx.manager,
            &def.api_version(),
            &now(),
            sub,
        );
        self.commit(def, ns, name, Some(old), new, ctx.dry_run)
    }

    /// Stores a new version, unless nothing changed; bumps resourceVersion and generation.
    fn commit(
        &mut self,
        def: &ResourceDef,
        ns: &str,
        name: &str,
        old: Option<Value>,
        mut new: Value,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        if let Some(old) = &old {
            let mut unchanged = new.clone();
            if let Some(rv) = old.pointer("/metadata/resourceVersion") {
                unchanged["metadata"]["resourceVersion"] = rv.clone();
            }
            if unchanged == *old {
                return Ok(with_version(old, def));
            }
        }
        let meta = new["metadata"]
            .as_object_mut()
            .ok_or_else(|| ApiError::bad_request("metadata must be an object"))?;
        match &old {
            None => {
                meta.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
                meta.insert("creationTimestamp".into(), json!(now()));
                if def.generation {
                    meta.insert("generation".into(), json!(1));
                }
            }
            Some(old) => {
                for k in ["uid", "creationTimestamp"] {
                    if let Some(v) = old.pointer(&format!("/metadata/{k}")) {
                        meta.insert(k.into(), v.clone());
                    }
                }
                if def.generation {
                    let generation = old
                        .pointer("/metadata/generation")
                        .and_then(Value::as_i64)
                        .unwrap_or(1);
                    let bumped = strip_for_generation(old) != strip_for_generation(&new);
                    new["metadata"]["generation"] =
                        json!(if bumped { generation + 1 } else { generation });
                }
            }
        }
        if dry_run {
            return Ok(with_version(&new, def));
        }
        self.rv += 1;
        new["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        let key = Self::key(def, ns, name);
        self.objects.insert(key, new.clone());
        self.record(if old.is_some() { "MODIFIED" } else { "ADDED" }, def, &new);
        if def.group == "apiextensions.k8s.io" && def.kind == "CustomResourceDefinition" {
            self.register_crd(&new);
        }
        Ok(with_version(&new, def))
    }

    fn record(&mut self, kind: &'static str, def: &ResourceDef, obj: &Value) {
        self.history.push(Event {
            rv: self.rv,
            kind,
            group: def.group.clone(),
            plural: def.plural.clone(),
            object: obj.clone(),
        });
    }

    fn register_crd(&mut self, crd: &Value) {
        let name = crd
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        self.defs
            .retain(|d| d.from_crd.as_deref() != Some(name.as_str()));
        self.defs.extend(resources::from_crd(crd));
        if self.auto_establish {
            self.establish_crd(&name);
        }
    }

    /// Marks a CRD `NamesAccepted` and `Established`, as the apiextensions controller does.
    pub fn establish_crd(&mut self, name: &str) {
        let Some(def) = self
            .def_by_kind("apiextensions.k8s.io", "CustomResourceDefinition")
            .cloned()
        else {
            return;
        };
        let Ok(crd) = self.get(&def, "", name) else {
            return;
        };
        let now = now();
        let cond = |t: &str, reason: &str| json!({"type": t, "status": "True", "lastTransitionTime": now, "reason": reason, "message": ""});
        let status = json!({
            "acceptedNames": crd["spec"]["names"].clone(),
            "conditions": [cond("NamesAccepted", "NoConflicts"), cond("Established", "InitialNamesAccepted")],
            "storedVersions": crd["spec"]["versions"].as_array().into_iter().flatten()
                .filter(|v| v["storage"] == json!(true)).map(|v| v["name"].clone()).collect::<Vec<_>>(),
        });
        let _ = self.set_status(&def, "", name, status);
    }

    /// Replaces an object's status as a controller would (manager `kube-controller-manager`).
    pub fn set_status(
        &mut self,
        def: &ResourceDef,
        ns: &str,
        name: &str,
        status: Value,
    ) -> Result<Value, ApiError> {
        let mut obj = self.get(def, ns, name)?;
        obj["status"] = status;
        let ctx = WriteCtx {
            manager: "kube-controller-manager".into(),
            dry_run: false,
            subresource: Some("status".into()),
        };
        if let Some(m) = obj["metadata"].as_object_mut() {
            m.remove("resourceVersion");
        }
        self.update(def, ns, name, obj, &ctx)
    }

    pub fn delete(
        &mut self,
        def: &ResourceDef,
        ns: &str,
        name: &str,
        propagation: &str,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let key = Self::key(def, ns, name);
        let Some(obj) = self.objects.get(&key).cloned() else {
            return Err(ApiError::not_found(&def.group, &def.plural, name));
        };
        if dry_run {
            return Ok(with_version(&obj, def));
        }
        self.remove_object(def, &key, propagation);
        Ok(with_version(&obj, def))
    }

    fn remove_object(&mut self, def: &ResourceDef, key: &Key, propagation: &str) {
        let Some(obj) = self.objects.remove(key) else {
            return;
        };
        self.rv += 1;
        let mut gone = obj.clone();
        gone["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        self.record("DELETED", def, &gone);
        let uid = obj
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if def.group.is_empty() && def.plural == "namespaces" {
            let inside: Vec<Key> = self
                .objects
                .keys()
                .filter(|k| k.2 == key.3)
                .cloned()
                .collect();
            for k in inside {
                if let Some(d) = self
                    .defs
                    .iter()
                    .find(|d| d.group == k.0 && d.plural == k.1)
                    .cloned()
                {
                    self.remove_object(&d, &k, "Background");
                }
            }
        }
        if def.kind == "CustomResourceDefinition" {
            let owned: Vec<ResourceDef> = self
                .defs
                .iter()
                .filter(|d| d.from_crd.as_deref() == Some(key.3.as_str()))
                .cloned()
                .collect();
            for d in &owned {
                let ks: Vec<Key> = self
                    .objects
                    .keys()
                    .filter(|k| k.0 == d.group && k.1 == d.plural)
                    .cloned()
                    .collect();
                for k in ks {
                    self.remove_object(d, &k, "Background");
                }
            }
            self.defs
                .retain(|d| d.from_crd.as_deref() != Some(key.3.as_str()));
        }
        let dependents: Vec<Key> = self
            .objects
            .iter()
            .filter(|(_, o)| {
                o.pointer("/metadata/ownerReferences")
                    .and_then(Value::as_array)
                    .is_some_and(|refs| refs.iter().any(|r| r["uid"] == json!(uid)))
            })
            .map(|(k, _)| k.clone())
            .collect();
        for k in dependents {
            let Some(d) = self
                .defs
                .iter()
                .find(|d| d.group == k.0 && d.plural == k.1)
                .cloned()
            else {
                continue;
            };
            if propagation == "Orphan" {
                if let Some(o) = self.objects.get(&k).cloned() {
                    let mut o = o;
                    if let Some(refs) = o
                        .pointer_mut("/metadata/ownerReferences")
                        .and_then(Value::as_array_mut)
                    {
                        refs.retain(|r| r["uid"] != json!(uid));
                    }
                    self.rv += 1;
                    o["metadata"]["resourceVersion"] = json!(self.rv.to_string());
                    self.objects.insert(k.clone(), o.clone());
                    self.record("MODIFIED", &d, &o);
                }
            } else {
                self.remove_object(&d, &k, propagation);
            }
        }
    }

    /// Events after `since` for one resource (and namespace, when given).
    pub fn events_since(&self, def: &ResourceDef, ns: Option<&str>, since: u64) -> Vec<Event> {
        let start = self.history.partition_point(|e| e.rv <= since);
        self.history[start..]
            .iter()
            .filter(|e| e.group == def.group && e.plural == def.plural)
            .filter(|e| {
                ns.is_none_or(|n| {
                    e.object
                        .pointer("/metadata/namespace")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        == n
                })
            })
            .cloned()
            .collect()
    }
}

/// Lets the caller see the object in the version it asked for (no conversion is needed for the
/// kinds the double serves: all versions of a resource share one schema).
fn with_version(obj: &Value, def: &ResourceDef) -> Value {
    let mut o = obj.clone();
    o["apiVersion"] = json!(def.api_version());
    o
}

/// Metadata the server owns survives full-object writes.
fn carry_metadata(old: &Value, new: &mut Value) {
    if !new.get("metadata").is_some_and(Value::is_object) {
        new["metadata"] = json!({});
    }
    for k in ["uid", "creationTimestamp", "generation", "managedFields"] {
        if let Some(v) = old.pointer(&format!("/metadata/{k}")) {
            new["metadata"][k] = v.clone();
        }
    }
    if let Some(rv) = old.pointer("/metadata/resourceVersion") {
        new["metadata"]["resourceVersion"] = rv.clone();
    }
}

/// Fills the fields the API server defaults and fixes namespace/apiVersion/kind.
fn normalise(def: &ResourceDef, ns: &str, obj: &mut Value) {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    obj["apiVersion"] = json!(def.api_version());
    obj["kind"] = json!(def.kind);
    if def.namespaced {
        obj["metadata"]["namespace"] = json!(ns);
    } else if let Some(m) = obj["metadata"].as_object_mut() {
        m.remove("namespace");
    }
    match (def.group.as_str(), def.kind.as_str()) {
        ("", "Namespace") => {
            let name = obj["metadata"]["name"].clone();
            let labels = obj["metadata"]
                .as_object_mut()
                .map(|m| m.entry("labels").or_insert_with(|| json!({})));
            if let Some(Value::Object(l)) = labels {
                l.insert("kubernetes.io/metadata.name".into(), name);
            }
            if obj.pointer("/spec/finalizers").is_none() {
                obj["spec"] = json!({"finalizers": ["kubernetes"]});
            }
            if obj.pointer("/status/phase").is_none() {
                obj["status"] = json!({"phase": "Active"});
            }
        }
        ("apps", "Deployment" | "StatefulSet" | "ReplicaSet")
            if obj.pointer("/spec/replicas").is_none()
                && obj.get("spec").is_some_and(Value::is_object) =>
        {
            obj["spec"]["replicas"] = json!(1);
        }
        _ => {}
    }
}

/// RFC 7386 JSON merge patch.
/// A strategic merge patch with kiln's own implementation and the built-in merge metadata;
/// custom resources have no patch strategies, so the API server refuses it for them.
fn strategic_merge_patch(def: &ResourceDef, old: &Value, patch: &Value) -> Result<Value, ApiError> {
    if def.from_crd.is_some() {
        return Err(ApiError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (strategic merge patch is not supported for custom resource {})",
                def.qualified_resource()
            ),
            None,
        ));
    }
    match kiln_smp::merge(old, patch, kiln_smp::Schema::builtin()) {
        Ok(Some(merged)) => Ok(merged),
        Ok(None) => Err(ApiError::bad_request(
            "a strategic merge patch cannot delete the whole object; use DELETE".to_string(),
        )),
        Err(e) => Err(ApiError::bad_request(format!(
            "error applying the strategic merge patch: {e}"
        ))),
    }
}

pub fn json_merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Some(t) = target.as_object_mut() {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        json_merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        _ => *target = patch.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(manager: &str) -> WriteCtx {
        WriteCtx {
            manager: manager.into(),
            ..Default::default()
        }
    }

    fn deployment(replicas: i64) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "w"}},
                "template": {"metadata": {"labels": {"app": "w"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}})
    }

    #[test]
    fn stale_resource_version_is_a_conflict_and_spec_changes_bump_generation() {
        let mut s = Store::new();
        let def = s.def_by_kind("apps", "Deployment").unwrap().clone();
        let created = s.create(&def, "default", deployment(1), &ctx("a")).unwrap();
        assert_eq!(created["metadata"]["generation"], 1);
        let rv = created["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .to_string();

        let mut update = deployment(2);
        update["metadata"]["resourceVersion"] = json!(rv);
        let updated = s
            .update(&def, "default", "web", update.clone(), &ctx("a"))
            .unwrap();
        assert_eq!(updated["metadata"]["generation"], 2);
        let err = s
            .update(&def, "default", "web", update, &ctx("a"))
            .unwrap_err();
        assert_eq!(err.code, 409);
        assert_eq!(err.body["reason"], "Conflict");

        // A status write does not bump the generation.
        let status = s
            .set_status(&def, "default", "web", json!({"observedGeneration": 2}))
            .unwrap();
        assert_eq!(status["metadata"]["generation"], 2);
        assert_eq!(status["status"]["observedGeneration"], 2);
    }

    #[test]
    fn dry_run_stores_nothing_and_missing_namespaces_are_not_found() {
        let mut s = Store::new();
        let def = s.def_by_kind("", "ConfigMap").unwrap().clone();
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}});
        let dry = WriteCtx {
            dry_run: true,
            ..ctx("a")
        };
        let rv = s.rv;
        s.create(&def, "default", cm.clone(), &dry).unwrap();
        assert_eq!(s.rv, rv);
        assert!(s.get(&def, "default", "c").is_err());
        let err = s.create(&def, "nowhere", cm, &ctx("a")).unwrap_err();
        assert_eq!(err.code, 404);
        assert_eq!(err.body["message"], "namespaces \"nowhere\" not found");
    }

    #[test]
    fn deleting_an_owner_collects_dependents_unless_orphaned() {
        let mut s = Store::new();
        let def = s.def_by_kind("", "ConfigMap").unwrap().clone();
        let owner = s
            .create(
                &def,
                "default",
                json!({"metadata": {"name": "owner"}}),
                &ctx("a"),
            )
            .unwrap();
        let uid = owner["metadata"]["uid"].clone();
        for name in ["d1", "d2"] {
            let dep = json!({"metadata": {"name": name, "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid}]}});
            s.create(&def, "default", dep, &ctx("a")).unwrap();
        }
        s.delete(&def, "default", "owner", "Background", false)
            .unwrap();
        assert!(s.get(&def, "default", "d1").is_err());

        let owner = s
            .create(
                &def,
                "default",
                json!({"metadata": {"name": "owner"}}),
                &ctx("a"),
            )
            .unwrap();
        let uid = owner["metadata"]["uid"].clone();
        let dep = json!({"metadata": {"name": "d3", "ownerReferences": [{"uid": uid}]}});
        s.create(&def, "default", dep, &ctx("a")).unwrap();
        s.delete(&def, "default", "owner", "Orphan", false).unwrap();
        let orphan = s.get(&def, "default", "d3").unwrap();
        assert_eq!(orphan["metadata"]["ownerReferences"], json!([]));
    }
}
