//! Prometheus metrics of the agent (text exposition format): reconciles, failures, durations,
//! drifted objects, and the applied bundle.

use std::fmt::Write as _;
use std::sync::Mutex;

#[derive(Debug, Default)]
struct Values {
    reconciles_ok: u64,
    reconciles_failed: u64,
    duration_sum: f64,
    last_duration: f64,
    last_success: f64,
    drifted: u64,
    applied_objects: u64,
    writes: u64,
    digest: String,
    source_ok: u64,
    source_failed: u64,
    source_up: bool,
    pulls: u64,
    source_digest: String,
}

/// Shared between the reconcile loop and the HTTP endpoint.
#[derive(Debug, Default)]
pub struct Metrics(Mutex<Values>);

impl Metrics {
    pub fn record(
        &self,
        ok: bool,
        seconds: f64,
        objects: u64,
        writes: u64,
        drifted: u64,
        digest: &str,
    ) {
        let Ok(mut v) = self.0.lock() else { return };
        if ok {
            v.reconciles_ok += 1;
            v.last_success = chrono::Utc::now().timestamp() as f64;
            v.digest = digest.to_string();
            v.applied_objects = objects;
        } else {
            v.reconciles_failed += 1;
        }
        v.duration_sum += seconds;
        v.last_duration = seconds;
        v.writes += writes;
        v.drifted = drifted;
    }

    /// One check of an OCI source: `ok` when the registry answered and what it named verified,
    /// `pulled` when that was a new artifact, `digest` its manifest digest.
    pub fn record_source(&self, ok: bool, pulled: bool, digest: &str) {
        let Ok(mut v) = self.0.lock() else { return };
        v.source_up = ok;
        if ok {
            v.source_ok += 1;
            v.source_digest = digest.to_string();
        } else {
            v.source_failed += 1;
        }
        if pulled {
            v.pulls += 1;
        }
    }

    pub fn render(&self) -> String {
        let Ok(v) = self.0.lock() else {
            return String::new();
        };
        let mut out = String::new();
        let total = v.reconciles_ok + v.reconciles_failed;
        let _ = writeln!(out, "# HELP kiln_reconciles_total Reconciles by result.");
        let _ = writeln!(out, "# TYPE kiln_reconciles_total counter");
        let _ = writeln!(
            out,
            "kiln_reconciles_total{{result=\"success\"}} {}",
            v.reconciles_ok
        );
        let _ = writeln!(
            out,
            "kiln_reconciles_total{{result=\"failure\"}} {}",
            v.reconciles_failed
        );
        let _ = writeln!(
            out,
            "# HELP kiln_reconcile_duration_seconds Time spent reconciling."
        );
        let _ = writeln!(out, "# TYPE kiln_reconcile_duration_seconds summary");
        let _ = writeln!(
            out,
            "kiln_reconcile_duration_seconds_sum {}",
            v.duration_sum
        );
        let _ = writeln!(out, "kiln_reconcile_duration_seconds_count {total}");
        let _ = writeln!(
            out,
            "# HELP kiln_last_reconcile_duration_seconds Duration of the last reconcile."
        );
        let _ = writeln!(out, "# TYPE kiln_last_reconcile_duration_seconds gauge");
        let _ = writeln!(
            out,
            "kiln_last_reconcile_duration_seconds {}",
            v.last_duration
        );
        let _ = writeln!(
            out,
            "# HELP kiln_last_success_timestamp_seconds When the last reconcile succeeded."
        );
        let _ = writeln!(out, "# TYPE kiln_last_success_timestamp_seconds gauge");
        let _ = writeln!(
            out,
            "kiln_last_success_timestamp_seconds {}",
            v.last_success
        );
        let _ = writeln!(
            out,
            "# HELP kiln_drift_objects Objects corrected because they drifted, in the last reconcile."
        );
        let _ = writeln!(out, "# TYPE kiln_drift_objects gauge");
        let _ = writeln!(out, "kiln_drift_objects {}", v.drifted);
        let _ = writeln!(
            out,
            "# HELP kiln_applied_objects Objects in the applied bundle."
        );
        let _ = writeln!(out, "# TYPE kiln_applied_objects gauge");
        let _ = writeln!(out, "kiln_applied_objects {}", v.applied_objects);
        let _ = writeln!(
            out,
            "# HELP kiln_writes_total Write requests sent to the API server."
        );
        let _ = writeln!(out, "# TYPE kiln_writes_total counter");
        let _ = writeln!(out, "kiln_writes_total {}", v.writes);
        let _ = writeln!(out, "# HELP kiln_bundle_info The applied bundle.");
        let _ = writeln!(out, "# TYPE kiln_bundle_info gauge");
        let _ = writeln!(out, "kiln_bundle_info{{digest=\"{}\"}} 1", v.digest);
        let _ = writeln!(
            out,
            "# HELP kiln_source_checks_total Polls of the OCI bundle source, by result."
        );
        let _ = writeln!(out, "# TYPE kiln_source_checks_total counter");
        let _ = writeln!(
            out,
            "kiln_source_checks_total{{result=\"success\"}} {}",
            v.source_ok
        );
        let _ = writeln!(
            out,
            "kiln_source_checks_total{{result=\"failure\"}} {}",
            v.source_failed
        );
        let _ = writeln!(
            out,
            "# HELP kiln_source_up Whether the last poll of the OCI source succeeded and verified."
        );
        let _ = writeln!(out, "# TYPE kiln_source_up gauge");
        let _ = writeln!(out, "kiln_source_up {}", u8::from(v.source_up));
        let _ = writeln!(
            out,
            "# HELP kiln_source_pulls_total Artifacts pulled and verified because the manifest digest changed."
        );
        let _ = writeln!(out, "# TYPE kiln_source_pulls_total counter");
        let _ = writeln!(out, "kiln_source_pulls_total {}", v.pulls);
        let _ = writeln!(
            out,
            "# HELP kiln_source_info The manifest the OCI source named last."
        );
        let _ = writeln!(out, "# TYPE kiln_source_info gauge");
        let _ = writeln!(out, "kiln_source_info{{digest=\"{}\"}} 1", v.source_digest);
        out
    }
}
