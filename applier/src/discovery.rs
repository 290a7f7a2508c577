//! Discovery: which resources the cluster serves, so each bundle object maps to a REST path and
//! a scope. Read once per run, and again after CRDs in the bundle become Established.

use crate::client::Kube;
use crate::error::KubeError;
use futures::future::join_all;
use serde_json::Value;
use std::collections::HashMap;

/// One served resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
}

impl Resource {
    fn base(&self) -> String {
        if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        }
    }

    /// The collection path (in `namespace` for namespaced resources).
    pub fn collection(&self, namespace: Option<&str>) -> String {
        match (self.namespaced, namespace) {
            (true, Some(ns)) => format!("{}/namespaces/{ns}/{}", self.base(), self.plural),
            _ => format!("{}/{}", self.base(), self.plural),
        }
    }

    pub fn item(&self, namespace: Option<&str>, name: &str) -> String {
        format!("{}/{name}", self.collection(namespace))
    }
}

/// Resources by (group, version, kind).
#[derive(Debug, Clone, Default)]
pub struct ResourceMap {
    by_gvk: HashMap<(String, String, String), Resource>,
}

impl ResourceMap {
    pub async fn discover(kube: &Kube) -> Result<ResourceMap, KubeError> {
        let mut paths = vec!["/api/v1".to_string()];
        let groups = kube.send(http::Method::GET, "/apis", None).await?;
        for g in groups["groups"].as_array().into_iter().flatten() {
            for v in g["versions"].as_array().into_iter().flatten() {
                if let Some(gv) = v["groupVersion"].as_str() {
                    paths.push(format!("/apis/{gv}"));
                }
            }
        }
        let lists = join_all(paths.iter().map(|p| kube.get(p))).await;
        let mut map = ResourceMap::default();
        for list in lists {
            let Some(list) = list? else { continue };
            let gv = list["groupVersion"].as_str().unwrap_or_default();
            let (group, version) = gv.split_once('/').unwrap_or(("", gv));
            for r in list["resources"].as_array().into_iter().flatten() {
                let plural = r["name"].as_str().unwrap_or_default();
                if plural.contains('/') {
                    continue;
                }
                let res = Resource {
                    group: group.into(),
                    version: version.into(),
                    kind: r["kind"].as_str().unwrap_or_default().into(),
                    plural: plural.into(),
                    namespaced: r["namespaced"].as_bool().unwrap_or(true),
                };
                map.by_gvk
                    .entry((res.group.clone(), res.version.clone(), res.kind.clone()))
                    .or_insert(res);
            }
        }
        Ok(map)
    }

    pub fn get(&self, group: &str, version: &str, kind: &str) -> Option<&Resource> {
        self.by_gvk
            .get(&(group.into(), version.into(), kind.into()))
    }

    pub fn len(&self) -> usize {
        self.by_gvk.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_gvk.is_empty()
    }
}

/// Kinds a CRD object in the bundle will register once Established: (group, version, kind, namespaced).
pub fn crd_kinds(crd: &Value) -> Vec<Resource> {
    let spec = &crd["spec"];
    let group = spec["group"].as_str().unwrap_or_default();
    let kind = spec["names"]["kind"].as_str().unwrap_or_default();
    let plural = spec["names"]["plural"].as_str().unwrap_or_default();
    spec["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["served"] != Value::Bool(false))
        .map(|v| Resource {
            group: group.into(),
            version: v["name"].as_str().unwrap_or_default().into(),
            kind: kind.into(),
            plural: plural.into(),
            namespaced: spec["scope"] != Value::String("Cluster".into()),
        })
        .collect()
}
