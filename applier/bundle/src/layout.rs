//! Where each object lives inside a bundle: stable, readable, filesystem-safe, collision-free
//! paths made for review in a pull request.
//!
//! An object of component `C` is stored at `components/<C>/<namespace>/<kind>-<name>.yaml`
//! (`_cluster` instead of the namespace for cluster-scoped objects), with the kind lowercased.
//! Kubernetes names and namespaces use only `a-z 0-9 . -` and kinds have no `-`, so for valid
//! objects this is injective. Segments are made safe as follows: any character outside
//! `a-z 0-9 . -` becomes `_`, and a segment that needed that, is empty, `.`/`..`, starts with `.`
//! or is longer than 100 bytes is cut to 80 bytes and suffixed with `_` and the first 12 hex
//! digits of the blake3 of the original segment. If two objects of one component still get the
//! same path ignoring case (same kind in two API groups), each of them gets `_` and the first 12
//! hex digits of the blake3 of `group/kind/namespace/name` before `.yaml`.

use crate::model::ObjectId;
use std::collections::BTreeMap;

/// The manifest's path inside a bundle.
pub const MANIFEST: &str = "bundle.json";
/// The directory holding one subdirectory per component.
pub const COMPONENTS: &str = "components";

/// A filesystem-safe form of one path segment (see the module documentation).
pub fn safe_segment(raw: &str) -> String {
    let mut out: String = raw
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '.' | '-' => c,
            _ => '_',
        })
        .collect();
    let needs_suffix = out != raw || raw.is_empty() || raw.starts_with('.') || raw.len() > 100;
    if needs_suffix {
        let mut cut = 80.min(out.len());
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push('_');
        out.push_str(&short_hash(raw));
    }
    out
}

fn short_hash(text: &str) -> String {
    blake3::hash(text.as_bytes()).to_hex()[..12].to_string()
}

/// The directory of a component, relative to the bundle root.
pub fn component_dir(component: &str) -> String {
    format!("{COMPONENTS}/{}", safe_segment(component))
}

/// Paths for all objects of one component, in the order given.
pub fn object_paths(component: &str, ids: &[&ObjectId]) -> Vec<String> {
    let dir = component_dir(component);
    let mut paths: Vec<String> = ids
        .iter()
        .map(|id| {
            let ns = match &id.namespace {
                Some(ns) => safe_segment(ns),
                None => "_cluster".to_string(),
            };
            let file = safe_segment(&format!("{}-{}", id.kind.to_ascii_lowercase(), id.name));
            format!("{dir}/{ns}/{file}")
        })
        .collect();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for path in &paths {
        *seen.entry(path.to_ascii_lowercase()).or_default() += 1;
    }
    for (path, id) in paths.iter_mut().zip(ids) {
        if seen[&path.to_ascii_lowercase()] > 1 {
            let full = format!(
                "{}/{}/{}/{}",
                id.group,
                id.kind,
                id.namespace.as_deref().unwrap_or(""),
                id.name
            );
            path.push('_');
            path.push_str(&short_hash(&full));
        }
        path.push_str(".yaml");
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(group: &str, kind: &str, ns: Option<&str>, name: &str) -> ObjectId {
        ObjectId {
            group: group.into(),
            version: "v1".into(),
            kind: kind.into(),
            namespace: ns.map(Into::into),
            name: name.into(),
        }
    }

    #[test]
    fn paths_are_readable_for_valid_names() {
        let a = id("apps", "Deployment", Some("shop"), "web");
        let b = id("", "Namespace", None, "shop");
        assert_eq!(
            object_paths("app", &[&a, &b]),
            [
                "components/app/shop/deployment-web.yaml",
                "components/app/_cluster/namespace-shop.yaml"
            ]
        );
    }

    #[test]
    fn unsafe_names_are_escaped_and_stay_distinct() {
        let a = id("rbac.authorization.k8s.io", "ClusterRole", None, "system:a");
        let b = id("rbac.authorization.k8s.io", "ClusterRole", None, "system/a");
        let c = id("", "ConfigMap", Some("x"), "../../etc");
        let paths = object_paths("c", &[&a, &b, &c]);
        assert_ne!(paths[0], paths[1]);
        assert!(paths[0].starts_with("components/c/_cluster/clusterrole-system_a_"));
        assert_eq!(paths[2].split('/').count(), 4, "{}", paths[2]);
        for p in &paths {
            assert!(p.split('/').all(|s| !s.is_empty() && s != "." && s != ".."));
        }
    }

    #[test]
    fn same_kind_in_two_groups_is_disambiguated() {
        let a = id("extensions", "Ingress", Some("x"), "web");
        let b = id("networking.k8s.io", "Ingress", Some("x"), "web");
        let paths = object_paths("c", &[&a, &b]);
        assert_ne!(paths[0], paths[1]);
        assert!(paths[0].starts_with("components/c/x/ingress-web_"));
    }

    #[test]
    fn long_segments_are_shortened() {
        let s = safe_segment(&"a".repeat(300));
        assert_eq!(s.len(), 80 + 1 + 12);
    }
}
