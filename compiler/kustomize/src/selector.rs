//! Patch and replacement target selection: GVK, name and namespace as anchored regular
//! expressions plus Kubernetes label/annotation selector expressions.

use crate::pattern::Anchored as Pattern;

use crate::error::{KustomizeError, Result};
use crate::kustomization::Selector;
use crate::resid::Gvk;
use crate::resource::{NOT_A_NAMESPACE, Resource};

fn anchored(p: &str) -> Result<Pattern> {
    Pattern::new(p).map_err(|e| KustomizeError::build(format!("invalid selector regex '{p}': {e}")))
}

/// A compiled `target:` selector.
pub struct SelectorRegex {
    sel: Selector,
    group: Option<Pattern>,
    version: Option<Pattern>,
    kind: Option<Pattern>,
    name: Option<Pattern>,
    namespace: Option<Pattern>,
    labels: Option<Vec<Requirement>>,
    annotations: Option<Vec<Requirement>>,
}

fn compile(s: &Option<String>) -> Result<Option<Pattern>> {
    match s.as_deref() {
        None | Some("") => Ok(None),
        Some(p) => anchored(p).map(Some),
    }
}

/// kustomize's effective namespace of an id, for matching.
fn effective_ns<'a>(gvk: &Gvk, namespace: &'a str) -> &'a str {
    if gvk.is_cluster_scoped() {
        NOT_A_NAMESPACE
    } else if namespace.is_empty() {
        "default"
    } else {
        namespace
    }
}

impl SelectorRegex {
    pub fn new(sel: &Selector) -> Result<Self> {
        Ok(SelectorRegex {
            sel: sel.clone(),
            group: compile(&sel.group)?,
            version: compile(&sel.version)?,
            kind: compile(&sel.kind)?,
            name: compile(&sel.name)?,
            namespace: compile(&sel.namespace)?,
            labels: match sel.label_selector.as_deref() {
                None | Some("") => None,
                Some(s) => Some(parse_selector(s)?),
            },
            annotations: match sel.annotation_selector.as_deref() {
                None | Some("") => None,
                Some(s) => Some(parse_selector(s)?),
            },
        })
    }

    pub fn selector(&self) -> &Selector {
        &self.sel
    }

    pub fn matches(&self, r: &Resource) -> bool {
        let gvk = r.gvk();
        let org = r.prev_ids.first();
        if let Some(ns) = &self.namespace {
            let cur_ns = effective_ns(&gvk, r.namespace());
            let org_ns = org.map_or(cur_ns, |o| effective_ns(&o.gvk, &o.namespace));
            if !ns.is_match(org_ns) && !ns.is_match(cur_ns) {
                return false;
            }
        }
        if let Some(n) = &self.name
            && !n.is_match(org.map_or(r.name(), |o| &o.name))
            && !n.is_match(r.name())
        {
            return false;
        }
        self.matches_gvk_and_meta(r, &gvk)
    }

    /// Matching on the current id only (replacement targets).
    pub fn matches_current(&self, r: &Resource) -> bool {
        if let Some(ns) = &self.namespace
            && !ns.is_match(r.namespace())
        {
            return false;
        }
        if let Some(n) = &self.name
            && !n.is_match(r.name())
        {
            return false;
        }
        self.matches_gvk_and_meta(r, &r.gvk())
    }

    fn matches_gvk_and_meta(&self, r: &Resource, gvk: &Gvk) -> bool {
        for (re, v) in [
            (&self.group, &gvk.group),
            (&self.version, &gvk.version),
            (&self.kind, &gvk.kind),
        ] {
            if let Some(re) = re
                && !re.is_match(v)
            {
                return false;
            }
        }
        if let Some(req) = &self.labels
            && !matches_requirements(req, &r.labels())
        {
            return false;
        }
        if let Some(req) = &self.annotations
            && !matches_requirements(req, &r.annotations())
        {
            return false;
        }
        true
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Requirement {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// Parses a Kubernetes label selector (`a=b,c!=d,e in (x,y),!f,g`).
pub fn parse_selector(s: &str) -> Result<Vec<Requirement>> {
    let mut out = Vec::new();
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => {
                depth += 1;
                cur.push(c)
            }
            ')' => {
                depth -= 1;
                cur.push(c)
            }
            ',' if depth == 0 => parts.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    parts.push(cur);
    let bad = || KustomizeError::build(format!("invalid label selector '{s}'"));
    for p in parts {
        let p = p.trim();
        if p.is_empty() {
            continue;
        }
        if let Some(k) = p.strip_prefix('!') {
            out.push(Requirement::NotExists(k.trim().into()));
        } else if let Some((k, v)) = p.split_once("!=") {
            out.push(Requirement::NotEq(k.trim().into(), v.trim().into()));
        } else if let Some((k, v)) = p.split_once("==") {
            out.push(Requirement::Eq(k.trim().into(), v.trim().into()));
        } else if let Some((k, v)) = p.split_once('=') {
            out.push(Requirement::Eq(k.trim().into(), v.trim().into()));
        } else if let Some((k, rest)) = split_word(p, " notin ") {
            out.push(Requirement::NotIn(k, set_values(&rest).ok_or_else(bad)?));
        } else if let Some((k, rest)) = split_word(p, " in ") {
            out.push(Requirement::In(k, set_values(&rest).ok_or_else(bad)?));
        } else if p
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        {
            out.push(Requirement::Exists(p.into()));
        } else {
            return Err(bad());
        }
    }
    Ok(out)
}

fn split_word(p: &str, word: &str) -> Option<(String, String)> {
    p.find(word).map(|i| {
        (
            p[..i].trim().to_string(),
            p[i + word.len()..].trim().to_string(),
        )
    })
}

fn set_values(s: &str) -> Option<Vec<String>> {
    let inner = s.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect(),
    )
}

pub fn matches_requirements(req: &[Requirement], labels: &[(String, String)]) -> bool {
    let get = |k: &str| labels.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str());
    req.iter().all(|r| match r {
        Requirement::Eq(k, v) => get(k) == Some(v),
        Requirement::NotEq(k, v) => get(k) != Some(v),
        Requirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
        Requirement::NotIn(k, vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
        Requirement::Exists(k) => get(k).is_some(),
        Requirement::NotExists(k) => get(k).is_none(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_selector_forms() {
        let r = parse_selector("a=b, c!=d,e in (x, y),!f,g").unwrap();
        assert_eq!(r.len(), 5);
        let labels = vec![
            ("a".to_string(), "b".to_string()),
            ("e".to_string(), "y".to_string()),
            ("g".to_string(), "".to_string()),
        ];
        assert!(matches_requirements(&r, &labels));
        let labels2 = vec![("a".to_string(), "c".to_string())];
        assert!(!matches_requirements(&r, &labels2));
    }
}
