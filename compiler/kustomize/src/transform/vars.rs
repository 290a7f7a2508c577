//! Legacy `vars`: `$(NAME)` references in the var-reference fields, replaced by a field of the
//! object each var names, once the whole build is done.

use serde_json::Value;

use crate::error::{KustomizeError, Result};
use crate::fieldspec::{FieldSpec, visit};
use crate::kustomization::Var;
use crate::resid::{Gvk, ResId};
use crate::resource::ResMap;
use crate::transform::path;

fn var_gvk(v: &Var) -> Gvk {
    let o = &v.objref;
    match o.api_version.as_deref().filter(|a| !a.is_empty()) {
        Some(av) => Gvk::from_api_version(av, o.kind.as_deref().unwrap_or("")),
        None => Gvk::new(
            o.group.as_deref().unwrap_or(""),
            o.version.as_deref().unwrap_or(""),
            o.kind.as_deref().unwrap_or(""),
        ),
    }
}

/// Binds vars to the resources they name (kustomize's `MergeVars`).
pub fn bind(m: &mut ResMap, vars: &[Var]) -> Result<()> {
    for v in vars {
        let id = ResId {
            gvk: var_gvk(v),
            name: v.objref.name.clone().unwrap_or_default(),
            namespace: v.objref.namespace.clone().unwrap_or_default(),
        };
        let exact_ns = !id.namespace.is_empty() || id.gvk.is_cluster_scoped();
        let hits: Vec<usize> = m
            .resources
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                r.all_ids().iter().any(|x| {
                    let x = if x.namespace == crate::resource::NOT_A_NAMESPACE {
                        ResId {
                            namespace: String::new(),
                            ..x.clone()
                        }
                    } else {
                        x.clone()
                    };
                    x.gvk == id.gvk && x.name == id.name && (!exact_ns || x.ns_equals(&id))
                })
            })
            .map(|(i, _)| i)
            .collect();
        if hits.len() > 1 {
            return Err(KustomizeError::build(format!(
                "found {} resId matches for var {} (unable to disambiguate)",
                hits.len(),
                v.name
            )));
        }
        if let [i] = hits.as_slice() {
            m.resources[*i].ref_var_names.push(v.name.clone());
        }
    }
    Ok(())
}

/// kubernetes' `expansion.Expand`: `$(VAR)` replaced, `$$` escapes a dollar. When the whole
/// input is one reference, the value keeps its type.
fn expand(input: &str, lookup: &mut dyn FnMut(&str) -> Option<Value>) -> Value {
    if let Some(name) = input.strip_prefix("$(").and_then(|s| s.strip_suffix(')'))
        && !name.contains(['(', ')', '$'])
        && let Some(v) = lookup(name)
    {
        return v;
    }
    let b = input.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' && i + 1 < b.len() {
            match b[i + 1] {
                b'$' => {
                    out.push('$');
                    i += 2;
                    continue;
                }
                b'(' => {
                    if let Some(end) = input[i + 2..].find(')') {
                        let name = &input[i + 2..i + 2 + end];
                        match lookup(name) {
                            Some(v) => out.push_str(&match v {
                                Value::String(s) => s,
                                other => other.to_string(),
                            }),
                            None => out.push_str(&input[i..i + 3 + end]),
                        }
                        i += 3 + end;
                        continue;
                    }
                    out.push_str(&input[i..]);
                    break;
                }
                _ => {}
            }
        }
        let ch = input[i..].chars().next().expect("in bounds");
        out.push(ch);
        i += ch.len_utf8();
    }
    Value::String(out)
}

/// Replaces `$(VAR)` references with the vars' values.
pub fn resolve(m: &mut ResMap, vars: &[Var], specs: &[FieldSpec]) -> Result<()> {
    if vars.is_empty() {
        return Ok(());
    }
    let mut values = indexmap::IndexMap::new();
    for v in vars {
        let holder = m
            .resources
            .iter()
            .find(|r| r.ref_var_names.contains(&v.name));
        let Some(holder) = holder else {
            return Err(KustomizeError::build(format!(
                "var '{}' cannot be mapped to a field in the set of known resources",
                v.name
            ))
            .with_help("check the var's objref: kind, apiVersion and name must name an object of the build"));
        };
        let fp = v
            .fieldref
            .as_ref()
            .and_then(|f| f.field_path.clone())
            .filter(|f| !f.is_empty())
            .unwrap_or_else(|| "metadata.name".into());
        let val = path::get(&holder.obj, &path::split_legacy(&fp))
            .cloned()
            .ok_or_else(|| {
                KustomizeError::build(format!(
                    "field specified in var '{}' not found in corresponding resource",
                    v.name
                ))
            })?;
        values.insert(v.name.clone(), val);
    }
    let mut lookup = |name: &str| values.get(name).cloned();
    for r in &mut m.resources {
        for spec in specs {
            visit(&mut r.obj, spec, None, |node: &mut Value| -> Result<()> {
                match node {
                    Value::String(s) => {
                        let s = s.clone();
                        *node = expand(&s, &mut lookup);
                    }
                    Value::Object(map) => {
                        for (_, v) in map.iter_mut() {
                            if let Value::String(s) = v {
                                let s = s.clone();
                                *v = expand(&s, &mut lookup);
                            }
                        }
                    }
                    Value::Array(items) => {
                        for v in items.iter_mut() {
                            if let Value::String(s) = v {
                                let s = s.clone();
                                *v = expand(&s, &mut lookup);
                            }
                        }
                    }
                    _ => {}
                }
                Ok(())
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expansion_rules() {
        let mut l = |n: &str| match n {
            "A" => Some(json!("x")),
            "N" => Some(json!(3)),
            _ => None,
        };
        assert_eq!(expand("$(A)-$(B)-$$(A)", &mut l), json!("x-$(B)-$(A)"));
        assert_eq!(expand("$(N)", &mut l), json!(3));
        assert_eq!(expand("n=$(N)", &mut l), json!("n=3"));
    }
}
