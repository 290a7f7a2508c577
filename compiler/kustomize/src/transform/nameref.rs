//! Name references: after prefixes, suffixes, namespaces and hash suffixes changed object names,
//! rewrite every field that refers to an object by name (kustomize's nameReference transformer,
//! with its rules for choosing among several candidates).

use std::collections::HashMap;

use serde_json::Value;

use crate::error::{KustomizeError, Result};
use crate::fieldspec::{FieldSpec, Gvk as FsGvk, NameBackReferences, visit};
use crate::resid::{Gvk, ResId};
use crate::resource::{NOT_A_NAMESPACE, ResMap, Resource};

/// What the referral choice needs to know about a candidate.
struct Cand {
    name: String,
    namespace: String,
    kind: String,
    cur: ResId,
    prev: Vec<ResId>,
    prefixes: Vec<String>,
    suffixes: Vec<String>,
    org_ns: String,
    cur_ns: String,
}

fn eff_ns(id: &ResId) -> String {
    if id.gvk.is_cluster_scoped() {
        NOT_A_NAMESPACE.into()
    } else if id.namespace.is_empty() {
        "default".into()
    } else {
        id.namespace.clone()
    }
}

impl Cand {
    fn of(r: &Resource) -> Cand {
        let cur = r.cur_id();
        let org = r.org_id();
        Cand {
            name: r.name().into(),
            namespace: r.namespace().into(),
            kind: r.kind().into(),
            org_ns: if org.namespace == NOT_A_NAMESPACE {
                NOT_A_NAMESPACE.into()
            } else {
                eff_ns(&org)
            },
            cur_ns: eff_ns(&cur),
            cur,
            prev: r.prev_ids.clone(),
            prefixes: r.prefixes.clone(),
            suffixes: r.suffixes.clone(),
        }
    }

    fn ps_equal(&self, p: &[String], s: &[String], allow_empty: bool) -> bool {
        let same = crate::resource::same_ending;
        if allow_empty {
            (self.prefixes.is_empty() || p.is_empty() || same(&self.prefixes, p))
                && (self.suffixes.is_empty() || s.is_empty() || same(&self.suffixes, s))
        } else {
            same(&self.prefixes, p) && same(&self.suffixes, s)
        }
    }
}

/// Every candidate, indexed by the names it has had and by its original namespace, so that a
/// reference looks only at candidates that can match it (the build stays linear in size).
struct Pool<'a> {
    cands: &'a [Cand],
    by_prev_name: HashMap<&'a str, Vec<usize>>,
    by_org_ns: HashMap<&'a str, Vec<usize>>,
}

impl<'a> Pool<'a> {
    fn new(cands: &'a [Cand]) -> Pool<'a> {
        let mut by_prev_name: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut by_org_ns: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, c) in cands.iter().enumerate() {
            for id in &c.prev {
                let slot = by_prev_name.entry(id.name.as_str()).or_default();
                if slot.last() != Some(&i) {
                    slot.push(i);
                }
            }
            if c.org_ns != NOT_A_NAMESPACE {
                by_org_ns.entry(c.org_ns.as_str()).or_default().push(i);
            }
        }
        Pool {
            cands,
            by_prev_name,
            by_org_ns,
        }
    }
}

/// The candidates one referrer may point at: cluster-scoped ones, those in its namespace and,
/// for a RoleBinding, those in the namespaces of its ServiceAccount subjects.
struct Visible<'a> {
    pool: &'a Pool<'a>,
    everything: bool,
    cur: &'a ResId,
    subject_ns: &'a [String],
}

impl<'a> Visible<'a> {
    fn sees(&self, c: &Cand) -> bool {
        self.everything
            || c.cur.gvk.is_cluster_scoped()
            || c.cur.ns_equals(self.cur)
            || self.subject_ns.contains(&c.namespace)
    }

    /// Visible candidates that once had the name `old`, in resource order.
    fn named(&self, old: &str) -> Vec<&'a Cand> {
        let Some(positions) = self.pool.by_prev_name.get(old) else {
            return Vec::new();
        };
        positions
            .iter()
            .map(|i| &self.pool.cands[*i])
            .filter(|c| self.sees(c))
            .collect()
    }

    /// Whether some visible candidate's original namespace is `ns`.
    fn any_originally_in(&self, ns: &str) -> bool {
        self.pool
            .by_org_ns
            .get(ns)
            .is_some_and(|positions| positions.iter().any(|i| self.sees(&self.pool.cands[*i])))
    }
}

struct Referrer {
    cur: ResId,
    prefixes: Vec<String>,
    suffixes: Vec<String>,
    role_ref: Option<Gvk>,
}

fn my_gvk(g: &FsGvk) -> Gvk {
    Gvk::new(&g.group, &g.version, &g.kind)
}

fn select<'a>(
    old: &str,
    cands: &[&'a Cand],
    target: &Gvk,
    spec_path: &str,
    referrer: &Referrer,
    with_ns: bool,
) -> Result<Option<&'a Cand>> {
    let mut c: Vec<&Cand> = cands
        .iter()
        .copied()
        .filter(|c| c.prev.iter().any(|id| id.name == old))
        .filter(|c| c.prev.iter().any(|id| id.gvk.is_selected(target)))
        .collect();
    if spec_path.ends_with("roleRef/name")
        && let Some(rr) = &referrer.role_ref
    {
        c.retain(|x| x.prev.iter().any(|id| id.gvk.is_selected(rr)));
    }
    if !referrer.cur.gvk.is_cluster_scoped() {
        c.retain(|x| {
            x.cur.gvk.is_cluster_scoped()
                || x.kind == "ServiceAccount"
                || x.cur.ns_equals(&referrer.cur)
        });
    }
    if c.len() == 1 {
        return Ok(Some(c[0]));
    }
    c.retain(|x| x.ps_equal(&referrer.prefixes, &referrer.suffixes, true));
    if c.len() > 1 {
        c.retain(|x| x.ps_equal(&referrer.prefixes, &referrer.suffixes, false));
    }
    match c.len() {
        0 => Ok(None),
        1 => Ok(Some(c[0])),
        _ => {
            let first = c[0];
            let same = c
                .iter()
                .all(|x| x.name == first.name && (!with_ns || x.namespace == first.namespace));
            if same {
                Ok(Some(first))
            } else {
                let ids: Vec<String> = c.iter().map(|x| x.cur.to_string()).collect();
                Err(KustomizeError::build(format!(
                    "found multiple possible referrals: {}",
                    ids.join(", ")
                )))
            }
        }
    }
}

/// Namespaces of ServiceAccount subjects of a RoleBinding (they widen what it may refer to).
/// A ServiceAccount subject whose `namespace` is present but not a string (`namespace:` left
/// blank) is an error, as in kustomize.
fn binding_namespaces(r: &Resource) -> Result<Vec<String>> {
    if r.kind() != "RoleBinding" {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for s in r
        .obj
        .get("subjects")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (Some(ns), Some(kind)) = (s.get("namespace"), s.get("kind")) else {
            continue;
        };
        if kind.as_str() != Some("ServiceAccount") {
            continue;
        }
        match ns.as_str() {
            Some(ns) => out.push(ns.to_string()),
            None => {
                let from = r
                    .origin
                    .as_ref()
                    .and_then(|o| o.get("path"))
                    .and_then(Value::as_str)
                    .map(|p| format!(" (read from {p})"))
                    .unwrap_or_default();
                return Err(KustomizeError::build(format!(
                    "Invalid Input: namespace is blank for resource \"{}\"{from}: field `subjects[].namespace`",
                    r.cur_id()
                ))
                .with_help(format!(
                    "give the ServiceAccount subject '{}' of this RoleBinding a namespace, or remove its `namespace:` key",
                    s.get("name").and_then(Value::as_str).unwrap_or("")
                )));
            }
        }
    }
    Ok(out)
}

pub fn fix(m: &mut ResMap, backrefs: &[NameBackReferences]) -> Result<()> {
    let cands: Vec<Cand> = m.resources.iter().map(Cand::of).collect();
    let pool = Pool::new(&cands);
    let org_ids: Vec<ResId> = m.resources.iter().map(|r| r.org_id()).collect();
    // Every referrer spec once: its selector, the referenced type, and the spec as it is
    // walked (on any type: the selector was checked against the original id).
    let referrers: Vec<(Gvk, Gvk, FieldSpec)> = backrefs
        .iter()
        .flat_map(|br| {
            br.referrers.iter().map(|spec| {
                (
                    my_gvk(&spec.gvk),
                    my_gvk(&br.gvk),
                    FieldSpec::new(FsGvk::default(), &spec.path, false),
                )
            })
        })
        .collect();
    for (i, org_id) in org_ids.iter().enumerate() {
        let filters: Vec<&(Gvk, Gvk, FieldSpec)> = referrers
            .iter()
            .filter(|(selector, _, _)| org_id.gvk.is_selected(selector))
            .collect();
        if filters.is_empty() {
            continue;
        }
        let r = &m.resources[i];
        let cur = r.cur_id();
        let role_ref = r.obj.get("roleRef").and_then(|rr| {
            let g = rr.get("apiGroup")?.as_str()?;
            let k = rr.get("kind")?.as_str()?;
            Some(Gvk::new(g, "", k))
        });
        let referrer = Referrer {
            cur: cur.clone(),
            prefixes: r.prefixes.clone(),
            suffixes: r.suffixes.clone(),
            role_ref,
        };
        let subject_ns = binding_namespaces(r)?;
        let visible = Visible {
            pool: &pool,
            everything: cur.gvk.is_cluster_scoped(),
            cur: &cur,
            subject_ns: &subject_ns,
        };
        let obj = &mut m.resources[i].obj;
        for (_, target, any) in filters {
            visit(obj, any, None, |node: &mut Value| -> Result<()> {
                set_node(node, &visible, target, &any.path, &referrer)
            })
            .map_err(|e| {
                e.context(format!(
                    "updating name reference in '{}' field of '{}'",
                    any.path, cur
                ))
            })?;
        }
    }
    Ok(())
}

fn set_node(
    node: &mut Value,
    visible: &Visible<'_>,
    target: &Gvk,
    path: &str,
    referrer: &Referrer,
) -> Result<()> {
    match node {
        Value::Null => Ok(()),
        Value::String(_) => set_scalar(node, visible, target, path, referrer),
        Value::Object(_) => set_mapping(node, visible, target, path, referrer),
        Value::Array(items) => {
            for it in items {
                match it {
                    Value::String(_) => set_scalar(it, visible, target, path, referrer)?,
                    Value::Object(_) => set_mapping(it, visible, target, path, referrer)?,
                    _ => {}
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn set_scalar(
    node: &mut Value,
    visible: &Visible<'_>,
    target: &Gvk,
    path: &str,
    referrer: &Referrer,
) -> Result<()> {
    let old = node.as_str().unwrap_or("").to_string();
    if let Some(c) = select(&old, &visible.named(&old), target, path, referrer, false)?
        && c.name != old
    {
        *node = Value::String(c.name.clone());
    }
    Ok(())
}

fn set_mapping(
    node: &mut Value,
    visible: &Visible<'_>,
    target: &Gvk,
    path: &str,
    referrer: &Referrer,
) -> Result<()> {
    let Some(map) = node.as_object_mut() else {
        return Ok(());
    };
    let Some(old) = map.get("name") else {
        return Err(KustomizeError::build(
            "path config error; no 'name' field in node",
        ));
    };
    let old = crate::resource::value_as_string(old);
    let mut cands = visible.named(&old);
    if let Some(ns) = map.get("namespace") {
        let ns = crate::resource::value_as_string(ns);
        // Candidates originally in that namespace win when there are any (of any name).
        if ns != NOT_A_NAMESPACE && visible.any_originally_in(&ns) {
            cands.retain(|c| c.org_ns != NOT_A_NAMESPACE && c.org_ns == ns);
        } else {
            cands.retain(|c| c.cur_ns != NOT_A_NAMESPACE && c.cur_ns == ns);
        }
    }
    let Some(c) = select(&old, &cands, target, path, referrer, true)? else {
        return Ok(());
    };
    if c.name == old && c.namespace.is_empty() {
        return Ok(());
    }
    map.insert("name".into(), Value::String(c.name.clone()));
    if !c.namespace.is_empty() {
        map.insert("namespace".into(), Value::String(c.namespace.clone()));
    }
    Ok(())
}
