//! The plan: before anything is written, read the live objects, check ownership and tenancy,
//! and server-side dry-run every object whose namespace and kind already exist. A plan with
//! problems stops the run: nothing is written and nothing is pruned.

use crate::client::Kube;
use crate::discovery::ResourceMap;
use crate::error::{ApplyError, KubeError};
use crate::inventory::{self, Inventory, LABEL_INVENTORY, ObjectRef};
use crate::options::ApplyOptions;
use crate::prepare::{Item, Phase, label_value, prepare};
use crate::tenants::TenantPolicy;
use futures::StreamExt;
use kiln_bundle::Bundle;
use kiln_bundle::diff::{FieldChange, diff_values};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What the apply will do to one object.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Create,
    /// Field changes against the live object (empty when only ownership changes).
    Update(Vec<FieldChange>),
    Unchanged,
    /// Cannot be dry-run yet (its namespace or kind is created by this apply).
    Pending(String),
}

#[derive(Debug, Clone)]
pub struct Planned {
    pub item: Item,
    pub action: Action,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub project: String,
    /// The bundle's tenant policy (impersonation and namespace fences per component).
    pub tenants: TenantPolicy,
    pub target: String,
    pub digest: String,
    pub items: Vec<Planned>,
    /// Objects of the inventory that are no longer in the bundle.
    pub prune: Vec<ObjectRef>,
    pub inventory: Option<Inventory>,
    pub resources: ResourceMap,
}

impl Plan {
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let mut c = (0, 0, 0, 0);
        for p in &self.items {
            match p.action {
                Action::Create => c.0 += 1,
                Action::Update(_) => c.1 += 1,
                Action::Unchanged => c.2 += 1,
                Action::Pending(_) => c.3 += 1,
            }
        }
        c
    }
}

/// The fields that differ between two versions of an object, ignoring server bookkeeping.
pub fn comparable(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in [
            "managedFields",
            "resourceVersion",
            "generation",
            "uid",
            "creationTimestamp",
        ] {
            m.remove(k);
        }
    }
    if let Some(m) = v.as_object_mut() {
        m.remove("status");
    }
    v
}

fn same_ignoring_version(a: &Value, b: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            m.remove("resourceVersion");
        }
        v
    };
    strip(a) == strip(b)
}

pub fn apply_path(item_path: &str, opts: &ApplyOptions, dry_run: bool) -> String {
    format!(
        "{item_path}?fieldManager={}&force={}{}",
        opts.field_manager,
        opts.force_conflicts,
        if dry_run { "&dryRun=All" } else { "" }
    )
}

pub fn body(item: &Item) -> Option<(&'static str, Vec<u8>)> {
    Some((
        "application/apply-patch+yaml",
        serde_json::to_vec(&item.object).unwrap_or_default(),
    ))
}

/// The client a component writes with (impersonated when the tenant policy says so).
pub fn client_for(
    kube: &Kube,
    tenants: &TenantPolicy,
    component: &str,
    cache: &mut HashMap<String, Kube>,
) -> Result<Kube, ApplyError> {
    match tenants.user_for(component) {
        None => Ok(kube.clone()),
        Some(user) => {
            if let Some(k) = cache.get(&user) {
                return Ok(k.clone());
            }
            let k = kube.impersonate(&user)?;
            cache.insert(user, k.clone());
            Ok(k)
        }
    }
}

fn describe_error(e: &KubeError) -> String {
    match e {
        KubeError::Api {
            code,
            reason,
            message,
            causes,
            ..
        } => {
            let mut s = format!("{message} ({reason}, HTTP {code})");
            for c in causes {
                s.push_str(&format!("\n      {c}"));
            }
            if e.is_field_conflict() {
                s.push_str("\n      another field manager owns these fields; pass --force-conflicts to take them over");
            }
            s
        }
        other => other.to_string(),
    }
}

/// The bundle's target, refused when the options ask for another.
pub fn target_of(bundle: &Bundle, opts: &ApplyOptions) -> Result<String, ApplyError> {
    let manifest = bundle.manifest();
    match &opts.target {
        Some(t) if *t != manifest.target => Err(ApplyError::TargetMismatch {
            bundle: manifest.target.clone(),
            requested: t.clone(),
        }),
        _ => Ok(manifest.target.clone()),
    }
}

/// Reads the cluster and dry-runs the bundle. `Err` when the plan has problems.
pub async fn plan(kube: &Kube, bundle: &Bundle, opts: &ApplyOptions) -> Result<Plan, ApplyError> {
    let manifest = bundle.manifest();
    let target = target_of(bundle, opts)?;
    let cluster_err = |message: &str| {
        let message = message.to_string();
        move |source| ApplyError::Cluster { message, source }
    };
    let inventory = inventory::read(kube, &manifest.project, &target).await?;
    let resources = ResourceMap::discover(kube)
        .await
        .map_err(cluster_err("discovery failed"))?;
    let (items, mut problems) = prepare(bundle, &resources, kube.default_namespace(), &target);

    let tenants = TenantPolicy::from_manifest(manifest);
    let violations: Vec<_> = items
        .iter()
        .filter_map(|item| {
            let mut v = tenants
                .check(
                    &item.oref.component,
                    &item.oref.to_string(),
                    item.namespace(),
                )
                .err()?;
            v.declared_at = Some(item.declared_at.clone());
            Some(v)
        })
        .collect();
    if !violations.is_empty() {
        return Err(ApplyError::Tenant { violations });
    }

    // Which namespaces exist already.
    let bundle_namespaces: BTreeSet<String> = items
        .iter()
        .filter(|i| i.phase == Phase::Namespace)
        .map(|i| i.oref.name.clone())
        .collect();
    let used: BTreeSet<String> = items
        .iter()
        .filter_map(|i| i.oref.namespace.clone())
        .collect();
    let mut existing = BTreeSet::new();
    for ns in &used {
        let live = kube
            .get(&format!("/api/v1/namespaces/{ns}"))
            .await
            .map_err(cluster_err("cannot read namespaces"))?;
        if live.is_some() {
            existing.insert(ns.clone());
        } else if !bundle_namespaces.contains(ns) {
            problems.push(format!(
                "namespace `{ns}` does not exist and the bundle does not create it"
            ));
        }
    }

    // Live objects, one list per resource and namespace.
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        if let Some(res) = &item.resource
            && item.namespace().is_none_or(|ns| existing.contains(ns))
        {
            groups
                .entry(res.collection(item.namespace()))
                .or_default()
                .push(i);
        }
    }
    let mut live: HashMap<usize, Value> = HashMap::new();
    let items_ref = &items;
    let lists = futures::stream::iter(groups.into_iter().map(|(collection, idx)| async move {
        let items = items_ref;
        let result = if idx.len() == 1 {
            let path = items[idx[0]].item_path().unwrap_or_default();
            kube.get(&path)
                .await
                .map(|o| o.map(|o| vec![o]).unwrap_or_default())
        } else {
            kube.send(http::Method::GET, &collection, None)
                .await
                .map(|l| l["items"].as_array().cloned().unwrap_or_default())
        };
        (idx, result)
    }))
    .buffer_unordered(opts.concurrency.max(1))
    .collect::<Vec<_>>()
    .await;
    for (idx, result) in lists {
        let objs = result.map_err(cluster_err("cannot read live objects"))?;
        let by_name: HashMap<&str, &Value> = objs
            .iter()
            .filter_map(|o| Some((o.pointer("/metadata/name")?.as_str()?, o)))
            .collect();
        for i in idx {
            if let Some(o) = by_name.get(items[i].oref.name.as_str()) {
                live.insert(i, (*o).clone());
            }
        }
    }

    let ours = label_value(&target);
    for (i, obj) in &live {
        let owner = obj.pointer(&format!(
            "/metadata/labels/{}",
            LABEL_INVENTORY.replace('/', "~1")
        ));
        if let Some(owner) = owner.and_then(Value::as_str)
            && owner != ours
            && !opts.adopt
        {
            problems.push(format!(
                "{} belongs to inventory `{owner}` (another target); pass --adopt to take it over",
                items[*i].oref
            ));
        }
    }

    // Dry-run everything that can be.
    let mut clients = HashMap::new();
    let mut jobs = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let ready =
            item.resource.is_some() && item.namespace().is_none_or(|ns| existing.contains(ns));
        if ready {
            jobs.push((
                i,
                client_for(kube, &tenants, &item.oref.component, &mut clients)?,
            ));
        }
    }
    let results = futures::stream::iter(jobs.into_iter().map(|(i, client)| {
        let item = &items_ref[i];
        async move {
            let path = apply_path(&item.item_path().unwrap_or_default(), opts, true);
            (i, client.send(http::Method::PATCH, &path, body(item)).await)
        }
    }))
    .buffer_unordered(opts.concurrency.max(1))
    .collect::<Vec<_>>()
    .await;
    let mut dry: HashMap<usize, Value> = HashMap::new();
    for (i, r) in results {
        match r {
            Ok(v) => {
                dry.insert(i, v);
            }
            Err(e) if e.is_transient() => {
                return Err(ApplyError::Cluster {
                    message: format!("dry-run of {} failed", items[i].oref),
                    source: e,
                });
            }
            Err(e) => problems.push(format!("{}: {}", items[i].oref, describe_error(&e))),
        }
    }
    if !problems.is_empty() {
        return Err(ApplyError::Plan { problems });
    }

    let planned: Vec<Planned> = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let action = match (live.get(&i), dry.get(&i)) {
                (_, None) if item.resource.is_none() => {
                    Action::Pending("its kind is defined by a CRD of this bundle".into())
                }
                (_, None) => Action::Pending(format!(
                    "namespace `{}` is created by this apply",
                    item.namespace().unwrap_or_default()
                )),
                (None, Some(_)) => Action::Create,
                (Some(l), Some(d)) if same_ignoring_version(l, d) => Action::Unchanged,
                (Some(l), Some(d)) => Action::Update(diff_values(&comparable(l), &comparable(d))),
            };
            Planned { item, action }
        })
        .collect();

    let prune = match &inventory {
        Some(inv) if opts.prune => inv
            .objects
            .iter()
            .filter(|o| !planned.iter().any(|p| p.item.oref.same_object(o)))
            .cloned()
            .collect(),
        _ => Vec::new(),
    };
    Ok(Plan {
        project: manifest.project.clone(),
        tenants,
        target,
        digest: bundle.digest().to_string(),
        items: planned,
        prune,
        inventory,
        resources,
    })
}
