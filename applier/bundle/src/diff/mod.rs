//! `kiln diff`: what changes between two bundles, object by object and field by field.
//!
//! Objects are identified by group, kind, namespace and name (an API version bump is a change of
//! the `apiVersion` field, not a new object). The result lists added, removed, changed and moved
//! objects and component changes, sorted by identity, and renders as text, as Markdown for a
//! pull-request comment, or as JSON. Values under `data` and `stringData` of core `Secret`s are
//! redacted: a PR comment must never leak a secret.

mod fields;
mod render;

pub use fields::{FieldChange, FieldOp, diff_values};
pub use render::{MARKDOWN_LIMIT, field_lines};

use crate::bundle::Bundle;
use crate::digest::Digest;
use crate::error::BundleError;
use crate::layout;
use crate::model::{Manifest, ObjectKey, Tenancy};
use crate::read::{self, RawBundle};
use serde::Serialize;
use serde_json::Value;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::Path;

/// Everything that differs between two bundles.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BundleDiff {
    pub from: Side,
    pub to: Side,
    pub summary: Summary,
    /// Added, removed, changed and moved objects, sorted by identity.
    pub objects: Vec<ObjectDiff>,
    /// Added and removed components, and changes of their dependencies or wave.
    pub components: Vec<ComponentDiff>,
    /// Whether the recorded lock data differs.
    pub lock_changed: bool,
}

/// One of the two bundles compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    pub path: String,
    pub digest: Digest,
    pub project: String,
    pub target: String,
    pub compiler: String,
}

/// Object counts by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub added: usize,
    pub removed: usize,
    pub changed: usize,
    /// Objects whose content is equal but that now belong to another component.
    pub moved: usize,
    pub unchanged: usize,
}

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Added,
    Removed,
    Changed,
    Moved,
}

/// One object that differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectDiff {
    pub key: ObjectKey,
    pub status: Status,
    /// The component in `to` (in `from` for a removed object).
    pub component: String,
    /// The component in `from` when the object moved between components.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moved_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_digest: Option<Digest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_digest: Option<Digest>,
    /// Field changes of a changed object, in path order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
}

/// A component that was added or removed, or whose dependencies, wave or tenancy (the service
/// account the applier acts as, the namespaces it may write to) changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComponentDiff {
    pub name: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_wave: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_wave: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_depends_on: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_depends_on: Option<Vec<String>>,
    /// The tenancy in `from`; absent when the component was unrestricted (or absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_tenancy: Option<Tenancy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_tenancy: Option<Tenancy>,
}

impl BundleDiff {
    /// True when the two bundles would put the same objects in the same components and waves
    /// (provenance, compiler version and lock data aside).
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty() && self.components.is_empty()
    }
}

const REDACTED: &str = "(redacted)";

/// Opens, verifies and compares two bundles (directories or tars), decoding only the objects
/// whose content differs: every file is still checked against its digest, and objects present in
/// both with the same digest are identical bytes, so they need no decoding to be called unchanged.
/// This is what `kiln diff A B` needs, at a fraction of the cost of two [`Bundle::open`]s.
pub fn diff_paths(from: &Path, to: &Path) -> Result<BundleDiff, BundleError> {
    let raw_a = read::read(from)?;
    let raw_b = read::read(to)?;
    let da = digests(&raw_a);
    let db = digests(&raw_b);
    let a = Bundle::from_raw(from, &raw_a, None, &|e| {
        db.get(&e.id.key()) != Some(&e.digest)
    })?;
    let b = Bundle::from_raw(to, &raw_b, None, &|e| {
        da.get(&e.id.key()) != Some(&e.digest)
    })?;
    Ok(diff(&a, &b))
}

/// Object digests by identity from a bundle's manifest, or nothing if it does not parse (then
/// every object is decoded and verification reports the manifest).
fn digests(raw: &RawBundle) -> BTreeMap<ObjectKey, Digest> {
    raw.files
        .get(layout::MANIFEST)
        .and_then(|bytes| serde_json::from_slice::<Manifest>(bytes).ok())
        .map(|m| {
            m.components
                .iter()
                .flat_map(|c| &c.objects)
                .map(|o| (o.id.key(), o.digest))
                .collect()
        })
        .unwrap_or_default()
}

/// Compares two verified bundles.
pub fn diff(from: &Bundle, to: &Bundle) -> BundleDiff {
    fn index(b: &Bundle) -> BTreeMap<ObjectKey, (&String, Digest, &Value)> {
        b.objects()
            .map(|o| {
                (
                    o.entry.id.key(),
                    (&o.component.name, o.entry.digest, o.value),
                )
            })
            .collect()
    }
    let a = index(from);
    let b = index(to);
    let mut summary = Summary::default();
    let mut objects = Vec::new();
    // Both maps are sorted by key: walk them together instead of looking keys up.
    let mut ia = a.iter().peekable();
    let mut ib = b.iter().peekable();
    loop {
        let order = match (ia.peek(), ib.peek()) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some((ka, _)), Some((kb, _))) => ka.cmp(kb),
        };
        let (key, left, right) = match order {
            Ordering::Less => match ia.next() {
                Some((k, l)) => (k, Some(l), None),
                None => break,
            },
            Ordering::Greater => match ib.next() {
                Some((k, r)) => (k, None, Some(r)),
                None => break,
            },
            Ordering::Equal => match (ia.next(), ib.next()) {
                (Some((k, l)), Some((_, r))) => (k, Some(l), Some(r)),
                _ => break,
            },
        };
        let diff = match (left, right) {
            (Some((ca, da, va)), Some((cb, db, vb))) => {
                let moved_from = (ca != cb).then(|| ca.to_string());
                if da == db {
                    if moved_from.is_none() {
                        summary.unchanged += 1;
                        continue;
                    }
                    summary.moved += 1;
                    ObjectDiff {
                        key: key.clone(),
                        status: Status::Moved,
                        component: cb.to_string(),
                        moved_from,
                        from_digest: Some(*da),
                        to_digest: Some(*db),
                        fields: Vec::new(),
                    }
                } else {
                    summary.changed += 1;
                    let mut fields = diff_values(va, vb);
                    if is_secret(key) {
                        redact(&mut fields);
                    }
                    ObjectDiff {
                        key: key.clone(),
                        status: Status::Changed,
                        component: cb.to_string(),
                        moved_from,
                        from_digest: Some(*da),
                        to_digest: Some(*db),
                        fields,
                    }
                }
            }
            (Some((ca, da, _)), None) => {
                summary.removed += 1;
                ObjectDiff {
                    key: key.clone(),
                    status: Status::Removed,
                    component: ca.to_string(),
                    moved_from: None,
                    from_digest: Some(*da),
                    to_digest: None,
                    fields: Vec::new(),
                }
            }
            (None, Some((cb, db, _))) => {
                summary.added += 1;
                ObjectDiff {
                    key: key.clone(),
                    status: Status::Added,
                    component: cb.to_string(),
                    moved_from: None,
                    from_digest: None,
                    to_digest: Some(*db),
                    fields: Vec::new(),
                }
            }
            (None, None) => continue,
        };
        objects.push(diff);
    }
    BundleDiff {
        from: side(from),
        to: side(to),
        summary,
        objects,
        components: component_diffs(from, to),
        lock_changed: from.manifest().lock != to.manifest().lock,
    }
}

fn side(b: &Bundle) -> Side {
    let m = b.manifest();
    Side {
        path: b.path().display().to_string(),
        digest: b.digest(),
        project: m.project.clone(),
        target: m.target.clone(),
        compiler: m.compiler.clone(),
    }
}

fn is_secret(key: &ObjectKey) -> bool {
    key.group.is_empty() && key.kind == "Secret"
}

/// Replaces the values of changes under `data` / `stringData` with a marker.
fn redact(fields: &mut [FieldChange]) {
    for change in fields {
        let sensitive = ["data", "stringData"].iter().any(|top| {
            change.path == *top
                || change.path.starts_with(&format!("{top}."))
                || change.path.starts_with(&format!("{top}["))
        });
        if sensitive {
            for v in [&mut change.from, &mut change.to].into_iter().flatten() {
                *v = Value::String(REDACTED.into());
            }
        }
    }
}

fn restricted(t: &Tenancy) -> Option<Tenancy> {
    (!t.is_unrestricted()).then(|| t.clone())
}

fn component_diffs(from: &Bundle, to: &Bundle) -> Vec<ComponentDiff> {
    let index = |b: &'_ Bundle| {
        b.manifest()
            .components
            .iter()
            .map(|c| {
                (
                    c.name.clone(),
                    (c.wave, c.depends_on.clone(), c.tenancy.clone()),
                )
            })
            .collect::<BTreeMap<_, _>>()
    };
    let a = index(from);
    let b = index(to);
    let mut names: Vec<&String> = a.keys().chain(b.keys()).collect();
    names.sort();
    names.dedup();
    let mut out = Vec::new();
    for name in names {
        let (status, fa, fb) = match (a.get(name), b.get(name)) {
            (Some(x), Some(y)) if x == y => continue,
            (Some(x), Some(y)) => (Status::Changed, Some(x), Some(y)),
            (Some(x), None) => (Status::Removed, Some(x), None),
            (None, Some(y)) => (Status::Added, None, Some(y)),
            (None, None) => continue,
        };
        out.push(ComponentDiff {
            name: name.clone(),
            status,
            from_wave: fa.map(|x| x.0),
            to_wave: fb.map(|y| y.0),
            from_depends_on: fa.map(|x| x.1.clone()),
            to_depends_on: fb.map(|y| y.1.clone()),
            from_tenancy: fa.and_then(|x| restricted(&x.2)),
            to_tenancy: fb.and_then(|y| restricted(&y.2)),
        });
    }
    out
}
