//! Options of an apply run (what the CLI flags and the agent configure).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// The target the bundle must be built for (defaults to the bundle's own).
    pub target: Option<String>,
    /// Field manager for server-side apply.
    pub field_manager: String,
    /// Take over fields other managers own (`force=true`).
    pub force_conflicts: bool,
    /// Requests in flight within one wave.
    pub concurrency: usize,
    /// How long a component may take to become healthy.
    pub health_timeout: Duration,
    /// Per-component overrides of `health_timeout`.
    pub component_timeouts: BTreeMap<String, Duration>,
    /// Wait for health after each wave.
    pub wait: bool,
    /// Delete objects of the previous bundle that this one no longer has.
    pub prune: bool,
    /// Plan and apply every object even when the inventory says this very bundle is applied
    /// already (corrects drift). Otherwise such a re-apply only reads the inventory.
    pub correct_drift: bool,
    /// Take over objects that carry another target's ownership label.
    pub adopt: bool,
    /// Apply the previous bundle again when health checks fail.
    pub auto_rollback: bool,
    /// Previous digests kept in the inventory.
    pub history: usize,
    /// Where applied bundles are kept by digest (for rollback and drift).
    pub store: Option<PathBuf>,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            target: None,
            field_manager: "kiln".into(),
            force_conflicts: false,
            concurrency: 8,
            health_timeout: Duration::from_secs(300),
            component_timeouts: BTreeMap::new(),
            wait: true,
            prune: true,
            correct_drift: false,
            adopt: false,
            auto_rollback: false,
            history: crate::inventory::DEFAULT_HISTORY,
            store: None,
        }
    }
}

impl ApplyOptions {
    pub fn timeout_for(&self, component: &str) -> Duration {
        self.component_timeouts
            .get(component)
            .copied()
            .unwrap_or(self.health_timeout)
    }
}
