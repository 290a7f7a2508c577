//! Drift: compares what the last apply set with what the cluster has now, field by field, and
//! names the other field managers that touched the object; deleted objects are drift too.

use crate::client::Kube;
use crate::discovery::ResourceMap;
use crate::error::ApplyError;
use crate::inventory;
use crate::prepare::prepare;
use kiln_bundle::Bundle;
use kiln_bundle::diff::{FieldChange, diff_values};
use serde_json::{Map, Value};

#[derive(Debug, Clone)]
pub struct DriftedObject {
    pub object: String,
    /// `None` when the object was deleted.
    pub changes: Option<Vec<FieldChange>>,
    /// Field managers other than kiln's that wrote the object.
    pub managers: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct DriftReport {
    pub target: String,
    pub digest: String,
    pub checked: usize,
    pub drifted: Vec<DriftedObject>,
    /// The bundle compared is not the one the inventory says was applied last.
    pub stale_bundle: Option<String>,
}

impl DriftReport {
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "drift of target `{}` against {}: {} of {} objects drifted\n",
            self.target,
            self.digest,
            self.drifted.len(),
            self.checked
        );
        if let Some(d) = &self.stale_bundle {
            out.push_str(&format!(
                "warning: the inventory says {d} was applied last\n"
            ));
        }
        for d in &self.drifted {
            match &d.changes {
                None => out.push_str(&format!("  - {} was deleted\n", d.object)),
                Some(changes) => {
                    let by = if d.managers.is_empty() {
                        String::new()
                    } else {
                        format!(" (by {})", d.managers.join(", "))
                    };
                    out.push_str(&format!("  ~ {}{by}\n", d.object));
                    out.push_str(&crate::render::field_changes(changes, "      "));
                }
            }
        }
        out
    }
}

/// Keeps only the parts of `live` that `desired` sets, so server defaults are not drift.
pub fn project(desired: &Value, live: &Value) -> Value {
    match (desired, live) {
        (Value::Object(d), Value::Object(l)) => {
            let mut out = Map::new();
            for (k, dv) in d {
                if let Some(lv) = l.get(k) {
                    out.insert(k.clone(), project(dv, lv));
                }
            }
            Value::Object(out)
        }
        (Value::Array(d), Value::Array(l)) if d.len() == l.len() => {
            Value::Array(d.iter().zip(l).map(|(a, b)| project(a, b)).collect())
        }
        (_, l) => l.clone(),
    }
}

pub async fn drift(
    kube: &Kube,
    bundle: &Bundle,
    field_manager: &str,
) -> Result<DriftReport, ApplyError> {
    let manifest = bundle.manifest();
    let inv = inventory::read(kube, &manifest.project, &manifest.target).await?;
    let resources = ResourceMap::discover(kube)
        .await
        .map_err(|source| ApplyError::Cluster {
            message: "discovery failed".into(),
            source,
        })?;
    let (items, problems) = prepare(
        bundle,
        &resources,
        kube.default_namespace(),
        &manifest.target,
    );
    let digest = bundle.digest().to_string();
    let mut report = DriftReport {
        target: manifest.target.clone(),
        digest: digest.clone(),
        stale_bundle: inv
            .as_ref()
            .filter(|i| i.digest != digest)
            .map(|i| i.digest.clone()),
        ..Default::default()
    };
    for p in problems {
        report.drifted.push(DriftedObject {
            object: p,
            changes: None,
            managers: vec![],
        });
    }
    for item in items {
        let Some(path) = item.item_path() else {
            continue;
        };
        report.checked += 1;
        let live = kube
            .get(&path)
            .await
            .map_err(|source| ApplyError::Cluster {
                message: format!("cannot read {}", item.oref),
                source,
            })?;
        let Some(live) = live else {
            report.drifted.push(DriftedObject {
                object: item.oref.to_string(),
                changes: None,
                managers: vec![],
            });
            continue;
        };
        let mut desired = item.object.clone();
        if let Some(m) = desired.as_object_mut() {
            m.remove("status");
        }
        let changes = diff_values(&desired, &project(&desired, &live));
        if changes.is_empty() {
            continue;
        }
        let managers = live["metadata"]["managedFields"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["manager"] != field_manager && m.get("subresource").is_none())
            .filter_map(|m| m["manager"].as_str().map(String::from))
            .collect();
        report.drifted.push(DriftedObject {
            object: item.oref.to_string(),
            changes: Some(changes),
            managers,
        });
    }
    Ok(report)
}
