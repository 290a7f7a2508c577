//! Output order (kustomize's legacy kind order or fifo) and printing as multi-document YAML.

use serde_json::Value;

use crate::error::{KustomizeError, Result};
use crate::kustomization::SortOptions;
use crate::resid::{LEGACY_ORDER_FIRST, LEGACY_ORDER_LAST};
use crate::resource::ResMap;

/// Sorts the final resources: legacy order unless `sortOptions.order` is `fifo`.
pub fn sort(m: &mut ResMap, opts: Option<&SortOptions>) -> Result<()> {
    let order = opts
        .and_then(|o| o.order.clone())
        .unwrap_or_else(|| "legacy".into());
    match order.as_str() {
        "fifo" => {
            if opts.is_some_and(|o| o.legacy_sort_options.is_some()) {
                return Err(KustomizeError::build(
                    "the field 'sortOptions.legacySortOptions' is set but the selected sort order is 'fifo', not 'legacy'",
                ));
            }
            Ok(())
        }
        "legacy" => {
            let legacy = opts.and_then(|o| o.legacy_sort_options.as_ref());
            let first: Vec<String> = legacy
                .and_then(|l| l.order_first.clone())
                .unwrap_or_else(|| LEGACY_ORDER_FIRST.iter().map(|s| s.to_string()).collect());
            let last: Vec<String> = legacy
                .and_then(|l| l.order_last.clone())
                .unwrap_or_else(|| LEGACY_ORDER_LAST.iter().map(|s| s.to_string()).collect());
            // Keys computed once per resource: the type's rank and text, the id's text.
            let mut keyed: Vec<_> = std::mem::take(&mut m.resources)
                .into_iter()
                .map(|r| {
                    let id = r.cur_id();
                    let s = id.legacy_sort_string();
                    let rank = id.gvk.legacy_rank(&first, &last);
                    let type_text = id.gvk.to_string();
                    (id.gvk, rank, type_text, s, r)
                })
                .collect();
            keyed.sort_by(|a, b| {
                if a.0 != b.0 {
                    a.1.cmp(&b.1).then_with(|| a.2.cmp(&b.2))
                } else {
                    a.3.cmp(&b.3)
                }
            });
            m.resources = keyed.into_iter().map(|(_, _, _, _, r)| r).collect();
            Ok(())
        }
        other => Err(KustomizeError::build(format!(
            "the field 'sortOptions.order' must be one of [legacy fifo], got '{other}'"
        ))),
    }
}

/// The text of a `config.kubernetes.io/origin` annotation.
pub fn origin_annotation(o: &Value) -> String {
    let mut s = String::new();
    if let Some(p) = o.get("path").and_then(Value::as_str) {
        s.push_str(&format!("path: {p}\n"));
    }
    if let Some(c) = o.get("configuredIn").and_then(Value::as_str) {
        s.push_str(&format!("configuredIn: {c}\n"));
    }
    if let Some(b) = o.get("configuredBy") {
        s.push_str("configuredBy:\n");
        for k in ["apiVersion", "kind", "name", "namespace"] {
            if let Some(v) = b.get(k).and_then(Value::as_str) {
                s.push_str(&format!("  {k}: {v}\n"));
            }
        }
    }
    s
}

/// Prints objects as a YAML stream separated by `---`, byte for byte as `kubectl kustomize`
/// does: keys sorted and strings quoted and folded as kustomize's Go encoder does.
pub fn to_yaml_stream(objects: &[Value]) -> Result<String> {
    Ok(kiln_yaml::emit::to_multi_document_string(
        objects,
        kiln_yaml::EmitOptions::KUBECTL,
    ))
}
