//! Renders a plan for `--dry-run`: one line per object with its action, then the field-level
//! changes against the live object, printed by `kiln diff`'s own renderer
//! ([`kiln_bundle::diff::field_lines`]) so a dry-run reads like a bundle diff.

use crate::plan::{Action, Plan};
use kiln_bundle::diff::{FieldChange, field_lines};
use serde_json::{Value, json};

/// Field changes as `kiln diff` prints them, each line prefixed with `indent`.
pub fn field_changes(changes: &[FieldChange], indent: &str) -> String {
    let mut out = String::new();
    for c in changes {
        for line in field_lines(c) {
            out.push_str(indent);
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

pub fn plan_text(plan: &Plan) -> String {
    let (create, update, unchanged, pending) = plan.counts();
    let mut out = format!(
        "plan for target `{}` ({}): {create} to create, {update} to configure, {unchanged} unchanged, {pending} pending, {} to prune\n",
        plan.target,
        plan.digest,
        plan.prune.len()
    );
    for p in &plan.items {
        match &p.action {
            Action::Create => out.push_str(&format!("  + {} (create)\n", p.item.oref)),
            Action::Update(changes) => {
                out.push_str(&format!("  ~ {} (configure)\n", p.item.oref));
                out.push_str(&field_changes(changes, "      "));
            }
            Action::Pending(why) => out.push_str(&format!(
                "  + {} (create; not dry-run: {why})\n",
                p.item.oref
            )),
            Action::Unchanged => {}
        }
    }
    for o in &plan.prune {
        out.push_str(&format!("  - {o} (prune)\n"));
    }
    out
}

pub fn plan_json(plan: &Plan) -> Value {
    let items: Vec<Value> = plan
        .items
        .iter()
        .map(|p| {
            let (action, changes) = match &p.action {
                Action::Create => ("create", json!([])),
                Action::Update(c) => ("configure", serde_json::to_value(c).unwrap_or_default()),
                Action::Unchanged => ("unchanged", json!([])),
                Action::Pending(_) => ("create-pending", json!([])),
            };
            json!({"object": p.item.oref.to_string(), "component": p.item.oref.component, "action": action, "changes": changes})
        })
        .collect();
    json!({
        "target": plan.target,
        "digest": plan.digest,
        "objects": items,
        "prune": plan.prune.iter().map(|o| o.to_string()).collect::<Vec<_>>(),
    })
}
