//! Tenants: a component may act as a service account (impersonated) and may be restricted to
//! namespaces. Restrictions are checked for every object before anything is written, so a
//! component can never create objects in another namespace or at the cluster scope.
//!
//! The policy file (YAML or JSON) maps component names to rules:
//! ```yaml
//! components:
//!   team-a:
//!     serviceAccount: team-a/deployer   # namespace/name, impersonated for this component
//!     namespaces: [team-a]              # the only namespaces it may write; no cluster scope
//! ```

use crate::error::ApplyError;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TenantPolicy {
    #[serde(default)]
    pub components: BTreeMap<String, TenantRule>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TenantRule {
    /// `namespace/name` of the service account to impersonate.
    #[serde(default)]
    pub service_account: Option<String>,
    /// When set, the only namespaces the component may write (and nothing cluster-scoped).
    #[serde(default)]
    pub namespaces: Option<Vec<String>>,
}

impl TenantPolicy {
    pub fn load(path: &Path) -> Result<TenantPolicy, ApplyError> {
        let text = std::fs::read_to_string(path).map_err(|source| ApplyError::Io {
            message: format!("cannot read the tenant policy {}", path.display()),
            source,
        })?;
        serde_saphyr::from_str(&text).map_err(|e| ApplyError::Config {
            message: format!("tenant policy {}: {e}", path.display()),
        })
    }

    /// The user to impersonate for a component, if any.
    pub fn user_for(&self, component: &str) -> Option<String> {
        let sa = self.components.get(component)?.service_account.as_ref()?;
        let (ns, name) = sa.split_once('/')?;
        Some(format!("system:serviceaccount:{ns}:{name}"))
    }

    /// Refuses an object outside the component's namespaces (or at the cluster scope).
    pub fn check(
        &self,
        component: &str,
        object: &str,
        namespace: Option<&str>,
    ) -> Result<(), ApplyError> {
        let Some(allowed) = self
            .components
            .get(component)
            .and_then(|r| r.namespaces.as_ref())
        else {
            return Ok(());
        };
        let reason = match namespace {
            None => {
                "it is cluster-scoped and the component is restricted to namespaces".to_string()
            }
            Some(ns) if !allowed.iter().any(|a| a == ns) => {
                format!(
                    "namespace `{ns}` is not one of the allowed namespaces ({})",
                    allowed.join(", ")
                )
            }
            Some(_) => return Ok(()),
        };
        Err(ApplyError::Tenant {
            component: component.into(),
            object: object.into(),
            reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restricted_component_cannot_leave_its_namespaces() {
        let policy: TenantPolicy = serde_saphyr::from_str(
            "components:\n  team-a:\n    serviceAccount: team-a/deployer\n    namespaces: [team-a]\n",
        )
        .unwrap();
        assert_eq!(
            policy.user_for("team-a").as_deref(),
            Some("system:serviceaccount:team-a:deployer")
        );
        assert!(
            policy
                .check("team-a", "ConfigMap team-a/x", Some("team-a"))
                .is_ok()
        );
        assert!(policy.check("team-a", "ConfigMap b/x", Some("b")).is_err());
        assert!(policy.check("team-a", "ClusterRole x", None).is_err());
        assert!(policy.check("other", "ClusterRole x", None).is_ok());
    }
}
