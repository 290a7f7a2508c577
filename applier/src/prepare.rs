//! Turns a verified bundle into the ordered work list: each object labelled with kiln's
//! ownership label for this inventory, resolved to a REST resource, and placed in its phase:
//! CRDs first, then Namespaces, then, wave by wave, cluster-scoped objects before namespaced ones.

use crate::discovery::{Resource, ResourceMap, crd_kinds};
use crate::inventory::{LABEL_INVENTORY, LABEL_MANAGED_BY, ObjectRef};
use kiln_bundle::Bundle;
use serde_json::{Value, json};

/// Where an object goes in the apply order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Crd,
    Namespace,
    ClusterScoped,
    Namespaced,
}

/// One object to apply.
#[derive(Debug, Clone)]
pub struct Item {
    /// The object as it will be sent (with kiln's labels).
    pub object: Value,
    pub oref: ObjectRef,
    pub phase: Phase,
    /// `None` while the kind is only served once a CRD of this bundle is Established.
    pub resource: Option<Resource>,
    /// Where the object was declared: `[source:]file:line`, for diagnostics.
    pub declared_at: String,
}

impl Item {
    pub fn namespace(&self) -> Option<&str> {
        self.oref.namespace.as_deref()
    }

    pub fn item_path(&self) -> Option<String> {
        self.resource
            .as_ref()
            .map(|r| r.item(self.namespace(), &self.oref.name))
    }
}

/// Builds the work list; returns the problems (unknown kinds) instead of guessing.
pub fn prepare(
    bundle: &Bundle,
    resources: &ResourceMap,
    default_namespace: &str,
    target: &str,
) -> (Vec<Item>, Vec<String>) {
    let bundle_kinds: Vec<Resource> = bundle
        .objects()
        .filter(|o| {
            o.entry.id.group == "apiextensions.k8s.io"
                && o.entry.id.kind == "CustomResourceDefinition"
        })
        .flat_map(|o| crd_kinds(o.value))
        .collect();
    let mut items = Vec::new();
    let mut problems = Vec::new();
    for o in bundle.objects() {
        let id = &o.entry.id;
        let served = resources.get(&id.group, &id.version, &id.kind).cloned();
        let from_bundle = bundle_kinds
            .iter()
            .find(|r| r.group == id.group && r.version == id.version && r.kind == id.kind);
        let namespaced = match (&served, from_bundle) {
            (Some(r), _) => r.namespaced,
            (None, Some(r)) => r.namespaced,
            (None, None) => {
                problems.push(format!(
                    "{} ({}:{}): the cluster does not serve {}/{} {} and no CRD in the bundle defines it",
                    id.key(),
                    o.entry.provenance.file,
                    o.entry.provenance.line,
                    id.group,
                    id.version,
                    id.kind
                ));
                continue;
            }
        };
        let namespace = if namespaced {
            Some(
                id.namespace
                    .clone()
                    .unwrap_or_else(|| default_namespace.to_string()),
            )
        } else {
            None
        };
        let mut object = o.value.clone();
        if let Some(ns) = &namespace {
            object["metadata"]["namespace"] = json!(ns);
        } else if let Some(m) = object["metadata"].as_object_mut() {
            m.remove("namespace");
        }
        let labels = object["metadata"]
            .as_object_mut()
            .map(|m| m.entry("labels").or_insert_with(|| json!({})));
        if let Some(Value::Object(l)) = labels {
            l.insert(LABEL_INVENTORY.into(), json!(label_value(target)));
            l.insert(LABEL_MANAGED_BY.into(), json!("kiln"));
        }
        let phase = match (id.group.as_str(), id.kind.as_str(), namespaced) {
            ("apiextensions.k8s.io", "CustomResourceDefinition", _) => Phase::Crd,
            ("", "Namespace", _) => Phase::Namespace,
            (_, _, false) => Phase::ClusterScoped,
            _ => Phase::Namespaced,
        };
        items.push(Item {
            object,
            oref: ObjectRef {
                group: id.group.clone(),
                version: id.version.clone(),
                kind: id.kind.clone(),
                namespace,
                name: id.name.clone(),
                component: o.component.name.clone(),
                wave: o.component.wave,
            },
            phase,
            resource: served,
            declared_at: declared_at(&o.entry.provenance),
        });
    }
    (items, problems)
}

fn declared_at(p: &kiln_bundle::Provenance) -> String {
    match &p.source {
        Some(source) => format!("{source}:{}:{}", p.file, p.line),
        None => format!("{}:{}", p.file, p.line),
    }
}

/// The ownership label value for a target (label values allow at most 63 characters).
pub fn label_value(target: &str) -> String {
    let clean: String = target
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(63)
        .collect();
    clean
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string()
}
