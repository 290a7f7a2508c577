//! Tenants: a component may act as a service account (impersonated) and may be restricted to
//! namespaces. Both come from the bundle's manifest (`components[].tenancy`, written by the
//! compiler from `service-account` and `namespaces` in `kiln.kdl`), so the policy travels with
//! the verified bundle and no side file can loosen it. Restrictions are checked for every
//! object before anything is written: a restricted component can never create objects in
//! another namespace or at the cluster scope.

use kiln_bundle::{Manifest, Tenancy};
use std::collections::BTreeMap;

/// The tenant rules of one bundle, by component.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TenantPolicy {
    pub components: BTreeMap<String, Tenancy>,
}

/// An object its component may not write, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub component: String,
    pub object: String,
    pub reason: String,
    /// Where the object was declared (`file:line`), when known.
    pub declared_at: Option<String>,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "component `{}` may not write {}: {}",
            self.component, self.object, self.reason
        )?;
        match &self.declared_at {
            Some(at) => write!(f, " (declared at {at})"),
            None => Ok(()),
        }
    }
}

impl TenantPolicy {
    /// The policy a bundle records for its components (unrestricted ones are left out).
    pub fn from_manifest(manifest: &Manifest) -> TenantPolicy {
        TenantPolicy {
            components: manifest
                .components
                .iter()
                .filter(|c| !c.tenancy.is_unrestricted())
                .map(|c| (c.name.clone(), c.tenancy.clone()))
                .collect(),
        }
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
    ) -> Result<(), Violation> {
        let Some(allowed) = self
            .components
            .get(component)
            .and_then(|r| r.namespaces.as_ref())
        else {
            return Ok(());
        };
        let reason = match namespace {
            None => {
                "it is cluster-scoped and the component is restricted to namespaces (".to_string()
                    + &allowed.join(", ")
                    + ")"
            }
            Some(ns) if !allowed.iter().any(|a| a == ns) => {
                format!(
                    "namespace `{ns}` is not one of the component's namespaces ({})",
                    allowed.join(", ")
                )
            }
            Some(_) => return Ok(()),
        };
        Err(Violation {
            component: component.into(),
            object: object.into(),
            reason,
            declared_at: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> TenantPolicy {
        TenantPolicy {
            components: [(
                "team-a".to_string(),
                Tenancy {
                    namespaces: Some(vec!["team-a".into()]),
                    service_account: Some("team-a/deployer".into()),
                },
            )]
            .into_iter()
            .collect(),
        }
    }

    #[test]
    fn restricted_component_cannot_leave_its_namespaces() {
        let policy = policy();
        assert_eq!(
            policy.user_for("team-a").as_deref(),
            Some("system:serviceaccount:team-a:deployer")
        );
        assert!(
            policy
                .check("team-a", "ConfigMap team-a/x", Some("team-a"))
                .is_ok()
        );
        let v = policy
            .check("team-a", "ConfigMap b/x", Some("b"))
            .unwrap_err();
        assert_eq!(
            v.to_string(),
            "component `team-a` may not write ConfigMap b/x: namespace `b` is not one of the component's namespaces (team-a)"
        );
        assert!(
            policy
                .check("team-a", "ClusterRole x", None)
                .unwrap_err()
                .reason
                .starts_with("it is cluster-scoped")
        );
        assert!(policy.check("other", "ClusterRole x", None).is_ok());
        assert_eq!(policy.user_for("other"), None);
    }
}
