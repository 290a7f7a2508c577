//! Renders a plan for `--dry-run`: one line per object with its action, then the field-level
//! changes against the live object, in the same notation as `kiln diff`.

use crate::plan::{Action, Plan};
use kiln_bundle::diff::{FieldChange, FieldOp};
use serde_json::{Value, json};

fn show(v: &Option<Value>) -> String {
    match v {
        Some(Value::String(s)) => format!("{s:?}"),
        Some(v) => v.to_string(),
        None => "(unset)".into(),
    }
}

/// One field change, as `kiln diff` prints it.
pub fn field_line(f: &FieldChange) -> String {
    match f.op {
        FieldOp::Added => format!("+ {}: {}", f.path, show(&f.to)),
        FieldOp::Removed => format!("- {}: {}", f.path, show(&f.from)),
        FieldOp::Reordered => format!("~ {}: order {} -> {}", f.path, show(&f.from), show(&f.to)),
        FieldOp::Changed => format!("~ {}: {} -> {}", f.path, show(&f.from), show(&f.to)),
    }
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
                for c in changes {
                    out.push_str(&format!("      {}\n", field_line(c)));
                }
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
