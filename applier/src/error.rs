//! The applier's diagnostics: every failure says what went wrong, where, and what to do next.

use miette::Diagnostic;
use thiserror::Error;

use crate::tenants::Violation;

/// ` (and N more)` for lists reported by their first item.
fn more(n: usize) -> String {
    if n > 1 {
        format!(" (and {} more)", n - 1)
    } else {
        String::new()
    }
}

/// An error answer from the API server (or the transport below it).
#[derive(Debug, Clone, Error)]
pub enum KubeError {
    #[error("{method} {path}: {message} ({reason}, HTTP {code})")]
    Api {
        method: String,
        path: String,
        code: u16,
        reason: String,
        message: String,
        /// `field: message` for every cause the server listed.
        causes: Vec<String>,
    },
    #[error("{method} {path}: cannot reach the API server: {message}")]
    Transport {
        method: String,
        path: String,
        message: String,
    },
}

impl KubeError {
    pub fn code(&self) -> Option<u16> {
        match self {
            KubeError::Api { code, .. } => Some(*code),
            KubeError::Transport { .. } => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.code() == Some(404)
    }

    /// A server-side apply conflict with another field manager.
    pub fn is_field_conflict(&self) -> bool {
        matches!(self, KubeError::Api { code: 409, message, .. } if message.starts_with("Apply failed"))
    }

    /// Worth retrying: the request may succeed unchanged a moment later.
    pub fn is_transient(&self) -> bool {
        match self {
            KubeError::Transport { .. } => true,
            KubeError::Api { code, .. } => {
                matches!(code, 429 | 500 | 502 | 503 | 504)
                    || (*code == 409 && !self.is_field_conflict())
            }
        }
    }
}

/// Everything `kiln-applier` can fail with.
#[derive(Debug, Error, Diagnostic)]
pub enum ApplyError {
    #[error("cannot use the bundle at {path}")]
    #[diagnostic(
        code(kiln::applier::bundle),
        help(
            "nothing was sent to the cluster; rebuild the bundle with `kiln build` or fetch it again"
        )
    )]
    Bundle {
        path: String,
        #[source]
        #[diagnostic_source]
        source: kiln_bundle::BundleError,
    },

    #[error("cannot load the cluster configuration: {message}")]
    #[diagnostic(
        code(kiln::applier::kubeconfig),
        help("pass --kubeconfig and --context, set KUBECONFIG, or run inside a cluster")
    )]
    Config { message: String },

    #[error("the bundle is for target `{bundle}` but `{requested}` was requested")]
    #[diagnostic(
        code(kiln::applier::target),
        help("build the bundle for `{requested}` or pass --target {bundle}")
    )]
    TargetMismatch { bundle: String, requested: String },

    #[error("the inventory {namespace}/{name} belongs to {owner}, not to {ours}")]
    #[diagnostic(
        code(kiln::applier::inventory_owner),
        help(
            "two targets map to the same inventory; nothing was written and nothing was pruned. Rename one target, or delete the stale inventory if it is really unused"
        )
    )]
    ForeignInventory {
        namespace: String,
        name: String,
        owner: String,
        ours: String,
    },

    #[error("the inventory {namespace}/{name} cannot be read: {message}")]
    #[diagnostic(
        code(kiln::applier::inventory),
        help("fix or delete the inventory ConfigMap; nothing was written")
    )]
    BadInventory {
        namespace: String,
        name: String,
        message: String,
    },

    #[error("the plan failed for {} object(s); nothing was written and nothing was pruned", problems.len())]
    #[diagnostic(code(kiln::applier::plan), help("{}", problems.join("\n")))]
    Plan { problems: Vec<String> },

    #[error("{}{}; nothing was written", violations[0], more(violations.len()))]
    #[diagnostic(
        code(kiln::applier::tenant),
        help(
            "{}\nthe component's `namespaces` in kiln.kdl restrict where it may write (and forbid cluster-scoped objects): move these objects into an allowed namespace, or into an unrestricted component",
            violations.iter().map(|v| v.to_string()).collect::<Vec<_>>().join("\n")
        )
    )]
    Tenant { violations: Vec<Violation> },

    #[error("applying {object} failed: {source}")]
    #[diagnostic(
        code(kiln::applier::apply),
        help(
            "objects applied before this one stay applied and are recorded in the inventory; fix the cause and run again, the next run converges"
        )
    )]
    Apply {
        object: String,
        #[source]
        source: KubeError,
    },

    #[error("{message}")]
    #[diagnostic(
        code(kiln::applier::cluster),
        help("check that the API server is reachable and retry; a re-run converges")
    )]
    Cluster {
        message: String,
        #[source]
        source: KubeError,
    },

    #[error("component `{component}` did not become healthy within {timeout_s}s")]
    #[diagnostic(code(kiln::applier::health), help("{}", not_ready.join("\n")))]
    Unhealthy {
        component: String,
        timeout_s: u64,
        not_ready: Vec<String>,
    },

    #[error("component `{component}` failed: {}", failed.join("; "))]
    #[diagnostic(
        code(kiln::applier::failed),
        help("look at the object's status and events; fix and apply again")
    )]
    Failed {
        component: String,
        failed: Vec<String>,
    },

    #[error("health checks failed; rolled back to {digest}")]
    #[diagnostic(
        code(kiln::applier::rolled_back),
        help("the new bundle was not healthy: {cause}")
    )]
    RolledBack {
        digest: String,
        #[source]
        cause: Box<ApplyError>,
    },

    #[error("no bundle with digest {digest} in the history of target `{target}`")]
    #[diagnostic(code(kiln::applier::rollback), help("known digests: {}", known.join(", ")))]
    UnknownRevision {
        target: String,
        digest: String,
        known: Vec<String>,
    },

    #[error("the bundle {digest} is not in the bundle store {store}")]
    #[diagnostic(
        code(kiln::applier::store),
        help(
            "the store keeps every bundle this applier applied; pass --store pointing at it, or the bundle itself with --bundle"
        )
    )]
    NotStored { digest: String, store: String },

    #[error("target `{target}` has no inventory: nothing was applied to it yet")]
    #[diagnostic(
        code(kiln::applier::no_inventory),
        help("run `kiln-applier apply` first")
    )]
    NoInventory { target: String },

    /// Pulling the bundle from a registry failed, or what was pulled did not verify.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Oci(#[from] kiln_oci::OciError),

    #[error("{message}")]
    #[diagnostic(code(kiln::applier::io))]
    Io {
        message: String,
        #[source]
        source: std::io::Error,
    },
}

impl ApplyError {
    /// The process exit code: 2 when the input (bundle, reference, target, policy) is wrong and
    /// nothing was written, 1 for failures of the cluster, the registry or the rollout.
    pub fn exit_code(&self) -> u8 {
        match self {
            ApplyError::Bundle { .. }
            | ApplyError::TargetMismatch { .. }
            | ApplyError::Tenant { .. }
            | ApplyError::Config { .. }
            | ApplyError::UnknownRevision { .. } => 2,
            ApplyError::Oci(e) => e.exit_code(),
            _ => 1,
        }
    }
}

pub type Result<T, E = ApplyError> = std::result::Result<T, E>;
