//! Dependency processing before rendering, as Helm's `ProcessDependenciesWithMerge` does it:
//! aliases, `condition`/`tags` enabling, removal of disabled subcharts, then `import-values`.

use serde_json::{Map, Value};

use crate::chart::Chart;
use crate::coalesce;
use crate::error::HelmError;
use crate::semver::{Constraints, Version};

type Table = Map<String, Value>;

/// Every dependency declared in `Chart.yaml` must be present in `charts/` (Helm's `CheckDependencies`).
pub fn check_present(chart: &Chart) -> Result<(), HelmError> {
    let missing: Vec<&str> = chart
        .metadata
        .dependencies
        .iter()
        .filter(|d| !chart.dependencies.iter().any(|c| c.name() == d.name))
        .map(|d| d.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(HelmError::msg(format!(
            "found in Chart.yaml, but missing in charts/ directory: {}",
            missing.join(", ")
        ))
        .with_chart(chart.name()));
    }
    Ok(())
}

fn compatible(constraint: &str, version: &str) -> bool {
    let (Ok(c), Ok(v)) = (Constraints::parse(constraint), Version::parse(version)) else {
        return false;
    };
    c.check(&v)
}

/// Resolves aliases and conditions/tags recursively, dropping disabled subcharts.
pub fn process_enabled(chart: &mut Chart, vals: &Table, path: &str) {
    if chart.metadata.dependencies.is_empty() {
        return;
    }
    let existing = std::mem::take(&mut chart.dependencies);
    let mut deps: Vec<Chart> = Vec::new();
    for c in &existing {
        let declared = chart
            .metadata
            .dependencies
            .iter()
            .any(|r| r.name == c.name() && compatible(&r.version, &c.metadata.version));
        if !declared {
            deps.push(c.clone());
        }
    }
    for req in &mut chart.metadata.dependencies {
        let found = existing.iter().find(|c| {
            c.name() == req.name
                && (req.version.is_empty() || compatible(&req.version, &c.metadata.version))
        });
        if let Some(c) = found {
            let mut c = c.clone();
            if !req.alias.is_empty() {
                c.metadata.name = req.alias.clone();
            }
            deps.push(c);
        }
        if !req.alias.is_empty() {
            req.name = req.alias.clone();
        }
    }
    chart.dependencies = deps;
    for d in &mut chart.metadata.dependencies {
        d.enabled = true;
    }
    let cvals = coalesce::coalesce_values_of(chart, vals, &|key| {
        looked_up_keys(chart, path).any(|k| k == key)
    });
    process_tags(chart, &cvals);
    process_conditions(chart, &cvals, path);
    let disabled: Vec<String> = chart
        .metadata
        .dependencies
        .iter()
        .filter(|d| !d.enabled)
        .map(|d| d.name.clone())
        .collect();
    chart
        .dependencies
        .retain(|c| !disabled.contains(&c.metadata.name));
    chart
        .metadata
        .dependencies
        .retain(|d| !disabled.contains(&d.name));
    for sub in &mut chart.dependencies {
        let subpath = format!("{path}{}.", sub.metadata.name);
        process_enabled(sub, &cvals, &subpath);
    }
}

/// The top-level keys of the coalesced values that resolving `chart`'s dependencies reads:
/// `tags`, the first key of each condition path and, for subcharts with dependencies of their
/// own (whose paths start with `path`), the first key of their path.
fn looked_up_keys<'a>(chart: &'a Chart, path: &'a str) -> impl Iterator<Item = &'a str> {
    let first = |rest: &'a str| match path.split_once('.') {
        Some((first, _)) => first,
        None => rest.split('.').next().unwrap_or(rest),
    };
    let conditions = chart
        .metadata
        .dependencies
        .iter()
        .flat_map(|r| r.condition.split(','))
        .map(move |c| first(c.trim()));
    let nested = chart
        .dependencies
        .iter()
        .filter(|sub| !sub.metadata.dependencies.is_empty())
        .map(move |sub| first(sub.name()));
    std::iter::once("tags").chain(conditions).chain(nested)
}

fn process_tags(chart: &mut Chart, cvals: &Table) {
    let Some(Value::Object(tags)) = cvals.get("tags") else {
        return;
    };
    for r in &mut chart.metadata.dependencies {
        let (mut has_true, mut has_false) = (false, false);
        for k in &r.tags {
            match tags.get(k) {
                Some(Value::Bool(true)) => has_true = true,
                Some(Value::Bool(false)) => has_false = true,
                Some(_) => eprintln!(
                    "Warning: Tag '{k}' for chart {} returned non-bool value",
                    r.name
                ),
                None => {}
            }
        }
        if !has_true && has_false {
            r.enabled = false;
        } else if has_true || !has_false {
            r.enabled = true;
        }
    }
}

fn process_conditions(chart: &mut Chart, cvals: &Table, path: &str) {
    for r in &mut chart.metadata.dependencies {
        for c in r.condition.trim().split(',') {
            let c = c.trim();
            if c.is_empty() {
                continue;
            }
            match path_value(cvals, &format!("{path}{c}")) {
                Some(Value::Bool(b)) => {
                    r.enabled = *b;
                    break;
                }
                Some(_) => eprintln!(
                    "Warning: Condition path '{c}' for chart {} returned non-bool value",
                    r.name
                ),
                None => {}
            }
        }
    }
}

/// `Values.PathValue`: a non-table value at a dotted path.
pub fn path_value<'a>(vals: &'a Table, path: &str) -> Option<&'a Value> {
    let parts: Vec<&str> = path.split('.').collect();
    let (last, tables) = parts.split_last()?;
    let mut cur = vals;
    for p in tables {
        match cur.get(*p) {
            Some(Value::Object(m)) => cur = m,
            _ => return None,
        }
    }
    match cur.get(*last) {
        Some(Value::Object(_)) | None => None,
        Some(v) => Some(v),
    }
}

/// `Values.Table`: the table at a dotted path.
pub fn table<'a>(vals: &'a Table, path: &str) -> Option<&'a Table> {
    let mut cur = vals;
    for p in path.split('.') {
        match cur.get(p) {
            Some(Value::Object(m)) => cur = m,
            _ => return None,
        }
    }
    Some(cur)
}

/// Applies `import-values` bottom-up, merging (nulls kept) as `helm template` does.
pub fn process_import_values(chart: &mut Chart) {
    for d in &mut chart.dependencies {
        process_import_values(d);
    }
    if chart.metadata.dependencies.is_empty() {
        return;
    }
    let cvals = coalesce::merge_defaults_taking(chart);
    let mut b: Table = Map::new();
    for r in &mut chart.metadata.dependencies {
        let mut out = Vec::new();
        for iv in &r.import_values {
            match iv {
                Value::Object(m) => {
                    let child = m
                        .get("child")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    let parent = m
                        .get("parent")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    out.push(serde_json::json!({"child": child, "parent": parent}));
                    let Some(vv) = table(&cvals, &format!("{}.{child}", r.name)) else {
                        eprintln!("Warning: ImportValues missing table from chart {}", r.name);
                        continue;
                    };
                    let m = path_to_map(&parent, vv.clone());
                    b = coalesce::coalesce_tables_owned(b, m, true);
                }
                Value::String(s) => {
                    let child = format!("exports.{s}");
                    out.push(serde_json::json!({"child": child, "parent": "."}));
                    let Some(vm) = table(&cvals, &format!("{}.{child}", r.name)) else {
                        eprintln!("Warning: ImportValues missing table");
                        continue;
                    };
                    b = coalesce::coalesce_tables_owned(b, vm.clone(), true);
                }
                _ => {}
            }
        }
        r.import_values = out;
    }
    chart.values = coalesce::coalesce_tables_owned(cvals, b, true).into();
}

/// `pathToMap`: nests `data` under a dotted path (`.` is the root).
fn path_to_map(path: &str, data: Table) -> Table {
    if path == "." {
        return data;
    }
    let mut cur = data;
    for p in path.split('.').rev().filter(|p| !p.is_empty()) {
        let mut m = Map::new();
        m.insert(p.to_string(), Value::Object(cur));
        cur = m;
    }
    cur
}
