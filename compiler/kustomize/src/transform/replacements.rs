//! `replacements`: copy a field of one object into fields of others (kustomize's
//! ReplacementTransformer), with delimiter/index refinement and optional field creation.

use serde_json::Value;

use crate::error::{KustomizeError, Result};
use crate::kustomization::{
    FieldOptions, ReplacementField, ReplacementSource, ReplacementTarget, Selector,
};
use crate::resid::{Gvk, ResId};
use crate::resource::ResMap;
use crate::selector::{Requirement, matches_requirements, parse_selector};
use crate::transform::path;

fn source_selects(id: &ResId, s: &ReplacementSource) -> bool {
    let sel = Gvk::new(
        s.group.as_deref().unwrap_or(""),
        s.version.as_deref().unwrap_or(""),
        s.kind.as_deref().unwrap_or(""),
    );
    id.gvk.is_selected(&sel)
        && s.name
            .as_deref()
            .is_none_or(|n| n.is_empty() || n == id.name)
        && s.namespace
            .as_deref()
            .is_none_or(|n| n.is_empty() || n == id.namespace)
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn source_value(m: &ResMap, s: &ReplacementSource) -> Result<Value> {
    let mut hits = m
        .resources
        .iter()
        .filter(|r| r.all_ids().iter().any(|id| source_selects(id, s)));
    let Some(src) = hits.next() else {
        return Err(KustomizeError::build(format!(
            "nothing selected by {}:{}",
            s.kind.as_deref().unwrap_or(""),
            s.name.as_deref().unwrap_or("")
        )));
    };
    if hits.next().is_some() {
        return Err(KustomizeError::build(format!(
            "more than one match for source {}:{}",
            s.kind.as_deref().unwrap_or(""),
            s.name.as_deref().unwrap_or("")
        )));
    }
    let fp = s
        .field_path
        .clone()
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| "metadata.name".into());
    let v = path::get(&src.obj, &path::split(&fp))
        .filter(|v| !v.is_null() && !matches!(v, Value::String(s) if s.is_empty()))
        .ok_or_else(|| {
            KustomizeError::build(format!(
                "fieldPath `{fp}` is missing for replacement source {}",
                src.cur_id()
            ))
        })?;
    match s
        .options
        .as_ref()
        .and_then(|o| o.delimiter.as_deref())
        .filter(|d| !d.is_empty())
    {
        None => Ok(v.clone()),
        Some(d) => {
            let Value::String(text) = v else {
                return Err(KustomizeError::build(
                    "delimiter option can only be used with scalar nodes",
                ));
            };
            let parts: Vec<&str> = text.split(d).collect();
            let idx = s.options.as_ref().and_then(|o| o.index).unwrap_or(0);
            if idx < 0 || idx as usize >= parts.len() {
                return Err(KustomizeError::build(format!(
                    "options.index {idx} is out of bounds for value {text}"
                )));
            }
            Ok(Value::String(parts[idx as usize].to_string()))
        }
    }
}

/// Converts `value` into the type the target scalar already has (kyaml keeps the target's tag).
fn retype(target: &Value, text: &str, value: &Value) -> Value {
    match target {
        Value::String(_) => Value::String(text.to_string()),
        Value::Number(_) => {
            if let Ok(i) = text.parse::<i64>() {
                Value::from(i)
            } else if let Ok(f) = text.parse::<f64>() {
                serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .unwrap_or(Value::String(text.into()))
            } else {
                Value::String(text.into())
            }
        }
        Value::Bool(_) => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(text.into()),
        },
        _ => value.clone(),
    }
}

fn set_field(target: &mut Value, value: &Value, opts: Option<&FieldOptions>) -> Result<()> {
    let mut value = value.clone();
    if let Some(d) = opts
        .and_then(|o| o.delimiter.as_deref())
        .filter(|d| !d.is_empty())
    {
        let Value::String(t) = &*target else {
            return Err(KustomizeError::build(
                "delimiter option can only be used with scalar nodes",
            ));
        };
        let mut parts: Vec<String> = t.split(d).map(str::to_string).collect();
        let v = text_of(&value);
        let idx = opts.and_then(|o| o.index).unwrap_or(0);
        if idx < 0 {
            parts.insert(0, v);
        } else if idx as usize >= parts.len() {
            parts.push(v);
        } else {
            parts[idx as usize] = v;
        }
        value = Value::String(parts.join(d));
    }
    let is_scalar = |v: &Value| !matches!(v, Value::Object(_) | Value::Array(_) | Value::Null);
    if is_scalar(target) && is_scalar(&value) {
        let text = text_of(&value);
        *target = retype(target, &text, &value);
    } else {
        *target = value;
    }
    Ok(())
}

/// A replacement `select:`/`reject:` entry. Unlike patch targets these are not regular
/// expressions: kustomize compares group, version, kind and name exactly and namespaces by
/// their effective value (an id read from a resource is never cluster-scoped there, so an
/// empty namespace is `default`).
struct IdSelector {
    gvk: Gvk,
    name: String,
    namespace: Option<String>,
    labels: Option<Vec<Requirement>>,
    annotations: Option<Vec<Requirement>>,
}

fn putative_ns(ns: &str) -> &str {
    if ns.is_empty() { "default" } else { ns }
}

impl IdSelector {
    fn new(s: &Selector) -> Result<Self> {
        let req = |v: &Option<String>| -> Result<Option<Vec<Requirement>>> {
            match v.as_deref() {
                None | Some("") => Ok(None),
                Some(text) => parse_selector(text).map(Some),
            }
        };
        Ok(IdSelector {
            gvk: Gvk::new(
                s.group.as_deref().unwrap_or(""),
                s.version.as_deref().unwrap_or(""),
                s.kind.as_deref().unwrap_or(""),
            ),
            name: s.name.clone().unwrap_or_default(),
            namespace: s.namespace.clone().filter(|n| !n.is_empty()),
            labels: req(&s.label_selector)?,
            annotations: req(&s.annotation_selector)?,
        })
    }

    fn has_id(&self) -> bool {
        self.gvk != Gvk::default() || !self.name.is_empty() || self.namespace.is_some()
    }

    fn has_meta(&self) -> bool {
        self.labels.is_some() || self.annotations.is_some()
    }

    /// kustomize's `ResId.IsSelectedBy`.
    fn selects_id(&self, id: &ResId) -> bool {
        (self.name.is_empty() || self.name == id.name)
            && self
                .namespace
                .as_deref()
                .is_none_or(|ns| putative_ns(ns) == putative_ns(&id.namespace))
            && id.gvk.is_selected(&self.gvk)
    }

    fn selects_meta(&self, r: &crate::resource::Resource) -> bool {
        self.labels
            .as_ref()
            .is_none_or(|req| matches_requirements(req, &r.labels()))
            && self
                .annotations
                .as_ref()
                .is_none_or(|req| matches_requirements(req, &r.annotations()))
    }
}

fn apply_target(m: &mut ResMap, value: &Value, t: &ReplacementTarget) -> Result<()> {
    let Some(select) = &t.select else {
        return Err(KustomizeError::build(
            "target must specify resources to select",
        ));
    };
    let sel = IdSelector::new(select)?;
    let rejects: Vec<IdSelector> = t
        .reject
        .iter()
        .flatten()
        .map(IdSelector::new)
        .collect::<Result<_>>()?;
    let paths: Vec<String> = match &t.field_paths {
        Some(p) if !p.is_empty() => p.clone(),
        _ => vec!["metadata.name".into()],
    };
    let create = t.options.as_ref().and_then(|o| o.create).unwrap_or(false);
    for i in 0..m.resources.len() {
        let r = &m.resources[i];
        // The current id first, then the previous ones, with their namespaces as recorded.
        let cur = r.cur_id();
        let ids: Vec<ResId> = std::iter::once(cur)
            .chain(r.prev_ids.iter().cloned())
            .collect();
        if !sel.selects_meta(r) || rejects.iter().any(|rj| rj.has_meta() && rj.selects_meta(r)) {
            continue;
        }
        if !ids.iter().any(|id| sel.selects_id(id))
            || rejects
                .iter()
                .any(|rj| rj.has_id() && ids.iter().any(|id| rj.selects_id(id)))
        {
            continue;
        }
        let obj = &mut m.resources[i].obj;
        for fp in &paths {
            let segs = path::split(fp);
            let mut found = Vec::new();
            let leaf = if create { Some(value) } else { None };
            path::find_mut(obj, &segs, leaf, &mut found)?;
            if found.is_empty() {
                return Err(KustomizeError::build(format!(
                    "unable to find field \"{fp}\" in replacement target"
                )));
            }
            for f in found {
                set_field(f, value, t.options.as_ref())?;
            }
        }
    }
    Ok(())
}

/// Runs replacements in order; entries with `path:` are loaded by the caller.
pub fn run(m: &mut ResMap, replacements: &[ReplacementField]) -> Result<()> {
    for r in replacements {
        let (Some(source), Some(targets)) = (&r.source, &r.targets) else {
            return Err(KustomizeError::build(
                "replacements must specify a source and at least one target",
            ));
        };
        let value = source_value(m, source)?;
        for t in targets {
            apply_target(m, &value, t)?;
        }
    }
    Ok(())
}
