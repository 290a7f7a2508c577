//! Resource identity: group/version/kind plus name and namespace, compared the way kustomize's
//! `resid` package does (empty namespace equals `default`, empty selector parts match anything).

use std::fmt;

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gvk {
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl Gvk {
    pub fn new(group: &str, version: &str, kind: &str) -> Self {
        Gvk {
            group: group.to_string(),
            version: version.to_string(),
            kind: kind.to_string(),
        }
    }

    /// Splits an `apiVersion` (`group/version` or `version`) and pairs it with a kind.
    pub fn from_api_version(api_version: &str, kind: &str) -> Self {
        match api_version.rsplit_once('/') {
            Some((g, v)) => Gvk::new(g, v, kind),
            None => Gvk::new("", api_version, kind),
        }
    }

    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Does `self` satisfy the selector `sel` (empty selector parts match anything)?
    pub fn is_selected(&self, sel: &Gvk) -> bool {
        (sel.group.is_empty() || sel.group == self.group)
            && (sel.version.is_empty() || sel.version == self.version)
            && (sel.kind.is_empty() || sel.kind == self.kind)
    }

    pub fn is_cluster_scoped(&self) -> bool {
        is_cluster_scoped_kind(&self.group, &self.version, &self.kind)
    }

    /// Rank of the kind in kustomize's legacy ordering: kinds of `first` before unlisted
    /// ones, kinds of `last` after them; equal ranks order by [`Gvk`]'s text.
    pub fn legacy_rank(&self, first: &[String], last: &[String]) -> i64 {
        if let Some(i) = first.iter().position(|k| *k == self.kind) {
            return i as i64 - first.len() as i64;
        }
        if let Some(i) = last.iter().position(|k| *k == self.kind) {
            return 1 + i as i64;
        }
        0
    }

    pub fn legacy_less(
        &self,
        other: &Gvk,
        first: &[String],
        last: &[String],
    ) -> std::cmp::Ordering {
        self.legacy_rank(first, last)
            .cmp(&other.legacy_rank(first, last))
            .then_with(|| self.to_string().cmp(&other.to_string()))
    }
}

impl fmt::Display for Gvk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let or = |s: &str, d: &'static str| {
            if s.is_empty() {
                d.to_string()
            } else {
                s.to_string()
            }
        };
        write!(
            f,
            "{}_{}_{}",
            or(&self.group, "~G"),
            or(&self.version, "~V"),
            or(&self.kind, "~K")
        )
    }
}

pub use crate::fieldspec::{ORDER_FIRST as LEGACY_ORDER_FIRST, ORDER_LAST as LEGACY_ORDER_LAST};

/// The (group, version, kind) triples the Kubernetes v1.21.2 schema kustomize embeds declares
/// cluster-scoped. kustomize looks types up by exact apiVersion and kind: anything else (custom
/// resources, other versions, APIs added since such as ValidatingAdmissionPolicy) is namespaced
/// as far as it is concerned.
const CLUSTER_SCOPED: &[(&str, &str, &str)] = &[
    (
        "admissionregistration.k8s.io",
        "v1",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io",
        "v1beta1",
        "MutatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io",
        "v1beta1",
        "ValidatingWebhookConfiguration",
    ),
    ("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
    (
        "apiextensions.k8s.io",
        "v1beta1",
        "CustomResourceDefinition",
    ),
    ("apiregistration.k8s.io", "v1", "APIService"),
    ("apiregistration.k8s.io", "v1beta1", "APIService"),
    ("certificates.k8s.io", "v1", "CertificateSigningRequest"),
    (
        "certificates.k8s.io",
        "v1beta1",
        "CertificateSigningRequest",
    ),
    ("flowcontrol.apiserver.k8s.io", "v1beta1", "FlowSchema"),
    (
        "flowcontrol.apiserver.k8s.io",
        "v1beta1",
        "PriorityLevelConfiguration",
    ),
    ("networking.k8s.io", "v1", "IngressClass"),
    ("networking.k8s.io", "v1beta1", "IngressClass"),
    ("node.k8s.io", "v1", "RuntimeClass"),
    ("node.k8s.io", "v1beta1", "RuntimeClass"),
    ("policy", "v1beta1", "PodSecurityPolicy"),
    ("rbac.authorization.k8s.io", "v1", "ClusterRole"),
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding"),
    ("rbac.authorization.k8s.io", "v1beta1", "ClusterRole"),
    ("rbac.authorization.k8s.io", "v1beta1", "ClusterRoleBinding"),
    ("scheduling.k8s.io", "v1", "PriorityClass"),
    ("scheduling.k8s.io", "v1beta1", "PriorityClass"),
    ("storage.k8s.io", "v1", "CSIDriver"),
    ("storage.k8s.io", "v1", "CSINode"),
    ("storage.k8s.io", "v1", "StorageClass"),
    ("storage.k8s.io", "v1", "VolumeAttachment"),
    ("storage.k8s.io", "v1beta1", "CSIDriver"),
    ("storage.k8s.io", "v1beta1", "CSINode"),
    ("storage.k8s.io", "v1beta1", "StorageClass"),
    ("storage.k8s.io", "v1beta1", "VolumeAttachment"),
    ("", "v1", "ComponentStatus"),
    ("", "v1", "Namespace"),
    ("", "v1", "Node"),
    ("", "v1", "NodeProxyOptions"),
    ("", "v1", "PersistentVolume"),
];

fn is_cluster_scoped_kind(group: &str, version: &str, kind: &str) -> bool {
    CLUSTER_SCOPED
        .iter()
        .any(|(g, v, k)| *k == kind && *v == version && *g == group)
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ResId {
    pub gvk: Gvk,
    pub name: String,
    pub namespace: String,
}

impl ResId {
    pub fn effective_namespace(&self) -> &str {
        if self.gvk.is_cluster_scoped() {
            ""
        } else if self.namespace.is_empty() {
            "default"
        } else {
            &self.namespace
        }
    }

    pub fn ns_equals(&self, other: &ResId) -> bool {
        self.effective_namespace() == other.effective_namespace()
    }

    /// kustomize's `ResId.Equals`: same GVK and name, equal effective namespace.
    pub fn equals(&self, other: &ResId) -> bool {
        self.gvk == other.gvk && self.name == other.name && self.ns_equals(other)
    }

    pub fn legacy_sort_string(&self) -> String {
        format!(
            "{}|{}|{}",
            self.gvk,
            if self.namespace.is_empty() {
                "~X"
            } else {
                &self.namespace
            },
            if self.name.is_empty() {
                "~N"
            } else {
                &self.name
            }
        )
    }
}

impl fmt::Display for ResId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}",
            if self.gvk.group.is_empty() {
                format!("{}.{}", self.gvk.kind, self.gvk.version)
            } else {
                format!("{}.{}.{}", self.gvk.kind, self.gvk.version, self.gvk.group)
            },
            if self.namespace.is_empty() {
                format!("[noNs]/{}", self.name)
            } else {
                format!("{}/{}", self.namespace, self.name)
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_rank_orders_namespaces_first_and_webhooks_last() {
        let first: Vec<String> = LEGACY_ORDER_FIRST.iter().map(|s| s.to_string()).collect();
        let last: Vec<String> = LEGACY_ORDER_LAST.iter().map(|s| s.to_string()).collect();
        let ns = Gvk::new("", "v1", "Namespace");
        let dep = Gvk::new("apps", "v1", "Deployment");
        let crd = Gvk::new("example.com", "v1", "Widget");
        let hook = Gvk::new(
            "admissionregistration.k8s.io",
            "v1",
            "ValidatingWebhookConfiguration",
        );
        use std::cmp::Ordering::Less;
        assert_eq!(ns.legacy_less(&dep, &first, &last), Less);
        assert_eq!(dep.legacy_less(&crd, &first, &last), Less);
        assert_eq!(crd.legacy_less(&hook, &first, &last), Less);
    }

    #[test]
    fn empty_namespace_equals_default() {
        let a = ResId {
            gvk: Gvk::new("", "v1", "ConfigMap"),
            name: "x".into(),
            namespace: "".into(),
        };
        let b = ResId {
            namespace: "default".into(),
            ..a.clone()
        };
        assert!(a.equals(&b));
    }
}
